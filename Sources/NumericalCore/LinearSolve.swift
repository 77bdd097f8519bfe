import CLAPACKE

extension Matrix {
    /// Solves `A·X = B` for a general square `A` by LU with partial pivoting (LAPACK `dgesv`).
    /// - Throws: ``LinearAlgebraError/singular(pivot:)`` for an exactly singular matrix.
    public func solve(_ b: Matrix) throws -> Matrix {
        guard isSquare, b.rows == rows else {
            throw LinearAlgebraError.shapeMismatch(
                "solve with a \(rows)×\(columns) matrix and a \(b.rows)×\(b.columns) right side")
        }
        let n = rows
        var a = self
        var x = b
        if n == 0 || b.columns == 0 { return x }
        var pivots = [Int32](repeating: 0, count: n)
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            x.elements.withUnsafeMutableBufferPointer { px in
                pivots.withUnsafeMutableBufferPointer { pp in
                    LAPACKE_dgesv(
                        LAPACK_ROW_MAJOR, Int32(n), Int32(b.columns), pa.baseAddress, Int32(n),
                        pp.baseAddress, px.baseAddress, Int32(b.columns))
                }
            }
        }
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dgesv", info: info) }
        return x
    }

    /// Solves `A·x = b` for one right-hand side.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, elements: b)).elements
    }

    /// `A⁻¹` for a general square matrix (by `dgesv` against the identity).
    public func inverse() throws -> Matrix {
        try solve(Matrix.identity(rows))
    }
}

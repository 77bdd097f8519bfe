import COpenBLAS

extension Matrix {
    /// Solves `A·X = B` for a general square `A` by LU with partial pivoting (LAPACK `dgetrf`,
    /// `dgetrs`).
    ///
    /// LAPACK is column-major, so the row-major buffer it factorises is `Aᵀ`; solving with the
    /// transposed factor (`"T"`) gives `A·X = B`.
    /// - Throws: ``LinearAlgebraError/singular(pivot:)`` for an exactly singular matrix.
    public func solve(_ b: Matrix) throws -> Matrix {
        guard isSquare, b.rows == rows else {
            throw LinearAlgebraError.shapeMismatch(
                "solve with a \(rows)×\(columns) matrix and a \(b.rows)×\(b.columns) right side")
        }
        if rows == 0 || b.columns == 0 { return b }
        var a = self
        var x = b.columns == 1 ? b : b.transposed
        var n = Int32(rows)
        var columns = Int32(b.columns)
        var info: Int32 = 0
        var pivots = [Int32](repeating: 0, count: rows)
        a.elements.withUnsafeMutableBufferPointer { pa in
            pivots.withUnsafeMutableBufferPointer { pp in
                dgetrf_(&n, &n, pa.baseAddress, &n, pp.baseAddress, &info)
                guard info == 0 else { return }
                x.elements.withUnsafeMutableBufferPointer { px in
                    dgetrs_("T", &n, &columns, pa.baseAddress, &n, pp.baseAddress, px.baseAddress, &n, &info, 1)
                }
            }
        }
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dgetrf/dgetrs", info: info) }
        return b.columns == 1 ? x : try Matrix(rows: b.rows, columns: b.columns, elements: x.transposed.elements)
    }

    /// Solves `A·x = b` for one right-hand side.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, elements: b)).elements
    }

    /// `A⁻¹` for a general square matrix (solving against the identity).
    public func inverse() throws -> Matrix {
        try solve(Matrix.identity(rows))
    }
}

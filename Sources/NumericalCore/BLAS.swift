import COpenBLAS

extension Matrix {
    /// `C ← α·op(A)·op(B) + β·C` by BLAS `dgemm`.
    ///
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` if the shapes do not chain.
    public static func multiply(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Double = 1, beta: Double = 0, into c: inout Matrix
    ) throws {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        guard k == kb, c.rows == m, c.columns == n else {
            throw LinearAlgebraError.shapeMismatch(
                "op(A) is \(m)×\(k), op(B) is \(kb)×\(n), C is \(c.rows)×\(c.columns)")
        }
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in c.elements.indices { c.elements[i] *= beta }
            return
        }
        a.elements.withUnsafeBufferPointer { pa in
            b.elements.withUnsafeBufferPointer { pb in
                c.elements.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(
                        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha,
                        pa.baseAddress, Int32(a.columns), pb.baseAddress, Int32(b.columns),
                        beta, pc.baseAddress, Int32(n))
                }
            }
        }
    }

    /// The product `A·B` (BLAS `dgemm`).
    public static func * (a: Matrix, b: Matrix) throws -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        try multiply(a, b, into: &c)
        return c
    }

    /// The matrix–vector product `A·x` (BLAS `dgemv`).
    public func times(_ x: [Double]) throws -> [Double] {
        guard x.count == columns else {
            throw LinearAlgebraError.shapeMismatch("a \(rows)×\(columns) matrix times a vector of length \(x.count)")
        }
        var y = [Double](repeating: 0, count: rows)
        if rows == 0 || columns == 0 { return y }
        elements.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_dgemv(
                        CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1,
                        pa.baseAddress, Int32(columns), px.baseAddress, 1, 0, py.baseAddress, 1)
                }
            }
        }
        return y
    }
}

/// The dot product `⟨x, y⟩` (BLAS `ddot`).
public func dot(_ x: [Double], _ y: [Double]) throws -> Double {
    guard x.count == y.count else {
        throw LinearAlgebraError.shapeMismatch("dot of vectors of length \(x.count) and \(y.count)")
    }
    return x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in cblas_ddot(Int32(x.count), px.baseAddress, 1, py.baseAddress, 1) }
    }
}

/// The BLAS library in use, for benchmark reports.
public enum BLASInfo {
    /// The number of threads OpenBLAS uses (`OPENBLAS_NUM_THREADS`, or the core count).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
    /// Sets the number of OpenBLAS threads for this process.
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

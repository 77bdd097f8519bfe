import COpenBLAS

/// The Cholesky factorisation `A = L·Lᵀ` of a symmetric positive-definite matrix (LAPACK `dpotrf`).
///
/// LAPACK is column-major: a row-major buffer is the transpose, so the row-major lower triangle
/// is LAPACK's upper (`"U"`), and `A = Uᵀ·U` there is `L·Lᵀ` here.
///
/// Used for information-form Gaussians: solving `J·μ = h` for the mean, forming `J⁻¹` for the
/// marginal covariance, and `log det J`.
public struct Cholesky: Sendable {
    /// The lower-triangular factor `L`, row-major, with zeros above the diagonal.
    public let lower: Matrix

    /// Factorises `a`, which must be square and symmetric positive definite (only its lower
    /// triangle is read).
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` for a non-square matrix,
    ///   ``LinearAlgebraError/notPositiveDefinite(pivot:)`` when a pivot is not positive.
    public init(_ a: Matrix) throws {
        guard a.isSquare else {
            throw LinearAlgebraError.shapeMismatch("Cholesky needs a square matrix, got \(a.rows)×\(a.columns)")
        }
        let n = a.rows
        var l = a
        if n > 0 {
            var order = Int32(n)
            var info: Int32 = 0
            l.elements.withUnsafeMutableBufferPointer { p in dpotrf_(upper, &order, p.baseAddress, &order, &info, 1) }
            if info > 0 { throw LinearAlgebraError.notPositiveDefinite(pivot: Int(info)) }
            if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dpotrf", info: info) }
        }
        for i in 0..<n { for j in (i + 1)..<n where j < n { l.elements[i * n + j] = 0 } }
        lower = l
    }

    /// The order of the factorised matrix.
    public var order: Int { lower.rows }

    /// `log det A = 2 Σ log Lᵢᵢ`.
    public var logDeterminant: Double {
        var s = 0.0
        for i in 0..<order { s += log(lower.elements[i * order + i]) }
        return 2 * s
    }

    /// Solves `A·X = B` for the columns of `b` (LAPACK `dpotrs`).
    public func solve(_ b: Matrix) throws -> Matrix {
        guard b.rows == order else {
            throw LinearAlgebraError.shapeMismatch(
                "solve with a \(order)×\(order) factor and a right side with \(b.rows) rows")
        }
        if order == 0 || b.columns == 0 { return b }
        // Column-major right sides: the columns of B, one after another.
        var x = b.columns == 1 ? b : b.transposed
        var n = Int32(order)
        var columns = Int32(b.columns)
        var info: Int32 = 0
        lower.elements.withUnsafeBufferPointer { pl in
            x.elements.withUnsafeMutableBufferPointer { px in
                dpotrs_(upper, &n, &columns, pl.baseAddress, &n, px.baseAddress, &n, &info, 1)
            }
        }
        if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dpotrs", info: info) }
        return b.columns == 1 ? x : try Matrix(rows: b.rows, columns: b.columns, elements: x.transposed.elements)
    }

    /// Solves `A·x = b` for one right-hand side.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, elements: b)).elements
    }

    /// `A⁻¹` (LAPACK `dpotri`, symmetrised).
    public func inverse() throws -> Matrix {
        let n = order
        var inv = lower
        if n == 0 { return inv }
        var order = Int32(n)
        var info: Int32 = 0
        inv.elements.withUnsafeMutableBufferPointer { p in dpotri_(upper, &order, p.baseAddress, &order, &info, 1) }
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dpotri", info: info) }
        for i in 0..<n { for j in (i + 1)..<n where j < n { inv.elements[i * n + j] = inv.elements[j * n + i] } }
        return inv
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// LAPACK's name for the triangle that holds the row-major lower factor.
private let upper = "U"

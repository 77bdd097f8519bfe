import CLAPACKE

/// The Cholesky factorisation `A = L·Lᵀ` of a symmetric positive-definite matrix (LAPACK `dpotrf`).
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
            let info = l.elements.withUnsafeMutableBufferPointer { p in
                LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), p.baseAddress, Int32(n))
            }
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
        var x = b
        if order == 0 || b.columns == 0 { return x }
        let info = lower.elements.withUnsafeBufferPointer { pl in
            x.elements.withUnsafeMutableBufferPointer { px in
                LAPACKE_dpotrs(
                    LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(order), Int32(b.columns),
                    pl.baseAddress, Int32(order), px.baseAddress, Int32(b.columns))
            }
        }
        if info < 0 { throw LinearAlgebraError.lapackArgument(routine: "dpotrs", info: info) }
        return x
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
        let info = inv.elements.withUnsafeMutableBufferPointer { p in
            LAPACKE_dpotri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), p.baseAddress, Int32(n))
        }
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

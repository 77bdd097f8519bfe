import COpenBLAS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The floating-point types the dense kernels run in: `Float` (OpenBLAS `sgemm`) for the convnet
/// and training, `Double` (`dgemm`) for exact inference and the gradient checks. Code written
/// once, generic over this protocol, is specialised by the compiler for each.
public protocol BLASScalar: BinaryFloatingPoint, Sendable, Codable {
    /// `C ← α·op(A)·op(B) + β·C`, row-major.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// `eˣ`.
    static func exponential(_ x: Self) -> Self
    /// `ln x`.
    static func logarithm(_ x: Self) -> Self
    /// `ln(1 + x)`, accurate for small `x`.
    static func logarithmOnePlus(_ x: Self) -> Self
}

extension Float: BLASScalar {
    /// `C ← α·op(A)·op(B) + β·C` by OpenBLAS `sgemm` (nothing when a size is zero).
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inlinable public static func exponential(_ x: Float) -> Float { exp(x) }
    @inlinable public static func logarithm(_ x: Float) -> Float { log(x) }
    @inlinable public static func logarithmOnePlus(_ x: Float) -> Float { log1p(x) }
}

extension Double: BLASScalar {
    /// `C ← α·op(A)·op(B) + β·C` by OpenBLAS `dgemm` (nothing when a size is zero).
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inlinable public static func exponential(_ x: Double) -> Double { exp(x) }
    @inlinable public static func logarithm(_ x: Double) -> Double { log(x) }
    @inlinable public static func logarithmOnePlus(_ x: Double) -> Double { log1p(x) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Log-domain arithmetic that treats `-∞` (log 0) as a first-class value and never makes NaN
/// from it.
public enum LogSpace {
    /// `log(eᵃ + eᵇ)`, exact for `-∞` operands.
    @inlinable
    public static func add(_ a: Double, _ b: Double) -> Double {
        let m = a > b ? a : b
        if m == -.infinity { return -.infinity }
        let d = a > b ? b - a : a - b
        return m + log1p(exp(d))
    }

    /// `log Σ exp(xᵢ)` over a buffer, exact for all-`-∞` input (gives `-∞`).
    @inlinable
    public static func sum(_ x: UnsafeBufferPointer<Double>) -> Double {
        var m = -Double.infinity
        for v in x where v > m { m = v }
        if m == -.infinity || m == .infinity { return m }
        var s = 0.0
        for v in x { s += exp(v - m) }
        return m + log(s)
    }

    /// `log Σ exp(xᵢ)` over an array.
    @inlinable
    public static func sum(_ x: [Double]) -> Double {
        x.withUnsafeBufferPointer { sum($0) }
    }

    /// `p log p` with `0 log 0 = 0`, written in terms of `log p`.
    @inlinable
    public static func entropyTerm(logP: Double) -> Double {
        logP == -.infinity ? 0 : exp(logP) * logP
    }
}

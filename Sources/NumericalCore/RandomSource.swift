import CGSL

/// A seeded Mersenne-Twister generator (GSL `gsl_rng_mt19937`) with GSL's samplers.
///
/// Deterministic given its seed on every platform, so that tests, examples and training runs
/// are reproducible. Conforms to `RandomNumberGenerator`, so it also drives the standard
/// library's `Int.random(in:using:)` and `shuffle(using:)`.
public final class RandomSource: RandomNumberGenerator {
    private let rng: UnsafeMutablePointer<gsl_rng>

    /// A generator seeded with `seed`.
    public init(seed: UInt64) {
        cgsl_disable_abort_on_error()
        // gsl_rng_alloc returns nil only when out of memory.
        guard let r = gsl_rng_alloc(cgsl_rng_mt19937()) else {
            preconditionFailure("gsl_rng_alloc: out of memory")
        }
        rng = r
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    /// 64 random bits (two 32-bit MT19937 outputs).
    public func next() -> UInt64 {
        let hi = UInt64(gsl_rng_get(rng) & 0xFFFF_FFFF)
        let lo = UInt64(gsl_rng_get(rng) & 0xFFFF_FFFF)
        return (hi << 32) | lo
    }

    /// A uniform draw from [0, 1).
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// A uniform draw from [a, b).
    public func uniform(_ a: Double, _ b: Double) -> Double { gsl_ran_flat(rng, a, b) }

    /// A draw from N(mean, σ²) (GSL's ziggurat sampler).
    public func gaussian(mean: Double = 0, standardDeviation sigma: Double = 1) -> Double {
        mean + gsl_ran_gaussian_ziggurat(rng, sigma)
    }

    /// A uniform integer in `0..<n`.
    public func integer(below n: Int) -> Int {
        Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// An index drawn from the (unnormalised, non-negative) weights.
    public func categorical(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.lastIndex(where: { $0 > 0 }) ?? 0
    }

    /// Shuffles `a` in place (Fisher–Yates with GSL's uniform integers).
    public func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, integer(below: i + 1)) }
    }
}

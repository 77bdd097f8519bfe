#if canImport(Glibc)
import Glibc
#endif

extension DeepRenderingMixtureModel {
    /// The switch prior `π_ON` a level's convnet biases stand for: the logistic of their mean
    /// (log-odds clamped to ±30, so that `π_ON` stays inside (0, 1)).
    public static func switchPrior(relaxedBiases bias: [Double]) -> Double {
        let mean = bias.isEmpty ? 0 : bias.reduce(0, +) / Double(bias.count)
        return 1 / (1 + exp(-min(max(mean, -30), 30)))
    }

    /// Sets level `l`'s convnet biases so that ``unitBias(level:)`` equals `bias`: what the
    /// level's switch prior does not explain stays as per-channel bias.
    public mutating func setUnitBias(level l: Int, to bias: [Double]) {
        let prior = switchLogOdds(level: l)
        convBias[l] = bias.map { $0 - prior }
    }

    /// The class prior `π_c ∝ exp(b_c)` that class biases stand for (σ² = 1): the posterior
    /// scores then differ by exactly the biases' differences.
    public static func classPrior(relaxedBiases bias: [Double]) -> [Double] {
        let m = bias.max() ?? 0
        let e = bias.map { exp($0 - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }
}

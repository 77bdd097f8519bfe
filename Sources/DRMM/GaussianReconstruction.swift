/// A configuration found by ``DeepRenderingMixtureModel/gaussianMAP(_:from:maximumSweeps:)``.
public struct GaussianMAP: Sendable {
    /// The class of the best configuration found.
    public let predictedClass: Int
    /// Its nuisances.
    public let nuisances: Nuisances
    /// Per class, the best `⟨μ_cg, I⟩ − ‖μ_cg‖²/2 + P(c, g)` found (units of σ²).
    public let classScores: [Double]
    /// Coordinate-ascent sweeps run (over all classes).
    public let sweeps: Int
}

extension DeepRenderingMixtureModel {
    /// The Gaussian-likelihood score of a configuration in units of σ²:
    /// `⟨μ_cg, I⟩ − ‖μ_cg‖²/2 + P(c, g)`, i.e. `σ²·ln p(I, c, g)` up to `σ² ln π_c` and terms
    /// common to every configuration. Unlike the linear score it keeps the quadratic term
    /// (spec E4), so it does not favour switching on every unit with a positive response.
    public func gaussianScore(_ image: Tensor, class c: Int, nuisances g: Nuisances) throws -> Double {
        let levels = try renderLevels(class: c, nuisances: g)
        let mu = levels[levels.count - 1]
        return mu.dot(image) - mu.dot(mu) / 2 + priorScore(levels: levels, nuisances: g)
    }

    /// An approximate Gaussian-likelihood MAP configuration: for every class, coordinate ascent
    /// on ``gaussianScore(_:class:nuisances:)`` from the bottom-up max-sum configuration, each
    /// unit in turn (top level first) moved to its best `(t, a)` with the others fixed, until a
    /// sweep changes nothing or `maximumSweeps` is reached; then the class maximising the score
    /// plus `σ² ln π_c`. Every step can only raise the score, so the result is at least as
    /// likely as the max-sum configuration (spec E4: max-sum maximises the linear score, which
    /// drops `−‖μ_cg‖²/2σ²`).
    public func gaussianMAP(_ image: Tensor, from inference: BottomUpInference, maximumSweeps: Int = 10) throws -> GaussianMAP {
        try check(image)
        var best: (c: Int, g: Nuisances, posterior: Double)?
        var scores: [Double] = []
        var sweeps = 0
        for c in 0..<classCount {
            var g = inference.nuisances
            var current = try gaussianScore(image, class: c, nuisances: g)
            for _ in 0..<maximumSweeps {
                sweeps += 1
                var changed = false
                for l in stride(from: geometry.count - 1, through: 0, by: -1) {
                    let window = geometry[l].pool * geometry[l].pool
                    for u in 0..<g.switches[l].count {
                        let (t0, a0) = (g.translations[l][u], g.switches[l][u])
                        var (bt, ba) = (t0, a0)
                        for a in [false, true] {
                            for t in 0..<(a ? window : 1) where (t, a) != (t0, a0) && (a || a0) {
                                g.translations[l][u] = a ? t : t0
                                g.switches[l][u] = a
                                let s = try gaussianScore(image, class: c, nuisances: g)
                                if s > current + 1e-12 * max(1, abs(current)) { current = s; (bt, ba) = (g.translations[l][u], a); changed = true }
                            }
                        }
                        g.translations[l][u] = bt
                        g.switches[l][u] = ba
                    }
                }
                if !changed { break }
            }
            scores.append(current)
            let posterior = current + noiseVariance * log(classPrior[c])
            if best == nil || posterior > best!.posterior { best = (c, g, posterior) }
        }
        return GaussianMAP(predictedClass: best!.c, nuisances: best!.g, classScores: scores, sweeps: sweeps)
    }
}

#if canImport(Glibc)
import Glibc
#endif

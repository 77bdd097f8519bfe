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
    public func gaussianMAP(_ image: Tensor, from inference: BottomUpInference, maximumSweeps: Int = 10) throws
        -> GaussianMAP
    {
        try check(image)
        var best: (c: Int, g: Nuisances, posterior: Double)?
        var scores: [Double] = []
        var sweeps = 0
        for c in 0..<classCount {
            var g = inference.nuisances
            var current = try gaussianScore(image, class: c, nuisances: g)
            let units = geometry.indices.reversed().flatMap { l in
                (0..<g.switches[l].count).map { (level: l, unit: $0) }
            }
            for _ in 0..<maximumSweeps {
                sweeps += 1
                let step = try improvingUnits(g, score: current, units: units) {
                    try self.gaussianScore(image, class: c, nuisances: $0)
                }
                (g, current) = (step.nuisances, step.score)
                if !step.changed { break }
            }
            scores.append(current)
            let posterior = current + noiseVariance * log(classPrior[c])
            if best == nil || posterior > best!.posterior { best = (c, g, posterior) }
        }
        return GaussianMAP(predictedClass: best!.c, nuisances: best!.g, classScores: scores, sweeps: sweeps)
    }
}

extension DeepRenderingMixtureModel {
    /// One coordinate-ascent pass: each of `units` in turn moved to the `(t, a)` that maximises
    /// `objective` with every other unit fixed (an OFF unit keeps its translation). Returns the
    /// configuration, its score (`score` is that of `g`), and whether anything moved.
    public func improvingUnits(
        _ g: Nuisances, score: Double, units: [(level: Int, unit: Int)],
        objective: (Nuisances) throws -> Double
    ) rethrows -> (nuisances: Nuisances, score: Double, changed: Bool) {
        var g = g, current = score, changed = false
        for (l, u) in units {
            let window = geometry[l].pool * geometry[l].pool
            let (t0, a0) = (g.translations[l][u], g.switches[l][u])
            var (bt, ba) = (t0, a0)
            for a in [false, true] {
                for t in 0..<(a ? window : 1) where (a ? t : t0, a) != (t0, a0) {
                    g.translations[l][u] = a ? t : t0
                    g.switches[l][u] = a
                    let s = try objective(g)
                    if s > current + 1e-12 * max(1, abs(current)) {
                        current = s; (bt, ba) = (g.translations[l][u], a); changed = true
                    }
                }
            }
            g.translations[l][u] = bt
            g.switches[l][u] = ba
        }
        return (g, current, changed)
    }
}

#if canImport(Glibc)
import Glibc
#endif

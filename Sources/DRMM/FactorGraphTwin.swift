import FactorGraph
#if canImport(Glibc)
import Glibc
#endif

/// The DRMM written as a generic `FactorGraph`: the class, every unit's translation and
/// switch as categorical variables, and the image as the Gaussian child of one
/// `ConditionalGaussianFactor` whose mean `μ_cg` is rendered for every joint configuration
/// (by the sum-over-paths form). Solving it with the generic max-sum engine is an independent
/// oracle for ``DeepRenderingMixtureModel/infer(_:)`` on tiny models: every configuration sits
/// in one table, which the engine maximises by scanning it, so it cannot reach a real network.
///
/// The log-joint is `ln π_c + P(c, g)/σ²` (``DeepRenderingMixtureModel/priorScore(class:nuisances:)``:
/// the switch priors and biases, weighted by each unit's rendering coefficient) plus the
/// Gaussian likelihood `⟨μ_cg, I⟩/σ² − ‖μ_cg‖²/2σ² − ‖I‖²/2σ² − (D/2) ln 2πσ²`. The
/// bottom-up theorem is about the *linear score* (spec E4), so ``Objective/linearScore`` adds a
/// factor `+‖μ_cg‖²/2σ²` over the same variables; ``Objective/gaussianLikelihood`` leaves the
/// quadratic term in, which is where the equality stops holding.
public struct DRMMFactorGraph {
    /// What the factor graph scores: the linear max-sum score of spec E4, or the Gaussian
    /// log-likelihood of the image.
    public enum Objective: Sendable { case linearScore, gaussianLikelihood }

    /// The factor graph over the class, the nuisances and the pixels.
    public let graph: FactorGraph
    /// The image, as evidence on the pixel variables.
    public let evidence: Evidence
    /// The class variable.
    public let classVariable: VariableID
    /// Per level, per pooled unit: its translation variable.
    public let translationVariables: [[VariableID]]
    /// Per level, per pooled unit: its switch variable (state 1 = ON).
    public let switchVariables: [[VariableID]]
    /// The observed image variable.
    public let imageVariable: VariableID
    /// `−‖I‖²/2σ² − (D/2) ln 2πσ²`: the part of every configuration's log score that depends on
    /// the image alone.
    public let observationLogConstant: Double

    /// The nuisances of a full assignment of the graph's variables.
    public func nuisances(from states: [Int]) -> Nuisances {
        Nuisances(
            translations: translationVariables.map { $0.map { states[$0] } },
            switches: switchVariables.map { $0.map { states[$0] == 1 } })
    }
}

extension DeepRenderingMixtureModel {
    /// The number of joint configurations `(c, g)` of the model.
    public func configurationCount() -> Double {
        var n = Double(classCount)
        for g in geometry { n *= pow(Double(2 * g.pool * g.pool), Double(g.pooled.reduce(1, *))) }
        return n
    }

    /// Builds the model as a factor graph observing `image`; refuses more than
    /// `maximumConfigurations` joint configurations (the mixture's table is that large).
    public func factorGraph(
        observing image: Tensor, objective: DRMMFactorGraph.Objective,
        maximumConfigurations: Int = 1 << 20
    ) throws -> DRMMFactorGraph {
        try validate()
        try check(image)
        guard configurationCount() <= Double(maximumConfigurations) else {
            throw DRMMError.tooLarge(
                "\(configurationCount()) rendering configurations; the factor-graph twin enumerates at most "
                    + "\(maximumConfigurations)"
            )
        }
        var g = FactorGraph()
        let c = g.addCategorical(cardinality: classCount, name: "class")
        var tv: [[VariableID]] = [], av: [[VariableID]] = []
        var parents = [c]
        for (l, geo) in geometry.enumerated() {
            let units = geo.pooled.reduce(1, *)
            var ts: [VariableID] = [], as_: [VariableID] = []
            for u in 0..<units {
                let t = g.addCategorical(cardinality: geo.pool * geo.pool, name: "t\(l + 1)_\(u)")
                let a = g.addCategorical(cardinality: 2, name: "a\(l + 1)_\(u)")
                ts.append(t); as_.append(a); parents += [t, a]
            }
            tv.append(ts); av.append(as_)
        }
        let y = try g.addGaussian(dimension: inputSize, name: "image")
        // The class prior; the switch priors and biases enter with every configuration below.
        try g.addFactor(scope: [c], values: classPrior)
        // Every joint configuration, row-major over `parents` (first most significant).
        let cards = parents.map { g.cardinalities[$0] }
        let total = cards.reduce(1, *)
        var means: [[Double]] = [], compensation: [Double] = [], prior: [Double] = []
        means.reserveCapacity(total)
        var states = [Int](repeating: 0, count: parents.count)
        let tmp = DRMMFactorGraph(
            graph: g, evidence: Evidence(), classVariable: c, translationVariables: tv,
            switchVariables: av, imageVariable: y, observationLogConstant: 0)
        var full = [Int](repeating: 0, count: g.variableCount)
        for _ in 0..<total {
            for (i, v) in parents.enumerated() { full[v] = states[i] }
            let nuisances = tmp.nuisances(from: full)
            let mu = try renderBySumOverPaths(class: full[c], nuisances: nuisances).elements
            means.append(mu)
            compensation.append(mu.reduce(0) { $0 + $1 * $1 } / (2 * noiseVariance))
            prior.append(try priorScore(class: full[c], nuisances: nuisances) / noiseVariance)
            var i = parents.count - 1
            while i >= 0 { states[i] += 1; if states[i] < cards[i] { break }; states[i] = 0; i -= 1 }
        }
        try g.addConditionalGaussian(
            child: y, parents: parents, means: means, covariance: .isotropic(variance: noiseVariance))
        // One factor over the configuration (two over the same scope would form a cycle).
        let configurationTerm = objective == .linearScore ? zip(compensation, prior).map { $0 + $1 } : prior
        if configurationTerm.contains(where: { $0 != 0 }) {
            try g.addFactor(scope: parents, logValues: configurationTerm)
        }
        let constant =
            -image.elements.reduce(0) { $0 + $1 * $1 } / (2 * noiseVariance)
            - 0.5 * Double(inputSize) * log(2 * Double.pi * noiseVariance)
        return DRMMFactorGraph(
            graph: g, evidence: Evidence(observations: [y: image.elements]), classVariable: c,
            translationVariables: tv, switchVariables: av, imageVariable: y,
            observationLogConstant: constant)
    }

    /// Exhaustive search over every rendering path: for each class, `max_g ⟨μ_cg, I⟩ + P(c, g)`
    /// (the linear score with the priors, `P` = ``priorScore(class:nuisances:)``) or
    /// `max_g ⟨μ_cg, I⟩ + P(c, g) − ‖μ_cg‖²/2` (with `quadratic`), and the argmax `g`
    /// (first found on ties, in the order level 1 unit 0 first). Templates come from the
    /// recursive form, independently of the factor-graph twin.
    public func bruteForceMaxScores(_ image: Tensor, quadratic: Bool = false, maximumConfigurations: Int = 1 << 20)
        throws -> [(score: Double, nuisances: Nuisances)]
    {
        try validate()
        try check(image)
        guard configurationCount() <= Double(maximumConfigurations) else {
            throw DRMMError.tooLarge(
                "\(configurationCount()) rendering configurations; brute force enumerates at most "
                    + "\(maximumConfigurations)"
            )
        }
        let unitsPerLevel = geometry.map { $0.pooled.reduce(1, *) }
        var results: [(Double, Nuisances)] = []
        for c in 0..<classCount {
            var g = Nuisances(
                translations: unitsPerLevel.map { [Int](repeating: 0, count: $0) },
                switches: unitsPerLevel.map { [Bool](repeating: false, count: $0) })
            var best = -Double.infinity
            var bestG = g
            enumerate: while true {
                let mu = try render(class: c, nuisances: g)
                var s = mu.dot(image) + (try priorScore(class: c, nuisances: g))
                if quadratic { s -= mu.dot(mu) / 2 }
                if s > best { best = s; bestG = g }
                // Advance the odometer: per unit, (t, a) runs over window × {OFF, ON}.
                for l in 0..<geometry.count {
                    let window = geometry[l].pool * geometry[l].pool
                    for u in 0..<unitsPerLevel[l] {
                        if !g.switches[l][u] { g.switches[l][u] = true; continue enumerate }
                        g.switches[l][u] = false
                        if g.translations[l][u] + 1 < window { g.translations[l][u] += 1; continue enumerate }
                        g.translations[l][u] = 0
                    }
                }
                break
            }
            results.append((best, bestG))
        }
        return results
    }
}

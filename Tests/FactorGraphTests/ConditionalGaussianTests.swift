import Foundation
import Testing
import NumericalCore
import FactorGraph

/// A Gaussian child whose mean is picked by categorical parents: once observed it is a table
/// `log N(y; μ_c, Σ_c)` on the parents — the DRMM's image likelihood.
@Suite("Conditional Gaussian factors")
struct ConditionalGaussianTests {
    @Test("observed child: posterior over the parents equals Bayes' rule by hand")
    func mixturePosterior() throws {
        let rng = RandomSource(seed: 11)
        var g = FactorGraph()
        let c = g.addCategorical(cardinality: 3, name: "class")
        let t = g.addCategorical(cardinality: 2, name: "translation")
        let image = try g.addGaussian(dimension: 4, name: "image")
        let prior = [0.5, 0.3, 0.2]
        try g.addFactor(scope: [c], values: prior)
        try g.addFactor(scope: [t], values: [0.6, 0.4])
        let means = (0..<6).map { _ in (0..<4).map { _ in rng.gaussian() } }
        let sigma2 = 0.7
        try g.addConditionalGaussian(
            child: image, parents: [c, t], means: means, covariance: .isotropic(variance: sigma2))
        let y = (0..<4).map { _ in rng.gaussian() }
        let ev = Evidence(observations: [image: y])

        // By hand: p(c, t | y) ∝ π_c π_t N(y; μ_ct, σ² I).
        var joint = [Double]()
        for ci in 0..<3 {
            for ti in 0..<2 {
                let mu = means[ci * 2 + ti]
                let sq = zip(y, mu).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                joint.append(prior[ci] * [0.6, 0.4][ti] * exp(-0.5 * sq / sigma2) / pow(2 * Double.pi * sigma2, 2))
            }
        }
        let evidenceProbability = joint.reduce(0, +)
        let pc = (0..<3).map { ci in (joint[ci * 2] + joint[ci * 2 + 1]) / evidenceProbability }

        let bp = try BeliefPropagation().run(g, evidence: ev, semiring: LogSumProduct.self)
        #expect(abs(bp.logPartition! - log(evidenceProbability)) < 1e-10)
        for k in 0..<3 { #expect(abs(bp.marginals[c][k] - pc[k]) < 1e-12) }
        #expect(bp.marginals[image].isEmpty)
        let bf = try BruteForceEnumeration().solve(g, evidence: ev)
        #expect(abs(bf.logPartition - log(evidenceProbability)) < 1e-10)
        let best = joint.indices.max { joint[$0] < joint[$1] }!
        let map = try BeliefPropagation().run(g, evidence: ev, semiring: MaxSum.self).map!
        #expect(map.states[c] * 2 + map.states[t] == best)
    }

    @Test("diagonal and full covariances give the Gaussian log density")
    func covariances() throws {
        var g = FactorGraph()
        let c = g.addCategorical(cardinality: 2)
        let y = try g.addGaussian(dimension: 2)
        let cov = try Matrix([[2.0, 0.3], [0.3, 1.0]])
        try g.addConditionalGaussian(child: y, parents: [c], means: [[0, 0], [1, -1]], covariance: .full([cov, cov]))
        let obs = [0.5, 0.2]
        let logZ = try VariableElimination().logPartition(g, evidence: Evidence(observations: [y: obs]))
        func logN(_ mu: [Double]) throws -> Double {
            let r = [obs[0] - mu[0], obs[1] - mu[1]]
            let z = try cov.solve(r)
            let det = 2.0 * 1.0 - 0.3 * 0.3
            return -0.5 * (2 * log(2 * Double.pi) + log(det) + r[0] * z[0] + r[1] * z[1])
        }
        let expected = log(exp(try logN([0, 0])) + exp(try logN([1, -1])))
        #expect(abs(logZ - expected) < 1e-12)
        #expect(throws: FactorGraphError.self) {
            var h = FactorGraph()
            let p = h.addCategorical(cardinality: 2)
            let ch = try h.addGaussian(dimension: 2)
            try h.addConditionalGaussian(
                child: ch, parents: [p], means: [[0, 0], [1, 1]], covariance: .diagonal([1, -1]))
        }
    }

    @Test("an unobserved child integrates to one")
    func unobservedChild() throws {
        var g = FactorGraph()
        let c = g.addCategorical(cardinality: 2)
        let y = try g.addGaussian(dimension: 3)
        try g.addFactor(scope: [c], values: [0.25, 0.75])
        try g.addConditionalGaussian(
            child: y, parents: [c], means: [[0, 0, 0], [5, 5, 5]], covariance: .isotropic(variance: 1))
        let r = try BeliefPropagation().run(g)
        #expect(abs(r.logPartition!) < 1e-12)
        #expect(abs(r.marginals[c][1] - 0.75) < 1e-12)
    }
}

@Suite("Conditional Gaussian folded into a factor over the same parents")
struct ConditionalGaussianFoldingTests {
    @Test("a table over the mixture's parents (in another order) keeps the graph a tree")
    func folding() throws {
        let rng = RandomSource(seed: 5)
        var g = FactorGraph()
        let a = g.addCategorical(cardinality: 2), b = g.addCategorical(cardinality: 3)
        let y = try g.addGaussian(dimension: 2)
        try g.addConditionalGaussian(
            child: y, parents: [a, b], means: (0..<6).map { _ in [rng.gaussian(), rng.gaussian()] },
            covariance: .isotropic(variance: 0.5))
        try g.addFactor(scope: [b, a], logValues: (0..<6).map { _ in rng.gaussian() })
        let ev = Evidence(observations: [y: [0.3, -0.2]])
        let exact = try BruteForceEnumeration().solve(g, evidence: ev)
        let bp = try BeliefPropagation().run(g, evidence: ev, semiring: LogSumProduct.self)
        #expect(bp.isExact)
        #expect(abs(bp.logPartition! - exact.logPartition) < 1e-12)
        #expect(maxAbsDifference(bp.marginals, exact.marginals) < 1e-12)
        let map = try BeliefPropagation().run(g, evidence: ev, semiring: MaxSum.self).map!
        #expect(map.isExact && abs(map.logScore - exact.map.logScore) < 1e-12)
    }
}

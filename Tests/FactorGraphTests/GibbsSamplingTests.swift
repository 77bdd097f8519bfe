import Foundation
import Testing
import NumericalCore
import FactorGraph

/// Gibbs sampling on factor graphs against exact marginals, within a statistical tolerance.
@Suite("Gibbs sampling on factor graphs")
struct GibbsSamplingTests {
    @Test("estimates within 0.03 of the exact marginals on loopy graphs, with evidence", arguments: [1, 2, 3])
    func matchesExact(seed: Int) throws {
        let rng = RandomSource(seed: UInt64(600 + seed))
        let g = RandomModels.loopy(n: 10, extraEdges: 6, rng: rng, maxCardinality: 3, coupling: 0.7)
        var ev = Evidence()
        ev.states[3] = 1
        let exact = try VariableElimination().marginals(g, evidence: ev)
        var gibbs = GibbsSampling()
        gibbs.options.samples = 40_000
        gibbs.options.burnIn = 500
        gibbs.options.seed = UInt64(seed)
        let estimate = try gibbs.marginals(g, evidence: ev)
        #expect(estimate[3] == [0, 1, 0].prefix(g.cardinalities[3]).map { $0 })
        let d = maxAbsDifference(estimate, exact)
        #expect(d < 0.03, "largest error \(d)")
        #expect(d > 0, "an estimate, not the exact answer")
    }

    @Test("starts from a state of positive probability where the all-zero state is impossible")
    func zeroStart() throws {
        var g = FactorGraph()
        for _ in 0..<3 { g.addCategorical(cardinality: 2) }
        try g.addFactor(scope: [0, 1], logValues: [-.infinity, 0, log(2), 0])  // not both 0
        try g.addFactor(scope: [1, 2], logValues: [-.infinity, 0, 0, log(3)])  // not both 0
        let exact = try VariableElimination().marginals(g, evidence: .none)
        var gibbs = GibbsSampling()
        gibbs.options.samples = 20_000
        let estimate = try gibbs.marginals(g)
        #expect(maxAbsDifference(estimate, exact) < 0.03)
    }

    @Test("impossible evidence is a typed error")
    func impossible() throws {
        var g = FactorGraph()
        for _ in 0..<2 { g.addCategorical(cardinality: 2) }
        try g.addFactor(scope: [0, 1], logValues: [0, -.infinity, -.infinity, 0])
        #expect(throws: FactorGraphError.self) {
            try GibbsSampling().marginals(g, evidence: Evidence(states: [0: 0, 1: 1]))
        }
    }
}

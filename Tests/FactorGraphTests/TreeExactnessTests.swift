import Testing
import NumericalCore
import FactorGraph

/// On trees and forests, belief propagation is exact: its marginals, log Z and MAP must equal
/// brute-force enumeration of every configuration.
@Suite("Belief propagation is exact on trees and forests")
struct TreeExactnessTests {
    static let seeds: [UInt64] = Array(1...60)

    @Test("sum-product marginals and log Z equal brute force", arguments: seeds)
    func sumProduct(seed: UInt64) throws {
        let rng = RandomSource(seed: seed)
        let n = 2 + rng.integer(below: 39)
        let g = RandomModels.forest(n: n, rng: rng)
        let exact = try BruteForceEnumeration().solve(g)
        for semiring in [LogSumProduct.self, SumProduct.self] as [any Semiring.Type] {
            let r = try runBP(g, semiring)
            #expect(r.isExact && r.iterations == 1)
            #expect(
                abs(r.logPartition! - exact.logPartition) <= 1e-9 * max(1, abs(exact.logPartition)),
                "seed \(seed) \(semiring.name)")
            #expect(maxAbsDifference(r.marginals, exact.marginals) <= 1e-9, "seed \(seed) \(semiring.name)")
        }
        // Variable elimination is a second exact method; it must agree too.
        let ve = try VariableElimination().solve(g)
        #expect(abs(ve.logPartition - exact.logPartition) <= 1e-9 * max(1, abs(exact.logPartition)))
        #expect(maxAbsDifference(ve.marginals, exact.marginals) <= 1e-9)
    }

    @Test("max-sum and max-product find a brute-force optimum, and agree", arguments: seeds)
    func maxSum(seed: UInt64) throws {
        let rng = RandomSource(seed: seed &+ 1000)
        let n = 2 + rng.integer(below: 39)
        let g = RandomModels.forest(n: n, rng: rng)
        let exact = try BruteForceEnumeration().solve(g)
        let ms = try BeliefPropagation().run(g, semiring: MaxSum.self).map!
        let mp = try BeliefPropagation().run(g, semiring: MaxProduct.self).map!
        #expect(ms.isExact)
        #expect(abs(ms.logScore - exact.map.logScore) <= 1e-9 * max(1, abs(exact.map.logScore)), "seed \(seed)")
        #expect(ms.states == mp.states, "max-sum and max-product argmax differ, seed \(seed)")
        #expect(try g.logScore(ms.states) == ms.logScore)
        let ve = try VariableElimination().mostProbableAssignment(g, evidence: .none)
        #expect(abs(ve.logScore - exact.map.logScore) <= 1e-9 * max(1, abs(exact.map.logScore)))
    }

    @Test(
        "clamped evidence: log P(e)·Z and conditional marginals equal brute force", arguments: Array(seeds.prefix(20)))
    func evidence(seed: UInt64) throws {
        let rng = RandomSource(seed: seed &+ 5000)
        let g = RandomModels.forest(n: 3 + rng.integer(below: 20), rng: rng, zeroRate: 0)
        var ev = Evidence()
        for v in 0..<g.variableCount where rng.uniform() < 0.25 {
            ev.states[v] = rng.integer(below: g.cardinalities[v])
        }
        let exact = try BruteForceEnumeration().solve(g, evidence: ev)
        let r = try BeliefPropagation().run(g, evidence: ev, semiring: LogSumProduct.self)
        #expect(abs(r.logPartition! - exact.logPartition) <= 1e-9 * max(1, abs(exact.logPartition)))
        #expect(maxAbsDifference(r.marginals, exact.marginals) <= 1e-9)
        let map = try BeliefPropagation().run(g, evidence: ev, semiring: MaxSum.self).map!
        #expect(abs(map.logScore - exact.map.logScore) <= 1e-9 * max(1, abs(exact.map.logScore)))
        for (v, x) in ev.states { #expect(map.states[v] == x) }
    }

    @Test("the tree schedule refuses a graph with a cycle")
    func treeScheduleNeedsForest() throws {
        let rng = RandomSource(seed: 7)
        let g = RandomModels.loopy(n: 5, extraEdges: 0, rng: rng, coupling: 0.5)
        var bp = BeliefPropagation()
        bp.options.schedule = .tree
        #expect(throws: FactorGraphError.self) { try bp.run(g) }
    }

    private func runBP(_ g: FactorGraph, _ s: any Semiring.Type) throws -> BeliefPropagationResult {
        func go<S: Semiring>(_: S.Type) throws -> BeliefPropagationResult {
            try BeliefPropagation().run(g, semiring: S.self)
        }
        return try go(s)
    }
}

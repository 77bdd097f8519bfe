import Foundation
import Testing
import PropertyBased
import NumericalCore
import FactorGraph

/// Properties over generated graphs: the engine's answers do not depend on the semiring's
/// encoding or on the schedule, and are invariant under relabelling the variables. Each run
/// draws new cases; a failure prints its seed, and `.fixedSeed(…)` on the test replays it.
@Suite("Properties of the message-passing engine")
struct PropertyTests {
    @Test("on forests, every schedule and encoding gives the same exact answer")
    func scheduleInvariance() async {
        await propertyCheck(count: 60, input: Gen.int(in: 2...40), Gen.int(in: 0...Int(UInt32.max))) { n, seed in
            let g = RandomModels.forest(n: n, rng: RandomSource(seed: UInt64(seed)))
            var tree = BeliefPropagation()
            tree.options.schedule = .tree
            var loopy = BeliefPropagation()
            loopy.options.schedule = .parallel
            loopy.options.tolerance = 1e-13
            let a = try tree.run(g, semiring: LogSumProduct.self)
            let b = try loopy.run(g, semiring: SumProduct.self)
            #expect(b.converged)
            #expect(maxAbsDifference(a.marginals, b.marginals) < 1e-9)
            // Flooding on a forest reaches the exact fixed point within diameter-many iterations.
            #expect(abs(a.logPartition! - b.logPartition!) < 1e-8 * max(1, abs(a.logPartition!)))
        }
    }

    @Test("relabelling the variables permutes the answers and nothing else")
    func relabelling() async {
        await propertyCheck(count: 40, input: Gen.int(in: 3...14), Gen.int(in: 0...Int(UInt32.max))) { n, seed in
            var rng = RandomSource(seed: UInt64(seed))
            let g = RandomModels.loopy(n: n, extraEdges: rng.integer(below: 5), rng: rng, coupling: 1)
            var perm = Array(0..<n)
            perm.shuffle(using: &rng)
            var h = FactorGraph()
            var inverse = [Int](repeating: 0, count: n)
            for (old, new) in perm.enumerated() { inverse[new] = old }
            for new in 0..<n { h.addCategorical(cardinality: g.cardinalities[inverse[new]]) }
            for f in g.factors { try h.addFactor(scope: f.scope.map { perm[$0] }, logValues: f.logValues) }
            let a = try VariableElimination().solve(g), b = try VariableElimination().solve(h)
            #expect(abs(a.logPartition - b.logPartition) < 1e-9 * max(1, abs(a.logPartition)))
            for v in 0..<n { #expect(zip(a.marginals[v], b.marginals[perm[v]]).allSatisfy { abs($0 - $1) < 1e-9 }) }
        }
    }
}

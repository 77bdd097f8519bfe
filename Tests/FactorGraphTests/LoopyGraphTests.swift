import Testing
import NumericalCore
import FactorGraph

/// On graphs with cycles, variable elimination stays exact, and loopy BP is an approximation
/// that converges and is close when the couplings are weak.
@Suite("Loopy graphs")
struct LoopyGraphTests {
    @Test("variable elimination equals brute force", arguments: Array(UInt64(1)...30))
    func eliminationIsExact(seed: UInt64) throws {
        let rng = RandomSource(seed: seed)
        let g = RandomModels.loopy(
            n: 4 + rng.integer(below: 9), extraEdges: rng.integer(below: 8), rng: rng,
            coupling: 1.5, zeroRate: 0.1)
        let bf = try BruteForceEnumeration().solve(g)
        let ve = try VariableElimination().solve(g)
        #expect(abs(ve.logPartition - bf.logPartition) <= 1e-9 * max(1, abs(bf.logPartition)))
        #expect(maxAbsDifference(ve.marginals, bf.marginals) <= 1e-9)
        let map = try VariableElimination().mostProbableAssignment(g, evidence: .none)
        #expect(abs(map.logScore - bf.map.logScore) <= 1e-9 * max(1, abs(bf.map.logScore)))
        // With evidence too.
        var ev = Evidence()
        ev.states[0] = bf.map.states[0]
        let bfe = try BruteForceEnumeration().solve(g, evidence: ev)
        let vee = try VariableElimination().solve(g, evidence: ev)
        #expect(abs(vee.logPartition - bfe.logPartition) <= 1e-9 * max(1, abs(bfe.logPartition)))
        #expect(maxAbsDifference(vee.marginals, bfe.marginals) <= 1e-9)
    }

    @Test(
        "weak couplings: loopy BP converges, close to exact", arguments: Array(UInt64(1)...10),
        [BeliefPropagation.Schedule.sequential, .parallel, .sequentialRandom])
    func weakCoupling(seed: UInt64, schedule: BeliefPropagation.Schedule) throws {
        let rng = RandomSource(seed: seed)
        let g = RandomModels.loopy(n: 12, extraEdges: 6, rng: rng, coupling: 0.1)
        let exact = try BruteForceEnumeration().solve(g)
        var bp = BeliefPropagation()
        bp.options.schedule = schedule
        bp.options.tolerance = 1e-10
        let r = try bp.run(g, semiring: LogSumProduct.self)
        #expect(r.converged && !r.isExact)
        #expect(maxAbsDifference(r.marginals, exact.marginals) < 2e-3, "seed \(seed)")
        #expect(abs(r.logPartition! - exact.logPartition) < 1e-2, "seed \(seed)")
        // The linear-domain run reaches the same fixed point.
        let lin = try bp.run(g, semiring: SumProduct.self)
        #expect(maxAbsDifference(r.marginals, lin.marginals) < 1e-8)
        // Weak couplings: decoding the max-marginals gives the exact MAP here.
        let map = try bp.run(g, semiring: MaxSum.self).map!
        #expect(!map.isExact)
        #expect(abs(map.logScore - exact.map.logScore) < 1e-9 * max(1, abs(exact.map.logScore)))
    }

    @Test("damping keeps the fixed point and makes a frustrated cycle converge")
    func damping() throws {
        // A strongly coupled, frustrated triangle (spins ±1 as states 0/1): undamped flooding
        // oscillates on it and is still not within tolerance after 2000 iterations; damping 0.5
        // settles it on the fixed point the sequential schedule finds.
        var g = FactorGraph()
        for _ in 0..<3 { g.addCategorical(cardinality: 2) }
        for ((a, b), j) in zip([(0, 1), (1, 2), (0, 2)], [2.9, 2.77, -2.98]) {
            try g.addFactor(scope: [a, b], logValues: [j, -j, -j, j])
        }
        for (v, h) in [-0.844, 0.358, -0.564].enumerated() { try g.addFactor(scope: [v], logValues: [h, -h]) }
        var bp = BeliefPropagation()
        bp.options.schedule = .parallel
        bp.options.maxIterations = 2000
        let undamped = try bp.run(g, semiring: LogSumProduct.self)
        #expect(!undamped.converged, "undamped flooding oscillates on this triangle")
        bp.options.damping = 0.5
        let damped = try bp.run(g, semiring: LogSumProduct.self)
        #expect(damped.converged && damped.iterations < 500)
        bp.options.schedule = .sequential
        bp.options.damping = 0
        let seq = try bp.run(g, semiring: LogSumProduct.self)
        #expect(seq.converged)
        #expect(maxAbsDifference(damped.marginals, seq.marginals) < 1e-7)
    }

    @Test("maximum iterations are respected and reported")
    func iterationCap() throws {
        let rng = RandomSource(seed: 3)
        let g = RandomModels.loopy(n: 10, extraEdges: 10, rng: rng, coupling: 2)
        var bp = BeliefPropagation()
        bp.options.maxIterations = 3
        bp.options.tolerance = 0
        let r = try bp.run(g)
        #expect(r.iterations == 3 && !r.converged)
    }

    @Test("properties bag in libDAI's words")
    func propertiesBag() throws {
        let o = try BeliefPropagation.Options(properties: [
            "tol": "1e-9", "maxiter": "100", "updates": "PARALL", "damping": "0.2"
        ])
        #expect(o.tolerance == 1e-9 && o.maxIterations == 100 && o.schedule == .parallel && o.damping == 0.2)
        #expect(throws: FactorGraphError.self) { try BeliefPropagation.Options(properties: ["damping": "1.5"]) }
        #expect(throws: FactorGraphError.self) { try BeliefPropagation.Options(properties: ["colour": "red"]) }
    }

    @Test("the parallel schedule on 2, 3 and 5 threads gives one thread's answer bit for bit")
    func threadsAgree() throws {
        for seed in UInt64(1)...12 {
            let rng = RandomSource(seed: 300 + seed)
            // Loopy pairwise graphs, and forests with ternary factors (the general-degree path).
            let g =
                seed % 2 == 0
                ? RandomModels.loopy(n: 30, extraEdges: 20, rng: rng, maxCardinality: 4, coupling: 0.8)
                : RandomModels.forest(n: 40, rng: rng, maxStates: 1 << 40)
            for (semiring, damping) in [("sum", 0.0), ("sum", 0.3), ("max", 0.0)] {
                var bp = BeliefPropagation()
                bp.options.schedule = .parallel
                bp.options.damping = damping
                bp.options.maxIterations = 200
                let one =
                    try semiring == "sum" ? bp.run(g, semiring: SumProduct.self) : bp.run(g, semiring: MaxProduct.self)
                for threads in [2, 3, 5] {
                    bp.options.threads = threads
                    let many =
                        try semiring == "sum"
                        ? bp.run(g, semiring: SumProduct.self) : bp.run(g, semiring: MaxProduct.self)
                    #expect(many.marginals == one.marginals, "seed \(seed) \(semiring) \(damping) threads \(threads)")
                    #expect(many.iterations == one.iterations && many.messageUpdates == one.messageUpdates)
                    #expect(many.logPartition == one.logPartition)
                }
            }
        }
        #expect(throws: FactorGraphError.self) { try BeliefPropagation.Options(properties: ["threads": "0"]) }
    }
}

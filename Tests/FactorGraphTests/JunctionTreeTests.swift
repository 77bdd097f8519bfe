import Foundation
import Testing
import NumericalCore
import FactorGraph

/// The junction tree against variable elimination and brute-force enumeration, on random
/// forests and random loopy graphs (with zeros and with evidence), and on the UAI instances.
@Suite("Junction tree")
struct JunctionTreeTests {
    /// Random evidence on about a fifth of the variables, drawn from a configuration of
    /// positive probability so that it is possible.
    func evidence(for g: FactorGraph, rng: RandomSource) throws -> Evidence {
        let map = try BruteForceEnumeration().solve(g).map.states
        var ev = Evidence()
        for v in 0..<g.variableCount where rng.uniform() < 0.2 { ev.states[v] = map[v] }
        return ev
    }

    func check(_ g: FactorGraph, _ ev: Evidence, label: String) throws {
        let jt = JunctionTree()
        let brute = try BruteForceEnumeration().solve(g, evidence: ev)
        let ve = try VariableElimination().solve(g, evidence: ev)
        let c = try jt.calibrate(g, evidence: ev, mode: .sumProduct)
        let scale = max(1, abs(brute.logPartition))
        #expect(abs(c.logPartition - brute.logPartition) < 1e-10 * scale, "\(label): log Z")
        #expect(abs(c.logPartition - ve.logPartition) < 1e-10 * scale, "\(label): log Z vs VE")
        let m = try jt.marginals(g, evidence: ev)
        #expect(maxAbsDifference(m, brute.marginals) < 1e-10, "\(label): marginals")
        #expect(maxAbsDifference(m, ve.marginals) < 1e-10, "\(label): marginals vs VE")
        let map = try jt.mostProbableAssignment(g, evidence: ev)
        #expect(map.isExact)
        #expect(abs(map.logScore - brute.map.logScore) < 1e-10 * max(1, abs(brute.map.logScore)), "\(label): MAP")
        for (v, s) in ev.states { #expect(map.states[v] == s, "\(label): MAP keeps the evidence") }
        let best = try jt.calibrate(g, evidence: ev, mode: .maxSum)
        #expect(abs(best.logPartition - brute.map.logScore) < 1e-10 * max(1, abs(brute.map.logScore)))
    }

    @Test("= variable elimination = brute force on random forests, with zeros and evidence")
    func forests() throws {
        for seed in 0..<60 {
            let rng = RandomSource(seed: UInt64(9000 + seed))
            let g = RandomModels.forest(n: 2 + rng.integer(below: 14), rng: rng, maxStates: 1 << 14)
            try check(g, Evidence(), label: "forest \(seed)")
            try check(g, try evidence(for: g, rng: rng), label: "forest \(seed) with evidence")
        }
    }

    @Test("= variable elimination = brute force on random loopy graphs, with zeros and evidence")
    func loopyGraphs() throws {
        for seed in 0..<60 {
            let rng = RandomSource(seed: UInt64(9500 + seed))
            let n = 3 + rng.integer(below: 10)
            let g = RandomModels.loopy(
                n: n, extraEdges: rng.integer(below: 2 * n), rng: rng, maxCardinality: 3,
                coupling: 0.3 + 2 * rng.uniform(), zeroRate: seed % 3 == 0 ? 0.2 : 0)
            guard (try? BruteForceEnumeration().solve(g))?.logPartition ?? -.infinity > -.infinity else { continue }
            try check(g, Evidence(), label: "loopy \(seed)")
            try check(g, try evidence(for: g, rng: rng), label: "loopy \(seed) with evidence")
        }
    }

    @Test("every factor's marginal from one calibration equals enumeration")
    func factorMarginals() throws {
        for seed in 0..<20 {
            let rng = RandomSource(seed: UInt64(9900 + seed))
            let n = 3 + rng.integer(below: 7)
            let g = RandomModels.loopy(n: n, extraEdges: rng.integer(below: n), rng: rng, coupling: 1.5)
            var ev = Evidence()
            if seed % 2 == 1 { ev.states[0] = 1 }
            let got = try JunctionTree().factorMarginals(g, evidence: ev)
            // Enumerate the joint and sum each factor's entries (the oracle).
            var expected = g.factors.map { [Double](repeating: 0, count: $0.logValues.count) }
            var x = [Int](repeating: 0, count: n)
            var z = 0.0
            repeat {
                if ev.states.allSatisfy({ x[$0.key] == $0.value }) {
                    var s = 0.0
                    for f in g.factors {
                        s += f.logValues[f.scope.indices.reduce(0) { $0 + x[f.scope[$1]] * f.strides[$1] }]
                    }
                    let p = exp(s)
                    z += p
                    for (i, f) in g.factors.enumerated() {
                        expected[i][f.scope.indices.reduce(0) { $0 + x[f.scope[$1]] * f.strides[$1] }] += p
                    }
                }
                var j = n - 1
                while j >= 0 { x[j] += 1; if x[j] < g.cardinalities[j] { break }; x[j] = 0; j -= 1 }
                if j < 0 { break }
            } while true
            expected = expected.map { $0.map { $0 / z } }
            #expect(maxAbsDifference(got, expected) < 1e-10, "seed \(seed)")
        }
    }

    @Test("merges non-maximal cliques: a chain of n variables has n − 1 cliques")
    func chainCliques() throws {
        var g = FactorGraph()
        for _ in 0..<8 { g.addCategorical(cardinality: 3) }
        let rng = RandomSource(seed: 4)
        for v in 0..<7 { try g.addFactor(scope: [v, v + 1], logValues: (0..<9).map { _ in rng.gaussian() }) }
        let c = try JunctionTree().calibrate(g, mode: .sumProduct)
        #expect(c.cliques.count == 7)
        #expect(c.cliques.allSatisfy { $0.count == 2 })
        #expect(c.parent.filter { $0 == nil }.count == 1)
    }

    @Test("the UAI 2014 instances: the PR, MAR and MPE references")
    func uaiReferences() throws {
        for name in ["Grids_12", "Promedus_24", "Segmentation_11", "CSP_12"] {
            let g = try UAIFormat.readModel(path: Fixture.path("uai2014/\(name).uai"))
            let ev = try UAIFormat.readEvidence(path: Fixture.path("uai2014/\(name).uai.evid"), for: g)
            let ve = try VariableElimination().solve(g, evidence: ev)
            let jt = JunctionTree()
            let logZ = try jt.logPartition(g, evidence: ev)
            #expect(abs(logZ - ve.logPartition) < 1e-9 * abs(ve.logPartition), "\(name)")
            #expect(maxAbsDifference(try jt.marginals(g, evidence: ev), ve.marginals) < 1e-9, "\(name)")
            let exact = try VariableElimination().mostProbableAssignment(g, evidence: ev)
            let map = try jt.mostProbableAssignment(g, evidence: ev)
            #expect(abs(map.logScore - exact.logScore) < 1e-9 * max(1, abs(exact.logScore)), "\(name)")
        }
    }

    @Test("impossible evidence: log Z is −∞ and MAR and MAP throw")
    func impossibleEvidence() throws {
        var g = FactorGraph()
        g.addCategorical(cardinality: 2)
        g.addCategorical(cardinality: 2)
        try g.addFactor(scope: [0, 1], logValues: [0, -.infinity, -.infinity, 0])
        var ev = Evidence()
        ev.states = [0: 0, 1: 1]
        #expect(try JunctionTree().logPartition(g, evidence: ev) == -.infinity)
        #expect(throws: FactorGraphError.self) { try JunctionTree().marginals(g, evidence: ev) }
        #expect(throws: FactorGraphError.self) { try JunctionTree().mostProbableAssignment(g, evidence: ev) }
    }
}

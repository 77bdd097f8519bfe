import Foundation
import Testing
import NumericalCore
import FactorGraph

/// MPLP's guarantees: the bound never increases, it is never below the exact MAP score nor the
/// decoded one, and on trees (where the relaxation is tight) it meets the exact MAP.
@Suite("MPLP")
struct MPLPTests {
    func checkInvariants(_ r: MPLP.Result, exact: Double, label: String) {
        let scale = max(1, abs(exact))
        #expect(r.upperBound >= exact - 1e-9 * scale, "\(label): bound \(r.upperBound) below the exact \(exact)")
        #expect(r.assignment.logScore <= exact + 1e-9 * scale, "\(label): decoded above the exact")
        #expect(r.gap >= -1e-9 * scale, "\(label): negative gap")
        for (a, b) in zip(r.boundHistory, r.boundHistory.dropFirst()) {
            #expect(b <= a + 1e-9 * scale, "\(label): the bound rose from \(a) to \(b)")
        }
    }

    @Test("on random forests the bound meets the exact MAP and the decoded assignment is optimal")
    func forests() throws {
        for seed in 0..<80 {
            let rng = RandomSource(seed: UInt64(7000 + seed))
            let g = RandomModels.forest(n: 2 + rng.integer(below: 30), rng: rng, zeroRate: seed % 2 == 0 ? 0 : 0.15)
            let exact = try VariableElimination().mostProbableAssignment(g, evidence: .none).logScore
            let r = try MPLP().run(g)
            checkInvariants(r, exact: exact, label: "forest \(seed)")
            let scale = max(1, abs(exact))
            #expect(abs(r.upperBound - exact) < 1e-7 * scale, "forest \(seed): bound \(r.upperBound) vs \(exact)")
            #expect(abs(r.assignment.logScore - exact) < 1e-7 * scale, "forest \(seed): decoded")
            #expect(r.assignment.isExact, "forest \(seed): certified")
        }
    }

    @Test("on random loopy graphs: bound ≥ exact ≥ decoded, the bound never rises, evidence is kept")
    func loopy() throws {
        var certified = 0
        for seed in 0..<60 {
            let rng = RandomSource(seed: UInt64(7500 + seed))
            let n = 4 + rng.integer(below: 12)
            let g = RandomModels.loopy(
                n: n, extraEdges: rng.integer(below: 2 * n), rng: rng, maxCardinality: 4,
                coupling: 0.5 + 3 * rng.uniform(), zeroRate: seed % 4 == 0 ? 0.2 : 0)
            var ev = Evidence()
            if seed % 3 == 0 { ev.states[0] = 0 }
            let exact = try VariableElimination().mostProbableAssignment(g, evidence: ev).logScore
            guard exact > -.infinity else { continue }
            let r = try MPLP().run(g, evidence: ev)
            checkInvariants(r, exact: exact, label: "loopy \(seed)")
            if seed % 3 == 0 { #expect(r.assignment.states[0] == 0) }
            if r.assignment.isExact {
                certified += 1
                #expect(abs(r.assignment.logScore - exact) < 1e-9 * max(1, abs(exact)))
            }
        }
        #expect(certified >= 20, "certified optimal on \(certified) of 60")
    }

    @Test("the 10×10 Ising grid: exact and certified with cycles; ALARM: the exact MAP decoded")
    func fixtures() throws {
        for path in ["ising/ising10.fg", "libdai/alarm.fg"] {
            let g = try ModelFile.read(path: Fixture.path(path))
            let exact = try VariableElimination().mostProbableAssignment(g, evidence: .none).logScore
            let r = try MPLP().run(g)
            checkInvariants(r, exact: exact, label: path)
            #expect(abs(r.assignment.logScore - exact) < 1e-9 * abs(exact), "\(path): \(r.assignment.logScore)")
            if path.hasPrefix("ising") { #expect(r.assignment.isExact && r.gap < 1e-6, "\(path): certified") }
            var local = MPLP()
            local.options.cycles = false
            local.options.forestRounds = 0
            let plain = try local.run(g)
            checkInvariants(plain, exact: exact, label: "\(path) without cycles")
            #expect(r.upperBound <= plain.upperBound + 1e-9, "\(path): cycles never loosen the bound")
        }
    }

    @Test("cycles tighten the bound on random loopy graphs and never loosen it")
    func cyclesTighten() throws {
        var tighter = 0
        for seed in 0..<40 {
            let rng = RandomSource(seed: UInt64(8100 + seed))
            let n = 5 + rng.integer(below: 10)
            let g = RandomModels.loopy(n: n, extraEdges: n, rng: rng, maxCardinality: 3, coupling: 2)
            let exact = try VariableElimination().mostProbableAssignment(g, evidence: .none).logScore
            var plain = MPLP()
            plain.options.cycles = false
            let a = try plain.run(g), b = try MPLP().run(g)
            checkInvariants(b, exact: exact, label: "seed \(seed)")
            #expect(b.upperBound <= a.upperBound + 1e-7 * max(1, abs(exact)), "seed \(seed)")
            if b.upperBound < a.upperBound - 1e-6 { tighter += 1 }
        }
        #expect(tighter >= 5, "tighter on \(tighter) of 40")
    }

    @Test("Z = 0 and impossible evidence: MPLP and Gibbs refuse with a typed error, never a −∞ assignment")
    func impossible() throws {
        let cases: [(FactorGraph, Evidence)] = [
            (HostileInputTests.equal, Evidence(states: [0: 0, 1: 1])),
            (try UAIFormat.parseModel("MARKOV 1 2 1 1 0 2 0 0", path: "zero"), .none),
            (HostileInputTests.triangle, .none)
        ]
        for (k, (g, ev)) in cases.enumerated() {
            do {
                let r = try MPLP().run(g, evidence: ev)
                Issue.record("case \(k): decoded \(r.assignment.states) of score \(r.assignment.logScore)")
            } catch let e as FactorGraphError {
                switch e {
                case .inconsistentEvidence: break
                // The ≠ triangle's relaxation is feasible (½, ½ everywhere): no proof, no answer.
                case .infeasibleDecoding: #expect(k == 2)
                default: Issue.record("case \(k): \(e)")
                }
            }
            #expect(throws: FactorGraphError.self, "Gibbs case \(k)") { try GibbsSampling().marginals(g, evidence: ev) }
        }
    }
}

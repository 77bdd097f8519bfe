import Foundation
import Testing
import NumericalCore
@testable import FactorGraph

/// Careless and hostile input, one regression test per case found: line endings, sizes that
/// would exhaust memory, impossible evidence, numerics at the edge.
@Suite("Hostile and careless input")
struct HostileInputTests {
    static let model = ["MARKOV", "3", "2 2 3", "2", "2 0 1", "2 1 2", "4", " 1 2 3 4", "6", " 1 1 1 1 1 1e0 "]

    /// The error of parsing `text` as UAI, or `nil` when it parses.
    func uaiError(_ text: String, limits: ResourceLimits = .standard) -> (line: Int, message: String)? {
        do {
            _ = try UAIFormat.parseModel(text, path: "m.uai", limits: limits); return nil
        } catch FactorGraphError.malformedFile(_, let line, let message) {
            return (line, message)
        } catch {
            Issue.record("not a malformed-file error: \(error)")
            return nil
        }
    }

    @Test("LF, CRLF and CR line endings and a byte-order mark parse alike, with the same line numbers")
    func lineEndings() throws {
        let reference = try UAIFormat.parseModel(Self.model.joined(separator: "\n"), path: "m.uai")
        for ending in ["\n", "\r\n", "\r"] {
            for bom in ["", "\u{FEFF}"] {
                let text = bom + Self.model.joined(separator: ending) + ending
                let g = try UAIFormat.parseModel(text, path: "m.uai")
                #expect(g.factors == reference.factors && g.cardinalities == reference.cardinalities)
                // A bad entry on line 8 is reported on line 8 whatever the line ending.
                var bad = Self.model
                bad[7] = " 1 2 x 4"
                let e = uaiError(bom + bad.joined(separator: ending))
                #expect(e?.line == 8, "ending \(ending.debugDescription): \(String(describing: e))")
                #expect(e?.message.contains("'x'") == true)
            }
        }
        // libDAI files and evidence too.
        let fg = "# a comment\r\n1\r\n\r\n2\r\n0 1\r\n2 2\r\n2\r\n0 1.5\r\n3 2e-1\r\n"
        let m = try LibDAIFormat.parse(fg, path: "m.fg")
        #expect(m.graph.factors[0].values.map { ($0 * 10).rounded() / 10 } == [1.5, 0, 0, 0.2])
        let ev = try UAIFormat.parseEvidence("1\r\n 0 1 \r\n", path: "e", for: reference)
        #expect(ev.first?.states == [0: 1])
        let wrong = try #require(uaiError("MARKOV\r\n1\r\n2\r\n1\r\n1 0\r\n2 0.5 -1\r\n"))
        #expect(wrong.line == 6 && wrong.message.contains("non-negative"))
    }

    @Test("numbers in exponent form, signs, and what is not a number")
    func numbers() throws {
        let g = try UAIFormat.parseModel("MARKOV 1 2 1 1 0 2 +1.5E+2 2.5e-3", path: "m")
        #expect(abs(g.factors[0].values[0] - 150) < 1e-12 && abs(g.factors[0].values[1] - 0.0025) < 1e-15)
        for bad in ["0x1p3", "nan", "1.5.2", "--1", "1e", ""] where !bad.isEmpty {
            #expect(uaiError("MARKOV 1 2 1 1 0 2 1 \(bad)")?.line == 1, "\(bad)")
        }
        #expect(uaiError("MARKOV 1 2 1 1 0 2 1 inf")?.message.contains("finite") == true)
        // An integer that does not fit in 64 bits is refused, not wrapped.
        #expect(uaiError("MARKOV 99999999999999999999 2")?.message.contains("integer") == true)
    }

    @Test("sizes that would exhaust memory are refused before anything is allocated, naming the limit")
    func memoryBombs() throws {
        // One variable of 2^31 states, no factors (BP would have asked for 17 GB).
        let huge = try #require(uaiError("MARKOV\n1\n2147483647\n0\n"))
        #expect(huge.line == 3 && huge.message.contains("--limit cardinality"))
        // A 15-byte libDAI factor declaring 2^26 zero entries, and eight of them.
        let one = "1\n0\n67108864\n0\n"
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse(one, path: "m.fg") }
        var eight = "8\n"
        for l in 0..<8 { eight += "\n1\n\(l)\n\(1 << 24)\n0\n" }
        do { _ = try LibDAIFormat.parse(eight, path: "m.fg"); Issue.record("eight 2^24 tables parsed") } catch let e
            as FactorGraphError
        {
            #expect("\(e)".contains("totalTableEntries"), "\(e)")
        }
        // Raised limits let a user through.
        var raised = ResourceLimits.standard
        try raised.apply("tableEntries=2^26")
        try raised.apply("cardinality=2^26")
        #expect(
            try LibDAIFormat.parse("1\n1\n0\n\(1 << 25)\n0\n", path: "m.fg", limits: raised).graph.factors[0].count == 1
                << 25)
        // Counts larger than the file are refused before any array is sized by them.
        #expect(uaiError("MARKOV 1000000 2 2")?.message.contains("only") == true)
        #expect(uaiError("MARKOV 1 2 4611686018427387904 1 0")?.message.contains("only") == true)
        #expect(throws: FactorGraphError.self) {
            try UAIFormat.parseEvidence(
                "4611686018427387904 0 1", path: "e", for: try UAIFormat.parseModel("MARKOV 1 2 0"))
        }
    }

    @Test("the elimination order is the min-fill order, computed incrementally, and refuses a large grid at once")
    func eliminationOrder() throws {
        // The incremental heap order equals a direct greedy min-fill (recomputing every score).
        let rng = RandomSource(seed: 22)
        for _ in 0..<30 {
            let n = 5 + rng.integer(below: 40)
            let g = RandomModels.loopy(n: n, extraEdges: rng.integer(below: 2 * n), rng: rng, coupling: 1)
            let free = (0..<n).map { _ in rng.uniform() < 0.9 }
            let scopes = g.factors.map(\.scope)
            let fast = try MinFillOrder(variableCount: n, scopes: scopes, free: free).order()
            #expect(fast == Self.naiveMinFill(n: n, scopes: scopes, free: free))
        }
        // 200,000 variables and no factors: exact log Z = n log 2.
        let n = 200_000
        let empty = try UAIFormat.parseModel("MARKOV \(n) " + String(repeating: "2 ", count: n) + "0", path: "m")
        #expect(abs(try VariableElimination().logPartition(empty, evidence: .none) - Double(n) * log(2)) < 1e-6)
        // A 100 × 100 grid: refused with the estimated size, before any table is built.
        let grid = Self.grid(100)
        do {
            _ = try VariableElimination().logPartition(grid, evidence: .none); Issue.record("100×100 grid eliminated")
        } catch FactorGraphError.tooLarge(let m) {
            #expect(m.contains("GiB") && m.contains("cliqueEntries"), "\(m)")
        }
    }

    /// Greedy min-fill by recomputing every remaining variable's score at every step.
    static func naiveMinFill(n: Int, scopes: [[Int]], free: [Bool]) -> [Int] {
        var adj = [Set<Int>](repeating: [], count: n)
        for s in scopes { for a in s where free[a] { for b in s where b != a && free[b] { adj[a].insert(b) } } }
        var remaining = (0..<n).filter { free[$0] }
        var order: [Int] = []
        while !remaining.isEmpty {
            func key(_ v: Int) -> (Int, Int, Int) {
                let nb = Array(adj[v])
                var fill = 0
                for i in 0..<nb.count { for j in 0..<nb.count where j > i && !adj[nb[i]].contains(nb[j]) { fill += 1 } }
                return (fill, nb.count, v)
            }
            let best = remaining.min { key($0) < key($1) }!
            let nb = adj[best]
            for a in nb { adj[a].formUnion(nb.subtracting([a])); adj[a].remove(best) }
            adj[best] = []
            remaining.removeAll { $0 == best }
            order.append(best)
        }
        return order
    }

    static func grid(_ side: Int, coupling: Double = 0.5) -> FactorGraph {
        var g = FactorGraph()
        for _ in 0..<(side * side) { g.addCategorical(cardinality: 2) }
        let rng = RandomSource(seed: 7)
        for i in 0..<side {
            for j in 0..<side {
                let v = i * side + j
                try! g.addFactor(
                    scope: [v], logValues: [rng.gaussian(standardDeviation: 1), rng.gaussian(standardDeviation: 1)])
                if j + 1 < side {
                    try! g.addFactor(scope: [v, v + 1], logValues: [coupling, -coupling, -coupling, coupling])
                }
                if i + 1 < side {
                    try! g.addFactor(scope: [v, v + side], logValues: [coupling, -coupling, -coupling, coupling])
                }
            }
        }
        return g
    }

    /// `x0 == x1`, and a triangle of `≠` constraints on binary variables (Z = 0).
    static let equal = try! UAIFormat.parseModel("MARKOV 2 2 2 1 2 0 1 4 1 0 0 1", path: "eq")
    static let triangle = try! UAIFormat.parseModel(
        "MARKOV 3 2 2 2 3 2 0 1 2 1 2 2 0 2 4 0 1 1 0 4 0 1 1 0 4 0 1 1 0", path: "tri")

    @Test("impossible evidence and Z = 0 mean the same for exact, BP and brute force: PR −∞, MAR and MAP refuse")
    func impossibleEvidence() throws {
        let contradiction = Evidence(states: [0: 0, 1: 1])
        let cases: [(FactorGraph, Evidence)] = [
            (Self.equal, contradiction),
            (try UAIFormat.parseModel("MARKOV 1 2 1 1 0 2 0 0", path: "zero"), .none),
            (Self.triangle, .none)
        ]
        let algorithms: [(String, any InferenceAlgorithm)] = [
            ("exact", VariableElimination()), ("bruteforce", BruteForceEnumeration()), ("bp", BeliefPropagation()),
            ("jtree", JunctionTree())
        ]
        for (k, (g, ev)) in cases.enumerated() {
            for (name, a) in algorithms {
                // Loopy BP cannot see the triangle's contradiction in its beliefs (it is frustrated,
                // not zero anywhere); everything else it must.
                let provable = !(k == 2 && name == "bp")
                if provable { #expect(try a.logPartition(g, evidence: ev) == -.infinity, "\(name) case \(k)") }
                if provable {
                    #expect(throws: FactorGraphError.self, "\(name) MAR case \(k)") { try a.marginals(g, evidence: ev) }
                }
                do {
                    let map = try a.mostProbableAssignment(g, evidence: ev)
                    Issue.record("\(name) case \(k) decoded \(map.states) of score \(map.logScore)")
                } catch let e as FactorGraphError {
                    switch e {
                    case .inconsistentEvidence: break
                    case .infeasibleDecoding: #expect(!provable)
                    default: Issue.record("\(name) case \(k): \(e)")
                    }
                }
            }
        }
        // BP's result says so and is never converged.
        let r = try BeliefPropagation().run(Self.equal, evidence: contradiction, semiring: MaxSum.self)
        #expect(r.infeasibility != nil && !r.converged && r.map == nil)
    }

    @Test("BP MAP never breaks hard evidence or a zero factor")
    func mapRespectsEvidence() throws {
        let rng = RandomSource(seed: 5)
        for t in 0..<40 {
            let g = RandomModels.loopy(
                n: 6 + rng.integer(below: 6), extraEdges: rng.integer(below: 6), rng: rng, coupling: 2, zeroRate: 0.2)
            var ev = Evidence()
            for v in 0..<g.variableCount where rng.uniform() < 0.3 {
                ev.states[v] = rng.integer(below: g.cardinalities[v])
            }
            for schedule in [BeliefPropagation.Schedule.sequential, .parallel] {
                var bp = BeliefPropagation()
                bp.options.schedule = schedule
                bp.options.maxIterations = 200
                do {
                    let map = try bp.mostProbableAssignment(g, evidence: ev)
                    #expect(map.logScore > -.infinity, "case \(t)")
                    for (v, x) in ev.states { #expect(map.states[v] == x) }
                } catch FactorGraphError.inconsistentEvidence {
                    #expect(
                        try VariableElimination().logPartition(g, evidence: ev) == -.infinity,
                        "case \(t): BP proved Z = 0 wrongly")
                } catch FactorGraphError.infeasibleDecoding {
                    // Allowed: loopy decoding failed without a false claim.
                }
            }
        }
    }

    @Test("linear-domain sum-product at coupling 200 gives the log domain's answer, not a false Z = 0")
    func linearDomainUnderflow() throws {
        let g = Self.grid(4, coupling: 200)
        var bp = BeliefPropagation()
        bp.options.maxIterations = 300
        let log = try bp.run(g, semiring: LogSumProduct.self)
        let linear = try bp.run(g, semiring: SumProduct.self)
        #expect(linear.infeasibility == nil)
        #expect(maxAbsDifference(linear.marginals, log.marginals) < 1e-9)
        #expect(abs(try #require(linear.logPartition) - (try #require(log.logPartition))) < 1e-6)
        let maxLinear = try bp.run(g, semiring: MaxProduct.self).assignment()
        #expect(maxLinear.logScore > -.infinity)
    }

    @Test("Gaussian BP on a singular ring reports that it did not converge instead of a number")
    func singularGaussianRing() throws {
        // x_i − x_{i+1} around a ring of 5: the precision is the ring's Laplacian (singular).
        var g = FactorGraph()
        let n = 5
        let xs = try (0..<n).map { _ in try g.addGaussian() }
        for i in 0..<n {
            try g.addGaussianFactor(
                scope: [xs[i], xs[(i + 1) % n]], precision: try Matrix(rows: 2, columns: 2, elements: [1, -1, -1, 1]),
                potential: [0.1, -0.1])
        }
        var bp = GaussianBeliefPropagation()
        bp.options.maxIterations = 200
        do {
            let r = try bp.run(g)
            guard case .notConverged = r.outcome else {
                Issue.record("a singular ring converged to \(r.marginals)"); return
            }
            #expect(!r.converged && r.marginals.allSatisfy { $0 == nil } && r.lastIterate.allSatisfy { $0 != nil })
            #expect(throws: FactorGraphError.self) { try r.convergedMarginals() }
        } catch FactorGraphError.invalidGaussian {
            // Equally acceptable: a belief that is not positive definite, refused on the spot.
        }
    }
}

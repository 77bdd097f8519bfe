import Foundation
import Testing
import FactorGraph

/// libDAI's own test graphs, with the output of its `examples/example` (exact junction tree,
/// loopy BP, max-product) and its regression file `testfast.out`.
@Suite("libDAI reference outputs")
struct LibDAIReferenceTests {
    static let graphs = ["alarm", "hoi1", "maxprodbug", "testfast", "twofactors", "zeroes1"]

    /// The blocks of an `example` output, keyed by label (`x3` → probabilities).
    struct ExampleOutput {
        var exactMarginals: [String: [Double]] = [:]
        var bpMarginals: [String: [Double]] = [:]
        var exactLogZ = Double.nan
        var bpLogZ = Double.nan
        var mapScore = Double.nan
        var mapState: [String: Int] = [:]

        init(_ text: String) {
            var block = ""
            for line in text.split(separator: "\n").map(String.init) {
                if line.hasSuffix(":") || line.contains("MAP state") { block = line }
                if line.hasPrefix("Exact log partition sum:") { exactLogZ = Double(line.split(separator: " ").last!)! }
                if line.hasPrefix("Approximate (loopy belief propagation) log partition sum:") {
                    bpLogZ = Double(line.split(separator: " ").last!)!
                }
                if line.hasPrefix("Exact MAP state (log score = ") {
                    mapScore = Double(line.dropFirst("Exact MAP state (log score = ".count).dropLast(2))!
                }
                if line.hasPrefix("({x"), !line.contains(",", before: "}") {
                    let label = String(line.dropFirst(2).prefix { $0 != "}" })
                    let inner = line.split(separator: "(").last!.split(separator: ")").first!
                    let probs = inner.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
                    if block == "Exact variable marginals:" { exactMarginals[label] = probs }
                    if block == "Approximate (loopy belief propagation) variable marginals:" {
                        bpMarginals[label] = probs
                    }
                }
                if block.hasPrefix("Exact MAP state"), line.hasPrefix("x"), let colon = line.firstIndex(of: ":") {
                    mapState[String(line[..<colon])] = Int(
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))!
                }
            }
        }
    }

    @Test("exact log Z, marginals and MAP equal libDAI's", arguments: graphs)
    func exact(name: String) throws {
        let model = try LibDAIFormat.read(path: Fixture.path("libdai/\(name).fg"))
        let ref = ExampleOutput(try Fixture.text("libdai/\(name).libdai_example.out"))
        let g = model.graph
        #expect(ref.exactMarginals.count == g.variableCount)
        let ve = try VariableElimination().solve(g)
        // libDAI prints 6 significant digits.
        #expect(
            abs(ve.logPartition - ref.exactLogZ) <= 5e-6 * max(1, abs(ref.exactLogZ)),
            "\(name): log Z \(ve.logPartition) vs \(ref.exactLogZ)")
        for (v, label) in model.labels.enumerated() {
            let expected = try #require(ref.exactMarginals["x\(label)"])
            for (p, q) in zip(ve.marginals[v], expected) { #expect(abs(p - q) <= 5e-6, "\(name) x\(label)") }
        }
        let map = try VariableElimination().mostProbableAssignment(g, evidence: .none)
        #expect(
            abs(map.logScore - ref.mapScore) <= 5e-5 * max(1, abs(ref.mapScore)),
            "\(name): MAP score \(map.logScore) vs \(ref.mapScore)")
        // libDAI's MAP state has the same score under our reading of the file.
        let theirs = model.labels.map { ref.mapState["x\($0)"] ?? 0 }
        #expect(abs(try g.logScore(theirs) - map.logScore) <= 1e-9 * max(1, abs(map.logScore)))
    }

    @Test("loopy BP reaches libDAI's BP fixed point", arguments: graphs)
    func loopyBP(name: String) throws {
        let model = try LibDAIFormat.read(path: Fixture.path("libdai/\(name).fg"))
        let ref = ExampleOutput(try Fixture.text("libdai/\(name).libdai_example.out"))
        var bp = BeliefPropagation()
        bp.options.schedule = .sequential
        bp.options.tolerance = 1e-12
        let r = try bp.run(model.graph, semiring: SumProduct.self)
        #expect(r.converged)
        #expect(
            abs(r.logPartition! - ref.bpLogZ) <= 5e-6 * max(1, abs(ref.bpLogZ)),
            "\(name): BP log Z \(r.logPartition!) vs \(ref.bpLogZ)")
        for (v, label) in model.labels.enumerated() {
            let expected = try #require(ref.bpMarginals["x\(label)"])
            for (p, q) in zip(r.marginals[v], expected) { #expect(abs(p - q) <= 5e-6, "\(name) x\(label)") }
        }
    }

    @Test("the EXACT block of testfast.out")
    func testfastExactBlock() throws {
        let lines = try Fixture.text("libdai/testfast.out").split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("EXACT") })
        var expected: [String: [Double]] = [:]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix("# ({x") else { break }
            let label = String(line.dropFirst(4).prefix { $0 != "}" })
            let inner = line.split(separator: "(").last!.split(separator: ")").first!
            expected[label] = inner.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
        }
        let model = try LibDAIFormat.read(path: Fixture.path("libdai/testfast.fg"))
        #expect(expected.count == model.graph.variableCount)
        let marginals = try VariableElimination().marginals(model.graph, evidence: .none)
        for (v, label) in model.labels.enumerated() {
            let e = try #require(expected["x\(label)"])
            // Printed with 4 significant digits.
            for (p, q) in zip(marginals[v], e) { #expect(abs(p - q) <= 5e-4) }
        }
    }

    @Test("the .fg and the .fg.uai copies of each graph are the same model", arguments: graphs)
    func formatsAgree(name: String) throws {
        let fg = try LibDAIFormat.read(path: Fixture.path("libdai/\(name).fg")).graph
        let uai = try UAIFormat.readModel(path: Fixture.path("libdai/\(name).fg.uai"))
        #expect(fg.variableCount == uai.variableCount)
        #expect(fg.factors.count == uai.factors.count)
        let a = try VariableElimination().solve(fg), b = try VariableElimination().solve(uai)
        #expect(abs(a.logPartition - b.logPartition) <= 1e-9 * max(1, abs(a.logPartition)))
        #expect(maxAbsDifference(a.marginals, b.marginals) <= 1e-9)
    }
}

private extension String {
    /// Whether `c` occurs before the first `end`.
    func contains(_ c: Character, before end: Character) -> Bool {
        guard let e = firstIndex(of: end) else { return false }
        return self[..<e].contains(c)
    }
}

import Foundation
import Testing
import NumericalCore
import FactorGraph

/// Bad input gets a typed error that says what and where — never a crash, never a silent
/// wrong answer.
@Suite("Malformed input")
struct MalformedInputTests {
    static let model = """
        MARKOV
        3
        2 2 3
        3
        1 0
        2 0 1
        2 1 2
        2
         0.4 0.6
        4
         1 2 3 4
        6
         1 1 1 1 1 1
        """

    /// Parses `text` and returns the error's line, failing the test if it parses.
    func uaiError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> (line: Int, message: String)? {
        do {
            _ = try UAIFormat.parseModel(text, path: "bad.uai")
            Issue.record("parsed, but should not have", sourceLocation: sourceLocation)
        } catch FactorGraphError.malformedFile(let path, let line, let message) {
            #expect(path == "bad.uai", sourceLocation: sourceLocation)
            return (line, message)
        } catch {
            Issue.record("wrong error type: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test("the well-formed model parses")
    func good() throws {
        let g = try UAIFormat.parseModel(Self.model)
        #expect(g.variableCount == 3 && g.factors.count == 3)
        #expect(g.factors[2].scope == [1, 2] && g.factors[2].count == 6)
    }

    @Test("truncated files name the end of file")
    func truncated() {
        for cut in [10, 20, 30, 45, Self.model.count - 3] {
            let e = uaiError(String(Self.model.prefix(cut)))
            #expect(e != nil)
        }
    }

    @Test("wrong counts, sizes and values name their line")
    func wrongCounts() {
        func replacing(_ a: String, _ b: String) -> String { Self.model.replacingOccurrences(of: a, with: b) }
        // A table with the wrong number of entries.
        #expect(uaiError(replacing("6\n 1 1 1 1 1 1", "5\n 1 1 1 1 1"))?.line == 12)
        // A negative potential.
        let neg = uaiError(replacing("0.4 0.6", "0.4 -0.6"))
        #expect(neg?.line == 9 && neg?.message.contains("non-negative") == true)
        // NaN and garbage numbers.
        #expect(uaiError(replacing("0.4 0.6", "0.4 nan"))?.line == 9)
        #expect(uaiError(replacing("0.4 0.6", "0.4 0.6x"))?.line == 9)
        // A scope naming an undeclared variable.
        let undeclared = uaiError(replacing("2 1 2\n", "2 1 7\n"))
        #expect(undeclared?.line == 7 && undeclared?.message.contains("variable 7") == true)
        // A repeated variable.
        #expect(uaiError(replacing("2 0 1\n", "2 1 1\n"))?.message.contains("twice") == true)
        // Zero cardinality, bad type, trailing junk.
        #expect(uaiError(replacing("2 2 3", "2 0 3"))?.line == 3)
        #expect(uaiError(replacing("MARKOV", "MARKUP"))?.line == 1)
        #expect(uaiError(Self.model + "\n 7")?.message.contains("after the last table") == true)
        // More functions declared than present.
        #expect(uaiError(replacing("\n3\n1 0", "\n4\n1 0")) != nil)
    }

    @Test("a BAYES table that does not normalise")
    func bayesNormalisation() throws {
        let bayes = """
            BAYES
            2
            2 2
            2
            1 0
            2 0 1
            2 0.3 0.7
            4 0.9 0.1 0.2 0.8
            """
        let g = try UAIFormat.parseModel(bayes)
        #expect(abs(try VariableElimination().logPartition(g, evidence: .none)) < 1e-12)
        let e = uaiError(bayes.replacingOccurrences(of: "0.2 0.8", with: "0.2 0.7"))
        #expect(e?.line == 8 && e?.message.contains("row 1") == true)
    }

    @Test("evidence: both forms, and out-of-range values")
    func evidence() throws {
        let g = try UAIFormat.parseModel(Self.model)
        #expect(try UAIFormat.parseEvidence("2 0 1 2 2", for: g) == [Evidence(states: [0: 1, 2: 2])])
        #expect(try UAIFormat.parseEvidence("1\n2 0 1 2 2", for: g) == [Evidence(states: [0: 1, 2: 2])])
        #expect(try UAIFormat.parseEvidence("0", for: g) == [Evidence()])
        // state 3 of a 3-state variable
        #expect(throws: FactorGraphError.self) { try UAIFormat.parseEvidence("1 2 3", for: g) }
        #expect(throws: FactorGraphError.self) { try UAIFormat.parseEvidence("1 5 0", for: g) }  // no variable 5
        #expect(throws: FactorGraphError.self) { try UAIFormat.parseEvidence("2 0 1", for: g) }  // truncated
        #expect(throws: FactorGraphError.self) { try BeliefPropagation().run(g, evidence: Evidence(states: [1: 2])) }
        #expect(throws: FactorGraphError.self) {
            try VariableElimination().solve(g, evidence: Evidence(states: [9: 0]))
        }
    }

    @Test("libDAI format errors")
    func libdai() throws {
        let good = "1\n\n2\n0 1\n2 2\n2\n0 1.5\n3 2e-1\n"
        let m = try LibDAIFormat.parse(good)
        #expect(m.graph.factors[0].values == [1.5, 0, 0, 0.2])
        // index out of range
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse("1\n\n2\n0 1\n2 2\n2\n0 1.5\n4 2\n") }
        // cardinality disagrees
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse("2\n\n1\n0\n2\n0\n\n1\n0\n3\n0\n") }
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse("1\n\n2\n0 0\n2 2\n0\n") }  // repeated label
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse("1\n\n1\n0\n2\n1\n0 -1\n") }  // negative
        #expect(throws: FactorGraphError.self) { try LibDAIFormat.parse("1\n\n1\n0\n100000000\n0\n") }  // too large
    }

    @Test("building a graph checks scopes and tables")
    func building() throws {
        var g = FactorGraph()
        let a = g.addCategorical(cardinality: 2), b = g.addCategorical(cardinality: 3)
        #expect(throws: FactorGraphError.undeclaredVariable(factor: 0, variable: 5)) {
            try g.addFactor(scope: [a, 5], values: [1, 1])
        }
        #expect(throws: FactorGraphError.repeatedVariable(factor: 0, variable: a)) {
            try g.addFactor(scope: [a, a], values: [1, 1, 1, 1])
        }
        #expect(throws: FactorGraphError.tableSizeMismatch(factor: 0, expected: 6, actual: 5)) {
            try g.addFactor(scope: [a, b], values: [1, 1, 1, 1, 1])
        }
        #expect(throws: FactorGraphError.self) { try g.addFactor(scope: [a], values: [1, .nan]) }
        #expect(throws: FactorGraphError.self) { try g.addFactor(scope: [a], logValues: [0, .nan]) }
        #expect(throws: FactorGraphError.self) { try g.addFactor(scope: [a], logValues: [0, .infinity]) }
        #expect(throws: FactorGraphError.invalidCardinality(variable: 2, value: 0)) {
            try g.addCategoricalChecked(cardinality: 0)
        }
        let y = try g.addGaussian(dimension: 2)
        #expect(throws: FactorGraphError.wrongVariableKind(variable: y, expected: "categorical")) {
            try g.addFactor(scope: [y], values: [1])
        }
        #expect(throws: FactorGraphError.self) {
            try g.addGaussianFactor(scope: [y], precision: Matrix.identity(3), potential: [0, 0])
        }
        #expect(throws: FactorGraphError.self) { try g.logScore([0, 0]) }
    }

    @Test("contradictory evidence is reported, not turned into NaN")
    func zeroProbabilityEvidence() throws {
        var g = FactorGraph()
        let a = g.addCategorical(cardinality: 2), b = g.addCategorical(cardinality: 2)
        try g.addFactor(scope: [a, b], values: [1, 0, 0, 1])
        let ev = Evidence(states: [a: 0, b: 1])
        let bp = try BeliefPropagation().run(g, evidence: ev)
        #expect(bp.logPartition == -.infinity && bp.infeasibility != nil && !bp.converged)
        #expect(throws: FactorGraphError.self) { try VariableElimination().solve(g, evidence: ev) }
        #expect(throws: FactorGraphError.self) { try BruteForceEnumeration().solve(g, evidence: ev) }
        #expect(throws: FactorGraphError.self) { try VariableElimination().mostProbableAssignment(g, evidence: ev) }
    }

    /// Hundreds of randomly mutated copies of real model files: every one either parses into a
    /// model that inference accepts, or throws a `FactorGraphError` naming the file.
    @Test(
        "mutation fuzzing of the parsers",
        arguments: [
            "libdai/alarm.fg", "libdai/hoi1.fg", "libdai/testfast.fg", "uai2014/CSP_12.uai", "uai2014/Promedus_24.uai",
            "libdai/hoi1.fg.uai"
        ])
    func fuzz(file: String) throws {
        let original = try Fixture.text(file)
        let rng = RandomSource(seed: UInt64(file.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        let replacements = [
            "", "0", "-1", "nan", "1e400", "2147483647", "99999999999999999999", "x", "3.5", "-0", "\n", "1e-320", "#"
        ]
        var parsed = 0, rejected = 0
        for _ in 0..<120 {
            var tokens = original.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            for _ in 0..<(1 + rng.integer(below: 3)) {
                let i = rng.integer(below: tokens.count)
                switch rng.integer(below: 4) {
                case 0: tokens[i] = replacements[rng.integer(below: replacements.count)]
                case 1: tokens.remove(at: i)
                case 2: tokens.insert(tokens[i], at: i)
                default: tokens = Array(tokens.prefix(i))  // truncate
                }
                if tokens.isEmpty { tokens = [""] }
            }
            let text = tokens.joined(separator: " ")
            do {
                let g =
                    file.hasSuffix(".fg")
                    ? try LibDAIFormat.parse(text, path: file).graph : try UAIFormat.parseModel(text, path: file)
                parsed += 1
                // A model that parses must be one inference accepts or rejects cleanly.
                var bp = BeliefPropagation()
                bp.options.maxIterations = 5
                do { _ = try bp.run(g) } catch is FactorGraphError {}
            } catch let error as FactorGraphError {
                rejected += 1
                #expect(error.description.contains(file), "error does not name the file: \(error)")
            }
        }
        #expect(parsed + rejected == 120)
        #expect(rejected > 0)
    }
}

@Suite("Result files")
struct ResultFileTests {
    @Test("results are written atomically, replacing an existing file, and read back")
    func atomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fg-results-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.MAR").path
        try writeAtomically(UAIFormat.marginalsResult([[0.25, 0.75]]), to: path)
        try writeAtomically(UAIFormat.marginalsResult([[0.5, 0.5], [1]]), to: path)
        #expect(
            try UAIFormat.parseResult(String(contentsOfFile: path, encoding: .utf8)) == .marginals([[0.5, 0.5], [1]]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.MAR"])
        // A killed writer's temporary file (its process gone) is removed by the next write;
        // a live writer's (this process's parent) is left alone.
        let dead = dir.appendingPathComponent(".model.MAR.tmp-2147483646").path
        let live = dir.appendingPathComponent(".model.MAR.tmp-\(getppid())").path
        for stale in [dead, live] {
            #expect(FileManager.default.createFile(atPath: stale, contents: Data("partial".utf8)))
        }
        try writeAtomically(UAIFormat.marginalsResult([[0.5, 0.5], [1]]), to: path)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [
                ".model.MAR.tmp-\(getppid())", "model.MAR"
            ])
        try FileManager.default.removeItem(atPath: live)
        #expect(throws: FactorGraphError.self) { try writeAtomically("x", to: dir.path + "/missing/dir/file") }
        let pr = UAIFormat.partitionResult(logPartition: 3.13226 * 1)
        guard case .partition(let l10) = try UAIFormat.parseResult(pr) else { Issue.record("not PR"); return }
        #expect(abs(l10 - 3.13226 / log(10)) < 1e-9)
        #expect(try UAIFormat.parseResult(UAIFormat.assignmentResult([0, 2, 1])) == .assignment([0, 2, 1]))
    }
}

@Suite("Editing a graph")
struct GraphEditingTests {
    @Test("replacing a table and adding a prebuilt factor are checked")
    func editing() throws {
        var g = FactorGraph()
        let a = g.addCategorical(cardinality: 2), b = g.addCategorical(cardinality: 3)
        let f = try g.addFactor(scope: [a, b], values: [1, 2, 3, 4, 5, 6])
        try g.setLogValues([0, 0, 0, 0, 0, log(2)], ofFactor: f)
        #expect(abs(try VariableElimination().logPartition(g, evidence: .none) - log(7)) < 1e-12)
        #expect(throws: FactorGraphError.tableSizeMismatch(factor: f, expected: 6, actual: 2)) {
            try g.setLogValues([0, 0], ofFactor: f)
        }
        #expect(throws: FactorGraphError.self) { try g.setLogValues([0, 0, 0, 0, 0, .nan], ofFactor: f) }
        let prebuilt = try DiscreteFactor(scope: [b], cardinalities: [3], values: [1, 1, 2])
        try g.add(prebuilt)
        #expect(throws: FactorGraphError.self) {
            try g.add(try DiscreteFactor(scope: [b], cardinalities: [2], values: [1, 1]))
        }
        #expect(g.factors.count == 2)
    }
}

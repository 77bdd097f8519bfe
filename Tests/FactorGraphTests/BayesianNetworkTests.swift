import Foundation
import NumericalCore
import Testing
@testable import FactorGraph

/// Bayesian networks as users write them: the BIF reader and writer on bnlearn's asia network
/// (marginals against values computed by hand from its tables), random networks against brute
/// force, sampling against exact marginals, and the errors a careless file gets.
@Suite struct BayesianNetworkTests {
    static func asia() throws -> BayesianNetwork { try BIFFormat.read(path: Fixture.path("bif/asia.bif")) }

    /// P(x = yes) of every asia variable, from its tables by hand:
    /// lung = .5·.1 + .5·.01, tub = .01·.05 + .99·.01, either = 1 − (1 − lung)(1 − tub),
    /// xray = either·.98 + (1 − either)·.05, dysp by summing over bronc and either.
    static let asiaYes: [String: Double] = {
        let lung = 0.055, tub = 0.0104, either = 1 - (1 - 0.055) * (1 - 0.0104)
        let xray = either * 0.98 + (1 - either) * 0.05
        // bronc depends on smoke, and so does either (through lung): sum over smoke.
        var dysp = 0.0
        for (ps, lungYes, broncYes) in [(0.5, 0.1, 0.6), (0.5, 0.01, 0.3)] {
            let e = 1 - (1 - lungYes) * (1 - tub)
            for (b, pb) in [(true, broncYes), (false, 1 - broncYes)] {
                for (ev, pe) in [(true, e), (false, 1 - e)] {
                    let yes = b ? (ev ? 0.9 : 0.8) : (ev ? 0.7 : 0.1)
                    dysp += ps * pb * pe * yes
                }
            }
        }
        return [
            "asia": 0.01, "tub": tub, "smoke": 0.5, "lung": lung, "bronc": 0.45, "either": either, "xray": xray,
            "dysp": dysp
        ]
    }()

    @Test func asiaReadsAndItsMarginalsAreTheHandComputedOnes() throws {
        let net = try Self.asia()
        #expect(net.nodes.map(\.name) == ["asia", "tub", "smoke", "lung", "bronc", "either", "xray", "dysp"])
        #expect(net.nodes[5].parents == [3, 1] && net.nodes[7].parents == [4, 5])
        let g = try net.factorGraph()
        let (logZ, marginals) = try VariableElimination().solve(g)
        #expect(abs(logZ) < 1e-12, "a Bayesian network's Z is 1")
        for (v, n) in net.nodes.enumerated() {
            let expected = try #require(Self.asiaYes[n.name])
            #expect(abs(marginals[v][0] - expected) < 1e-12, "P(\(n.name) = yes) \(marginals[v][0]) vs \(expected)")
        }
        #expect(abs(Self.asiaYes["dysp"]! - 0.436) < 5e-4, "the textbook's P(dysp) ≈ 0.436")
        // And the command line's reader: a .bif path is read as its factor graph.
        let viaFile = try ModelFile.read(path: Fixture.path("bif/asia.bif"))
        #expect(viaFile.factors.map(\.logValues) == g.factors.map(\.logValues))
    }

    /// ALARM (libDAI's copy, written as BIF by Scripts/fg-to-bif.py with the rows the source
    /// rounds renormalised): Z = 1, and the marginals of the libDAI file to the rounding.
    @Test func alarmAsBIFAgreesWithItsLibDAIFile() throws {
        let net = try BIFFormat.read(path: Fixture.path("bif/alarm.bif"))
        #expect(net.nodes.count == 37 && net.nodes.allSatisfy { !$0.table.isEmpty })
        let (logZ, marginals) = try VariableElimination().solve(net.factorGraph())
        #expect(abs(logZ) < 1e-12)
        let fg = try LibDAIFormat.read(path: Fixture.path("libdai/alarm.fg")).graph
        let reference = try VariableElimination().solve(fg).marginals
        let worst = zip(marginals.joined(), reference.joined()).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 5e-4, "largest difference \(worst)")
        #expect(try BIFFormat.parse(BIFFormat.text(net)) == net)
    }

    @Test func writingAndReadingBackGivesTheSameNetwork() throws {
        let net = try Self.asia()
        let text = BIFFormat.text(net, name: "asia")
        #expect(try BIFFormat.parse(text) == net)
        #expect(text.contains("probability ( either | lung, tub ) {\n  (yes, yes) 1.0, 0.0;"))
        // Random networks with awkward probabilities and names round-trip exactly, and their
        // factor graphs give brute force's marginals.
        for seed in UInt64(1)...6 {
            let random = try Self.randomNetwork(seed: seed)
            #expect(try BIFFormat.parse(BIFFormat.text(random)) == random, "seed \(seed)")
            let g = try random.factorGraph()
            let exact = try VariableElimination().marginals(g, evidence: .none)
            let brute = try BruteForceEnumeration().marginals(g, evidence: .none)
            #expect(zip(exact.joined(), brute.joined()).allSatisfy { abs($0 - $1) < 1e-12 }, "seed \(seed)")
        }
    }

    @Test func xmlbifRoundTripsAndReadsPgmpyStyleFiles() throws {
        let asia = try Self.asia()
        #expect(try XMLBIFFormat.parse(XMLBIFFormat.text(asia, name: "asia")) == asia)
        for seed in UInt64(1)...4 {
            let random = try Self.randomNetwork(seed: seed)
            #expect(try XMLBIFFormat.parse(XMLBIFFormat.text(random)) == random, "seed \(seed)")
        }
        let pgmpyStyle = """
            <?xml version="1.0" encoding="UTF-8"?>
            <BIF VERSION="0.3">
            <NETWORK>
            <NAME>rain</NAME>
            <VARIABLE TYPE="nature"><NAME>rain</NAME><OUTCOME>no</OUTCOME><OUTCOME>yes</OUTCOME>
              <PROPERTY>position = (10, 20)</PROPERTY></VARIABLE>
            <VARIABLE TYPE="nature"><NAME>wet &amp; cold</NAME><OUTCOME>dry</OUTCOME><OUTCOME>wet</OUTCOME></VARIABLE>
            <DEFINITION><FOR>rain</FOR><TABLE>0.8 0.2</TABLE></DEFINITION>
            <DEFINITION><FOR>wet &amp; cold</FOR><GIVEN>rain</GIVEN>
              <TABLE>0.9 0.1
                     0.2 0.8</TABLE></DEFINITION>
            </NETWORK>
            </BIF>
            """
        let net = try XMLBIFFormat.parse(pgmpyStyle)
        #expect(net.nodes.map(\.name) == ["rain", "wet & cold"])
        #expect(net.nodes[1].table == [0.9, 0.1, 0.2, 0.8] && net.nodes[1].parents == [0])
        let broken = pgmpyStyle.replacingOccurrences(of: "0.2 0.8</TABLE>", with: "0.2 0.7</TABLE>")
        #expect { try XMLBIFFormat.parse(broken, path: "rain.xml") } throws: {
            "\($0)".contains("P(wet & cold | rain=yes) sums to 0.9")
        }
        #expect { try XMLBIFFormat.parse("<BIF><NETWORK>", path: "cut.xml") } throws: {
            "\($0)".contains("cut.xml")
        }
        #expect(throws: FactorGraphError.self) { try XMLBIFFormat.parse("<BIF></BIF>") }
        let badNumber = pgmpyStyle.replacingOccurrences(of: "0.2 0.8</TABLE>", with: "0.2 zero</TABLE>")
        #expect(
            throws: FactorGraphError.malformedFile(path: "rain.xml", line: 11, message: "'zero' is not a probability")
        ) {
            try XMLBIFFormat.parse(badNumber, path: "rain.xml")
        }
        #expect { try XMLBIFFormat.parse("<BIF>\n<NETWORK>\n<NAME>x</NAM>", path: "tags.xml") } throws: {
            "\($0)".contains("tags.xml:3") && "\($0)".contains("mismatched tag")
        }
    }

    @Test("hostile XMLBIF: entity expansion and external entities are refused, not followed")
    func hostileXMLBIF() throws {
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE BIF [\n<!ENTITY l0 \"lol\">\n"
        for i in 1...12 { laughs += "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">\n" }
        laughs += "]>\n<BIF><NETWORK><VARIABLE><NAME>&l12;</NAME></VARIABLE></NETWORK></BIF>\n"
        #expect { try XMLBIFFormat.parse(laughs, path: "laughs.xml") } throws: {
            "\($0)".contains("laughs.xml") && "\($0)".contains("not well-formed XML")
        }
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE BIF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <BIF><NETWORK><VARIABLE><NAME>&secret;</NAME><OUTCOME>a</OUTCOME></VARIABLE>
            <DEFINITION><FOR>&secret;</FOR><TABLE>1</TABLE></DEFINITION></NETWORK></BIF>
            """
        // Expat does not load the entity: the name is empty, never the file's contents.
        do {
            let net = try XMLBIFFormat.parse(external, path: "external.xml")
            #expect(net.nodes.allSatisfy { !$0.name.contains("root") })
        } catch {
            #expect("\(error)".contains("external.xml"))
        }
    }

    /// A random DAG of 6–9 variables, 2–4 states, up to three parents each; names with spaces.
    static func randomNetwork(seed: UInt64) throws -> BayesianNetwork {
        let rng = RandomSource(seed: seed)
        var net = BayesianNetwork()
        let n = 6 + rng.integer(below: 4)
        for v in 0..<n {
            let k = 2 + rng.integer(below: 3)
            try net.addVariable(v % 3 == 0 ? "node \(v)" : "x\(v)", states: (0..<k).map { "s\($0)" })
        }
        for v in 0..<n {
            var parents: [Int] = []
            for p in 0..<v where parents.count < 3 && rng.uniform() < 0.4 { parents.append(p) }
            let rows = parents.reduce(1) { $0 * net.nodes[$1].states.count }
            let k = net.nodes[v].states.count
            let table = (0..<rows).map { _ in
                let w = (0..<k).map { _ in rng.uniform() + 1e-3 }
                let s = w.reduce(0, +)
                return w.map { $0 / s }
            }
            var generator = SeededShuffle(rng)
            try net.setConditional(v, parents: parents.shuffled(using: &generator), rows: table)
        }
        return net
    }

    @Test func forwardSamplesMatchTheExactMarginals() throws {
        let net = try Self.asia()
        let n = 200_000
        let samples = try net.sample(count: n, seed: 7)
        #expect(try net.sample(count: 10, seed: 7) == Array(samples.prefix(10)), "seeded")
        for (v, node) in net.nodes.enumerated() {
            let p = try #require(Self.asiaYes[node.name])
            let estimate = Double(samples.filter { $0[v] == 0 }.count) / Double(n)
            let sigma = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(estimate - p) <= 5 * sigma + 1e-12, "\(node.name): \(estimate) vs \(p)")
        }
    }

    @Test func likelihoodWeightingMatchesExactInferenceWithEvidence() throws {
        let net = try Self.asia()
        let g = try net.factorGraph()
        let evidence = [6: 0, 4: 1]  // xray = yes, bronc = no
        let exact = try VariableElimination().marginals(g, evidence: Evidence(states: evidence))
        let (estimate, ess) = try net.likelihoodWeighting(evidence: evidence, samples: 200_000, seed: 3)
        #expect(ess > 10_000)
        for v in net.nodes.indices {
            let tolerance = 5 * (exact[v][0] * (1 - exact[v][0]) / ess).squareRoot() + 1e-12
            #expect(abs(estimate[v][0] - exact[v][0]) <= tolerance, "\(net.nodes[v].name)")
        }
        #expect(estimate[6] == [1, 0] && estimate[4] == [0, 1])
    }

    /// Gibbs sampling with evidence on random networks (every table positive, so the chain
    /// mixes) against exact inference.
    @Test(arguments: [UInt64(2), 8])
    func gibbsMatchesExactInferenceWithEvidence(seed: UInt64) throws {
        let net = try Self.randomNetwork(seed: seed)
        let last = net.nodes.count - 1
        let evidence = [last: 1, 1: 0]
        let exact = try VariableElimination().marginals(
            try net.factorGraph(), evidence: Evidence(states: evidence))
        let estimate = try net.gibbs(evidence: evidence, samples: 40_000, burnIn: 500, seed: seed)
        #expect(
            try net.gibbs(evidence: evidence, samples: 100, burnIn: 5, seed: 1)
                == net.gibbs(evidence: evidence, samples: 100, burnIn: 5, seed: 1), "seeded")
        let worst = zip(estimate.joined(), exact.joined()).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 0.02, "largest difference \(worst)")
        #expect(estimate[last][1] == 1 && estimate[1][0] == 1)
    }

    /// Careless and hostile files: each a typed error naming the file, the line and what is
    /// wrong.
    @Test(arguments: [
        ("a row off by 0.03", "P(dysp | bronc=yes, either=no) sums to 0.97"),
        ("a row left out", "P(dysp | bronc=no, either=no) is missing"),
        ("a table given twice", "a second probability block for 'xray'"),
        ("a name used twice", "declared twice"),
        ("a negative probability", "P(smoke): P(yes) is -0.5")
    ])
    func carelessFilesAreTypedErrors(change: (String, String)) throws {
        var text = try Fixture.text("bif/asia.bif")
        switch change.1 {
        case let m where m.contains("sums to"):
            text = text.replacingOccurrences(of: "  (yes, no) 0.8, 0.2;", with: "  (yes, no) 0.8, 0.17;")
        case let m where m.contains("missing"):
            text = text.replacingOccurrences(of: "  (no, no) 0.1, 0.9;\n}", with: "}")
        case let m where m.contains("second"):
            text += "probability ( xray | either ) {\n  (yes) 0.5, 0.5;\n  (no) 0.5, 0.5;\n}\n"
        case let m where m.contains("twice"):
            text = text.replacingOccurrences(of: "variable tub {", with: "variable asia {")
        default:
            text = text.replacingOccurrences(of: "table 0.5, 0.5;", with: "table -0.5, 1.5;")
        }
        do {
            _ = try BIFFormat.parse(text, path: "asia.bif")
            Issue.record("accepted: \(change.1)")
        } catch let error as FactorGraphError {
            #expect("\(error)".contains(change.1) && "\(error)".hasPrefix("asia.bif:"), "\(error)")
        }
    }

    @Test func cyclesHostileSizesAndGarbageAreRefused() throws {
        let cycle = """
            variable a { type discrete [ 2 ] { t, f }; }
            variable b { type discrete [ 2 ] { t, f }; }
            probability ( a | b ) { (t) 0.5, 0.5; (f) 0.5, 0.5; }
            probability ( b | a ) { (t) 0.5, 0.5; (f) 0.5, 0.5; }
            """
        #expect { try BIFFormat.parse(cycle) } throws: { "\($0)".contains("the parents form a cycle") }
        var limits = ResourceLimits.standard
        limits.tableEntries = 1000
        let wide =
            (0..<12).map { "variable v\($0) { type discrete [ 2 ] { t, f }; }" }.joined(separator: "\n")
            + "\nprobability ( v0 | " + (1..<12).map { "v\($0)" }.joined(separator: ", ") + " ) { default 0.5, 0.5; }"
        #expect { try BIFFormat.parse(wide, limits: limits) } throws: { "\($0)".contains("above 1000 entries") }
        for garbage in [
            "", "network", "variable x {", "variable x { type continuous; }", "probability ( x ) { }",
            "\u{0}\u{1}{{{", "variable x { type discrete [ 99999999999999999999 ] { a }; }"
        ] {
            #expect(throws: FactorGraphError.self, "\(garbage.debugDescription)") {
                _ = try BIFFormat.parse(garbage).factorGraph()
            }
        }
    }

    @Test func theBuilderNamesTheRowThatIsNotADistribution() throws {
        var net = BayesianNetwork()
        let rain = try net.addVariable("rain", states: ["no", "yes"])
        let wet = try net.addVariable("wet", states: ["dry", "wet"])
        try net.setConditional(rain, parents: [], rows: [[0.8, 0.2]])
        #expect {
            try net.setConditional(wet, parents: [rain], rows: [[0.9, 0.1], [0.2, 0.7]])
        } throws: { "\($0)".contains("P(wet | rain=yes) sums to 0.9") }
        try net.setConditional(wet, parents: [rain], rows: [[0.9, 0.1], [0.2, 0.8]])
        let g = try net.factorGraph()
        let m = try VariableElimination().marginals(g, evidence: Evidence(states: [wet: 1]))
        #expect(abs(m[rain][1] - 0.2 * 0.8 / (0.8 * 0.1 + 0.2 * 0.8)) < 1e-12)
    }
}

/// `shuffled(using:)` with the seeded source.
struct SeededShuffle: RandomNumberGenerator {
    let rng: RandomSource
    init(_ rng: RandomSource) { self.rng = rng }
    mutating func next() -> UInt64 { rng.next() }
}

/// CHILD from the bnlearn repository: read, written back in both formats, and inferred.
@Suite("The CHILD network")
struct ChildNetworkTests {
    static func child() throws -> BayesianNetwork { try BIFFormat.read(path: Fixture.path("bif/child.bif")) }

    @Test("reads with its awkward state names; P(Disease) is the hand-computed mixture")
    func reads() throws {
        let net = try Self.child()
        #expect(net.nodes.count == 20)
        let disease = try #require(net.nodes.firstIndex { $0.name == "Disease" })
        #expect(net.nodes[disease].states == ["PFC", "TGA", "Fallot", "PAIVS", "TAPVD", "Lung"])
        let co2 = try #require(net.nodes.first { $0.name == "CO2Report" })
        #expect(co2.states == ["<7.5", ">=7.5"])
        // P(Disease) = 0.1 · P(· | asphyxia) + 0.9 · P(· | none), by hand from the file's rows.
        let yes = [0.20, 0.30, 0.25, 0.15, 0.05, 0.05]
        let no = [0.03061224, 0.33673469, 0.29591837, 0.23469388, 0.05102041, 0.05102041]
        let expected = zip(yes, no).map { 0.1 * $0 + 0.9 * $1 }
        let marginals = try JunctionTree().marginals(net.factorGraph(), evidence: .none)
        #expect(zip(marginals[disease], expected).allSatisfy { abs($0 - $1) < 1e-8 }, "\(marginals[disease])")
        #expect(net.nodes.reduce(0) { $0 + $1.table.count - $1.table.count / $1.states.count } == 230)
    }

    @Test("BIF and XMLBIF round trips; junction tree = variable elimination, with evidence")
    func roundTripsAndInference() throws {
        let net = try Self.child()
        #expect(try BIFFormat.parse(BIFFormat.text(net, name: "child")) == net)
        #expect(try XMLBIFFormat.parse(XMLBIFFormat.text(net, name: "child")) == net)
        let g = try net.factorGraph()
        func index(_ name: String) throws -> Int { try #require(net.nodes.firstIndex { $0.name == name }) }
        let ev = Evidence(states: [try index("LowerBodyO2"): 0, try index("CO2Report"): 1, try index("XrayReport"): 3])
        let ve = try VariableElimination().solve(g, evidence: ev)
        let jt = try JunctionTree().calibrate(g, evidence: ev, mode: .sumProduct)
        #expect(abs(jt.logPartition - ve.logPartition) < 1e-12)
        #expect(maxAbsDifference(try JunctionTree().marginals(g, evidence: ev), ve.marginals) < 1e-12)
        let map = try JunctionTree().mostProbableAssignment(g, evidence: ev)
        let exact = try VariableElimination().mostProbableAssignment(g, evidence: ev)
        #expect(abs(map.logScore - exact.logScore) < 1e-12)
        let mplp = try MPLP().run(g, evidence: ev)
        #expect(abs(mplp.assignment.logScore - exact.logScore) < 1e-12 && mplp.upperBound >= exact.logScore - 1e-12)
    }

    @Test("forward samples and likelihood weighting within tolerance of the exact marginals")
    func sampling() throws {
        let net = try Self.child()
        let g = try net.factorGraph()
        let exact = try VariableElimination().marginals(g, evidence: .none)
        let samples = try net.sample(count: 40_000, seed: 11)
        var counts = net.nodes.map { [Double](repeating: 0, count: $0.states.count) }
        for x in samples { for (v, s) in x.enumerated() { counts[v][s] += 1 } }
        let estimate = counts.map { $0.map { $0 / 40_000 } }
        #expect(maxAbsDifference(estimate, exact) < 0.015)
        let disease = try #require(net.nodes.firstIndex { $0.name == "Disease" })
        let ev = [try #require(net.nodes.firstIndex { $0.name == "LowerBodyO2" }): 0]
        let weighted = try net.likelihoodWeighting(evidence: ev, samples: 40_000, seed: 5)
        let conditional = try VariableElimination().marginals(g, evidence: Evidence(states: ev))
        #expect(zip(weighted.marginals[disease], conditional[disease]).allSatisfy { abs($0 - $1) < 0.02 })
    }
}

import ArgumentParser
import FactorGraphCommands
import Testing

@Suite("infer's command line read directly agrees with ArgumentParser")
struct InferCommandLineTests {
    /// ArgumentParser's long option names for `infer`, from its help text.
    static func argumentParserNames() -> Set<String> {
        let help = Infer.helpMessage(columns: 10_000)
        var names = Set<String>()
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }) where word.hasPrefix("--") {
            names.insert(String(word.prefix { $0 == "-" || $0.isLetter }))
        }
        names.remove("--help")
        return names
    }

    @Test("the same option names")
    func sameNames() {
        let names = Self.argumentParserNames()
        #expect(names.count >= 17)
        #expect(InferCommandLine.optionNames == names)
    }

    /// A small deterministic generator (SplitMix64).
    struct Draw {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
    }

    /// Values of every kind, most valid, some not (unknown names, malformed numbers, out of range).
    static let values: [String: [String]] = [
        "--evidence": ["e.evid", "dir/with space.evid"],
        "--output": ["out.txt"],
        "--json": ["r.json", "-"],
        "--task": ["PR", "MAR", "MAP", "MPE", "mar", "XYZ"],
        "--algorithm": ["exact", "jtree", "bp", "mplp", "gibbs", "bruteforce", "loopy"],
        "--schedule": ["automatic", "tree", "parallel", "sequential", "random", "fast"],
        "--domain": ["automatic", "log", "linear"],
        "--threads": ["1", "2", "8", "0", "2000", "two"],
        "--damping": ["0", "0.5", "0.99", "1", "1e-3", "nan", "x"],
        "--tolerance": ["1e-9", "0", "1e-6", "inf", "abc"],
        "--max-iterations": ["1", "100", "0", "1.5"],
        "--forest-rounds": ["0", "50", "7"],
        "--samples": ["1", "100", "10000", "1e4"],
        "--burn-in": ["0", "10", "1000"],
        "--chains": ["1", "2", "4", "0"],
        "--seed": ["0", "42", "18446744073709551615", "18446744073709551616"],
        "--limit": ["variables=10", "tableEntries=2^20", "nonsense=1"]
    ]

    @Test("random command lines: wherever the direct reading answers, ArgumentParser reads the same request")
    func randomLines() throws {
        var draw = Draw(state: 2026)
        let names = Array(Self.values.keys).sorted()
        var direct = 0, fallBack = 0
        for _ in 0..<3000 {
            var line: [String] = []
            for _ in 0..<Int(draw.next() % 6) {
                let name = draw.pick(names)
                line += [name, draw.pick(Self.values[name] ?? [])]
            }
            let at = Int(draw.next() % UInt64(line.count / 2 + 1)) * 2
            line.insert(draw.pick(["model.uai", "grid.fg", "asia.bif"]), at: at)
            let fast = InferCommandLine.request(line)
            let full = try? Infer.parse(line).request
            if let fast {
                direct += 1
                #expect(full == fast, "\(line)")
            } else {
                // The direct reading declines only what ArgumentParser refuses, here: every
                // generated word is a known name or a value of the simple form it reads.
                #expect(full == nil, "\(line): read by ArgumentParser but declined")
                fallBack += 1
            }
        }
        #expect(direct > 500 && fallBack > 500, "\(direct) read directly, \(fallBack) left to ArgumentParser")
    }

    @Test("what the direct reading leaves to ArgumentParser: help, --name=value, abbreviations, negative values")
    func declined() {
        for line in [
            ["--help"], ["model.uai", "-h"], ["model.uai", "--task=PR"], ["model.uai", "--tas", "PR"],
            ["model.uai", "--damping", "-0.5"], ["model.uai", "--json"], ["a.uai", "b.uai"], [],
            ["model.uai", "--", "x"], ["model.uai", "--version"]
        ] {
            #expect(InferCommandLine.request(line) == nil, "\(line)")
        }
        let r = InferCommandLine.request(["m.uai", "--limit", "variables=5", "--task", "PR", "--limit", "cardinality=9"]
        )
        #expect(r?.settings.limitAssignments == ["variables=5", "cardinality=9"])
        #expect(r?.settings.task == .PR && r?.model == "m.uai")
        #expect(InferCommandLine.request(["m.uai", "--task", "PR", "--task", "MAP"])?.settings.task == .MAP)
    }
}

import Foundation
import Testing
import NumericalCore

/// The `drmm` command under careless and hostile input, through the code paths a user runs
/// (not only the parsers): every run either answers or refuses with a typed error; none
/// crashes, exhausts a 4 GiB address space, or hangs.
@Suite("Robustness of the command line", .serialized)
struct RobustnessTests {
    let cli = Invocation()
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-robust-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = "\(dir)/\(name)"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func expectClean(_ tally: Tally, _ what: String) {
        print("\(what): \(tally)")
        #expect(
            tally.count(.crash) == 0 && tally.count(.memoryBlowup) == 0 && tally.count(.hang) == 0,
            "\(what): \(tally)\n\(tally.examples.joined(separator: "\n---\n"))")
    }

    @Test("mutated UAI, libDAI and evidence files through exact, BP and brute force, for PR, MAR and MAP")
    func inferenceFuzz() throws {
        let rng = RandomSource(seed: 2026)
        let mutator = Mutator(rng: rng)
        var tally = Tally()
        let bases = [
            ("uai", Inputs.markov(n: 6, rng: rng)), ("uai", Inputs.bayes(n: 5, rng: rng)),
            ("fg", Inputs.libDAI(rng: rng))
        ]
        for k in 0..<36 {
            let (ext, base) = bases[k % bases.count]
            let model = try write(mutator.mutateText(base), "m\(k).\(ext)")
            let runs =
                ["exact", "bp", "bruteforce", "jtree"].flatMap { a in ["PR", "MAR", "MAP"].map { (a, $0) } }
                + [("mplp", "MAP"), ("gibbs", "MAR")]
            for (algorithm, task) in runs {
                let args = [
                    "infer", model, "--task", task, "--algorithm", algorithm, "--max-iterations", "500", "--samples",
                    "200", "--burn-in", "20"
                ]
                tally.record(try cli.run(args), arguments: args, file: model)
            }
        }
        // Mutated evidence on a valid model.
        let model = try write(bases[0].1, "valid.uai")
        for k in 0..<24 {
            let evidence = try write(mutator.mutateText(Inputs.evidence(k: 3)), "e\(k).evid")
            for (task, algorithm) in [("PR", "exact"), ("MAR", "bp"), ("MAP", "bruteforce")] {
                let args = ["infer", model, "--evidence", evidence, "--task", task, "--algorithm", algorithm]
                tally.record(try cli.run(args), arguments: args, file: evidence)
            }
        }
        expectClean(tally, "infer")
        #expect(tally.count(.answer) > 0 && tally.count(.refusal) > 0)
        #expect(Double(tally.refusalsNamingTheFile) >= 0.9 * Double(tally.count(.refusal)), "\(tally)")
    }

    /// A tiny data directory and a checkpoint trained on it, for the data and checkpoint cases.
    func trainedCheckpoint() throws -> (data: String, options: [String], checkpoint: [String: Any]) {
        let data = "\(dir)/mnist"
        try Inputs.mnist(at: data, train: 60, test: 40, rng: RandomSource(seed: 3))
        let out = "\(dir)/base"
        let options = [
            "--model", "rfm", "--epochs", "1", "--data", data, "--train-limit", "60", "--test-limit", "40", "--quiet",
            "--workers", "1"
        ]
        let r = try cli.run(["train"] + options + ["--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/checkpoint.json")))
            as! [String: Any]
        return (data, options, json)
    }

    /// Sets the value at a path of keys and array indices.
    static func setting(_ value: Any, at path: [Any], in object: Any) -> Any {
        guard let key = path.first else { return value }
        let rest = Array(path.dropFirst())
        if let k = key as? String, var d = object as? [String: Any] {
            d[k] = setting(value, at: rest, in: d[k] as Any); return d
        }
        if let i = key as? Int, var a = object as? [Any], i < a.count {
            a[i] = setting(value, at: rest, in: a[i]); return a
        }
        return object
    }

    /// Every numeric leaf's path.
    static func numericPaths(_ object: Any, prefix: [Any] = []) -> [[Any]] {
        if let d = object as? [String: Any] {
            return d.keys.sorted().flatMap { numericPaths(d[$0]!, prefix: prefix + [$0]) }
        }
        if let a = object as? [Any] {
            return a.indices.prefix(4).flatMap { numericPaths(a[$0], prefix: prefix + [$0]) }
        }
        return object is NSNumber ? [prefix] : []
    }

    @Test("hostile and mutated checkpoints through evaluate, --resume and --init-from are refused by path before use")
    func checkpointFuzz() throws {
        let (data, options, base) = try trainedCheckpoint()
        // Resumable: the same checkpoint after 0 of its 1 epochs.
        var fresh = base
        fresh["epoch"] = 0
        fresh["history"] = [Any]()
        let targeted: [(String, [Any], Any)] = [
            ("channels 2^62", ["architecture", "layers", 0, "channels"], 1 << 62),
            ("channels 10^9", ["architecture", "layers", 0, "channels"], 1_000_000_000),
            ("kernel 2^62", ["architecture", "layers", 0, "kernel"], 1 << 62),
            ("input 2^31 × 2^31", ["architecture", "inputShape"], [1, 1 << 31, 1 << 31]),
            ("classes 2^62", ["architecture", "classes"], 1 << 62),
            ("epoch −3", ["epoch"], -3),
            ("epoch 10^9", ["epoch"], 1_000_000_000),
            ("step Int.max", ["optimizerState", "step"], Int.max),
            ("switch rates out of range", ["switchRates"], [2.0, -1.0]),
            ("switch rates too many", ["switchRates"], [0.5, 0.5, 0.5]),
            ("workers 100000", ["configuration", "workers"], 100_000),
            ("learning rate −1", ["configuration", "optimizer", "learningRate"], -1.0),
            ("parameters not base64", ["parameters"], "%%%"),
            ("format", ["format"], "drmm-checkpoint-0")
        ]
        let rng = RandomSource(seed: 27)
        var cases: [(String, Any)] = targeted.map { ($0.0, Self.setting($0.2, at: $0.1, in: fresh)) }
        cases.append(("empty history after an epoch", Self.setting([Any](), at: ["history"], in: base)))
        let leaves = Self.numericPaths(fresh)
        for k in 0..<24 {
            let path = leaves[rng.integer(below: leaves.count)]
            let value: Any = [0, -1, 1 << 40, Int.max, 1e300, -0.5, 3][rng.integer(below: 7)]
            cases.append(
                (
                    "random \(k): \(path.map { "\($0)" }.joined(separator: ".")) = \(value)",
                    Self.setting(value, at: path, in: fresh)
                ))
        }
        var tally = Tally()
        for (k, (name, object)) in cases.enumerated() {
            let out = "\(dir)/c\(k)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let path = "\(out)/checkpoint.json"
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            let runs: [[String]] = [
                ["evaluate", "--checkpoint", path, "--data", data, "--workers", "1"],
                ["train"] + options + ["--out", out, "--resume"],
                ["train"] + options + ["--out", out + "-tuned", "--init-from", path]
            ]
            for args in runs {
                let r = try cli.run(args)
                tally.record(r, arguments: args, file: path)
                if k < targeted.count + 1 {
                    // Every targeted case is refused, naming the checkpoint.
                    #expect(
                        r.outcome == .refusal && r.stderr.contains(path),
                        "\(name): drmm \(args[0]) → \(r.outcome): \(r.stderr.suffix(300))")
                }
            }
        }
        // The untouched checkpoint resumes and evaluates.
        let good = "\(dir)/good"
        try FileManager.default.createDirectory(atPath: good, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: fresh).write(to: URL(fileURLWithPath: "\(good)/checkpoint.json"))
        let resumed = try cli.run(["train"] + options + ["--out", good, "--resume"])
        #expect(resumed.outcome == .answer, "\(resumed.stderr)")
        // Metrics one epoch ahead of the checkpoint (a run killed between the two writes) are
        // rewritten from the checkpoint on resume.
        let metrics = "\(good)/metrics.jsonl"
        let lines = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(lines.split(separator: "\n").count == 1)
        try (lines + #"{"epoch":2}"# + "\n").write(toFile: metrics, atomically: false, encoding: .utf8)
        let again = try cli.run(["train"] + options + ["--out", good, "--resume"])
        #expect(again.outcome == .answer, "\(again.stderr)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8) == lines)
        #expect(try FileManager.default.contentsOfDirectory(atPath: good).allSatisfy { !$0.contains(".tmp-") })
        expectClean(tally, "checkpoints")
    }

    @Test("mutated IDX files through train and evaluate; the 16-byte overflow header is refused by name")
    func dataFuzz() throws {
        let (data, options, _) = try trainedCheckpoint()
        let checkpoint = "\(dir)/base/checkpoint.json"
        let mutator = Mutator(rng: RandomSource(seed: 16))
        var tally = Tally()
        let files = [
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
        ]
        for k in 0..<24 {
            let bad = "\(dir)/idx\(k)"
            try? FileManager.default.removeItem(atPath: bad)
            try FileManager.default.copyItem(atPath: data, toPath: bad)
            let name = files[k % files.count]
            let path = "\(bad)/\(name)"
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let header = name.contains("images") ? 16 : 8
            let mutated =
                k == 0
                ? [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) : mutator.mutateBytes(original, header: header)
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            let args =
                name.hasPrefix("t10k")
                ? ["evaluate", "--checkpoint", checkpoint, "--data", bad, "--workers", "1"]
                : ["train"] + options.map { $0 == data ? bad : $0 } + ["--out", "\(bad)/run"]
            let r = try cli.run(args)
            tally.record(r, arguments: args, file: path)
            if k == 0 { #expect(r.outcome == .refusal && r.stderr.contains(path), "\(r.stderr)") }
        }
        // The same 16-byte header as the training images.
        let bad = "\(dir)/idx-train"
        try? FileManager.default.removeItem(atPath: bad)
        try FileManager.default.copyItem(atPath: data, toPath: bad)
        let path = "\(bad)/train-images-idx3-ubyte"
        try Data([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12)).write(to: URL(fileURLWithPath: path))
        let args = ["train"] + options.map { $0 == data ? bad : $0 } + ["--out", "\(bad)/run"]
        let r = try cli.run(args)
        tally.record(r, arguments: args, file: path)
        #expect(r.outcome == .refusal && r.stderr.contains(path), "\(r.stderr)")
        expectClean(tally, "data")
    }

    @Test("each hostile case reported: memory bombs, slow inputs, bad option values")
    func regressions() throws {
        var tally = Tally()
        func expectRefusal(_ args: [String], naming: String? = nil, _ note: String) throws {
            let r = try cli.run(args)
            tally.record(r, arguments: args, file: naming)
            #expect(r.outcome == .refusal, "\(note): \(r.outcome) \(r.stderr.suffix(300))")
            if let naming { #expect(r.stderr.contains(naming), "\(note): \(r.stderr)") }
        }
        let oneFactor = try write("1\n0\n67108864\n0\n", "bomb.fg")
        try expectRefusal(
            ["infer", oneFactor, "--task", "MAR"], naming: oneFactor, "a 15-byte libDAI factor of 2^26 entries")
        var eight = "8\n"
        for l in 0..<8 { eight += "\n1\n\(l)\n16777216\n0\n" }
        let eightFactors = try write(eight, "bombs.fg")
        try expectRefusal(["infer", eightFactors, "--task", "MAR"], naming: eightFactors, "eight 2^24 factors")
        let wide = try write("MARKOV 1 2147483647 0", "wide.uai")
        try expectRefusal(
            ["infer", wide, "--task", "MAR", "--algorithm", "bp"], naming: wide, "a variable of 2^31 states")
        let wider = try write("MARKOV 1 67108864 0", "wider.uai")
        try expectRefusal(["infer", wider, "--task", "MAR"], naming: wider, "a variable of 2^26 states")
        // A 100 × 100 grid: exact inference refuses, naming its estimated size.
        var grid = "MARKOV\n10000\n" + Array(repeating: "2", count: 10000).joined(separator: " ") + "\n"
        var scopes: [String] = []
        for i in 0..<100 {
            for j in 0..<100 {
                let v = i * 100 + j
                if j < 99 { scopes.append("2 \(v) \(v + 1)") }
                if i < 99 { scopes.append("2 \(v) \(v + 100)") }
            }
        }
        grid +=
            "\(scopes.count)\n" + scopes.joined(separator: "\n") + "\n"
            + String(repeating: "4 2 1 1 2\n", count: scopes.count)
        let gridPath = try write(grid, "grid.uai")
        let refused = try cli.run(["infer", gridPath, "--task", "PR"])
        tally.record(refused, arguments: ["infer", gridPath], file: nil)
        #expect(refused.outcome == .refusal && refused.stderr.contains("GiB"), "\(refused.stderr)")
        // 200,000 variables and no factors: answered.
        let empty = try write(
            "MARKOV\n200000\n" + Array(repeating: "2", count: 200_000).joined(separator: " ") + "\n0\n", "empty.uai")
        let answered = try cli.run(["infer", empty, "--task", "PR"])
        tally.record(answered, arguments: ["infer", empty], file: nil)
        #expect(answered.outcome == .answer && answered.stdout.contains("60205.999"), "\(answered.stdout)")
        // CRLF files parse, and give the LF file's answer.
        let rng = RandomSource(seed: 8)
        let lf = Inputs.markov(n: 5, rng: rng)
        let a = try cli.run(["infer", try write(lf, "lf.uai"), "--task", "MAR"])
        let b = try cli.run([
            "infer", try write(lf.replacingOccurrences(of: "\n", with: "\r\n"), "crlf.uai"), "--task", "MAR"
        ])
        #expect(a.outcome == .answer && a.stdout == b.stdout, "\(b.stderr)")
        // Impossible evidence: PR −∞ with a notice, MAR and MAP refused naming both files.
        let eq = try write("MARKOV 2 2 2 1 2 0 1 4 1 0 0 1", "eq.uai"), ev = try write("2 0 0 1 1", "eq.evid")
        for algorithm in ["exact", "bp", "bruteforce", "jtree"] {
            let pr = try cli.run(["infer", eq, "--evidence", ev, "--task", "PR", "--algorithm", algorithm])
            #expect(
                pr.outcome == .answer && pr.stdout.contains("-inf") && pr.stderr.contains(ev),
                "\(algorithm): \(pr.stderr)")
            for task in ["MAR", "MAP"] {
                try expectRefusal(
                    ["infer", eq, "--evidence", ev, "--task", task, "--algorithm", algorithm], naming: ev,
                    "\(algorithm) \(task) on impossible evidence")
            }
        }
        // A triangle of ≠ constraints (Z = 0) run by loopy BP: answered, with the note that loopy
        // BP cannot prove Z > 0.
        let triangle = try write("MARKOV 3 2 2 2 3 2 0 1 2 1 2 2 0 2 4 0 1 1 0 4 0 1 1 0 4 0 1 1 0", "tri.uai")
        let loopy = try cli.run(["infer", triangle, "--task", "MAR", "--algorithm", "bp"])
        #expect(loopy.outcome == .answer && loopy.stderr.contains("cannot prove"), "\(loopy.stderr)")
        try expectRefusal(
            ["infer", triangle, "--task", "MAR", "--algorithm", "exact"], naming: triangle, "exact MAR on the triangle")
        // Option values.
        for bad in [
            ["coupled", "--lr", "nan"], ["coupled", "--lr", "inf"], ["coupled", "--test", "0"],
            ["render", "--classes", "1000000"],
            ["train", "--workers", "100000", "--quiet"], ["infer", eq, "--damping", "nan"],
            ["infer", eq, "--limit", "tableEntries=0"],
            ["evaluate", "--checkpoint", "x", "--workers", "0"]
        ] {
            try expectRefusal(bad, "drmm \(bad.joined(separator: " "))")
        }
        expectClean(tally, "regressions")
    }
}

import Foundation
import Testing
import FactorGraph

/// `drmm infer` end to end: the built executable reads a model, writes a UAI result file, and
/// the file holds what the library computes.
@Suite("drmm infer")
struct CommandLineTests {
    /// The `drmm` executable, built next to the test bundle by `swift test`.
    static var executable: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("drmm")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let executable = try #require(Self.executable, "drmm executable not found next to the test bundle")
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("PR, MAR and MAP result files match the library")
    func results() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Fixture.path("uai2014/Promedus_24.uai"), evidence = model + ".evid"
        let g = try UAIFormat.readModel(path: model)
        let ev = try UAIFormat.readEvidence(path: evidence, for: g)
        let exact = try VariableElimination().solve(g, evidence: ev)

        #expect(
            try run(["infer", model, "--evidence", evidence, "--task", "PR", "--output", dir.path + "/r.PR"]).status
                == 0)
        guard
            case .partition(let l10) = try UAIFormat.parseResult(
                String(contentsOfFile: dir.path + "/r.PR", encoding: .utf8))
        else { Issue.record("not PR"); return }
        #expect(abs(l10 - exact.logPartition / log(10)) < 1e-8)

        #expect(
            try run([
                "infer", model, "--evidence", evidence, "--task", "MAR", "--algorithm", "bp", "--output",
                dir.path + "/r.MAR"
            ]).status == 0)
        guard
            case .marginals(let m) = try UAIFormat.parseResult(
                String(contentsOfFile: dir.path + "/r.MAR", encoding: .utf8))
        else { Issue.record("not MAR"); return }
        #expect(m.count == g.variableCount)

        let r = try run(["infer", model, "--evidence", evidence, "--task", "MAP", "--output", dir.path + "/r.MPE"])
        #expect(r.status == 0 && r.stderr.contains("exact"))
        guard
            case .assignment(let x) = try UAIFormat.parseResult(
                String(contentsOfFile: dir.path + "/r.MPE", encoding: .utf8))
        else { Issue.record("not MPE"); return }
        let best = try VariableElimination().mostProbableAssignment(g, evidence: ev)
        #expect(abs(try g.logScore(x, evidence: ev) - best.logScore) < 1e-9)

        // --json: the same answers as JSON.
        func json(_ task: String) throws -> [String: Any] {
            let path = dir.path + "/r-\(task).json"
            #expect(try run(["infer", model, "--evidence", evidence, "--task", task, "--json", path]).status == 0)
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            return try #require(object as? [String: Any])
        }
        #expect(abs((try json("PR")["logZ"] as? Double ?? .nan) - exact.logPartition) < 1e-8)
        #expect((try json("MAR")["marginals"] as? [[Double]])?.count == g.variableCount)
        #expect(try json("MAP")["states"] as? [Int] == x)
    }

    @Test("jtree, mplp and gibbs from the command line, with iterations, bounds and times in --json")
    func newAlgorithms() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-cli-alg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func json(_ arguments: [String]) throws -> [String: Any] {
            let path = dir.path + "/r.json"
            let r = try run(["infer"] + arguments + ["--json", path])
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            return try #require(object as? [String: Any])
        }
        let alarm = Fixture.path("bif/alarm.bif")
        let g = try ModelFile.read(path: alarm)
        let exact = try VariableElimination().solve(g)
        let jt = try json([alarm, "--task", "MAR", "--algorithm", "jtree"])
        #expect(maxAbsDifference(try #require(jt["marginals"] as? [[Double]]), exact.marginals) < 1e-8)
        #expect((jt["seconds"] as? Double ?? -1) >= 0)

        let best = try VariableElimination().mostProbableAssignment(g, evidence: .none)
        let mplp = try json([alarm, "--task", "MAP", "--algorithm", "mplp"])
        let score = try #require(mplp["logScore"] as? Double), bound = try #require(mplp["upperBound"] as? Double)
        #expect(abs(score - best.logScore) < 1e-9, "MPLP decodes ALARM's exact MAP")
        #expect(bound >= best.logScore - 1e-9 && abs((mplp["gap"] as? Double ?? -1) - (bound - score)) < 1e-12)
        #expect((mplp["iterations"] as? Int ?? 0) >= 1 && mplp["converged"] is Bool)

        let ising = Fixture.path("ising/ising10.uai")
        let gibbs = try json([ising, "--task", "MAR", "--algorithm", "gibbs", "--samples", "20000", "--seed", "3"])
        let m = try #require(gibbs["marginals"] as? [[Double]])
        let bp = try VariableElimination().marginals(try ModelFile.read(path: ising), evidence: .none)
        #expect(maxAbsDifference(m, bp) < 0.05)
        #expect((gibbs["chainDisagreement"] as? Double ?? 1) < 0.1)

        let bpRun = try json([ising, "--task", "MAR", "--algorithm", "bp", "--schedule", "parallel"])
        #expect(bpRun["converged"] as? Bool == true && (bpRun["iterations"] as? Int ?? 0) > 1)
        #expect(bpRun["semiring"] as? String == "sum-product")
        let threaded = try json([
            ising, "--task", "MAR", "--algorithm", "bp", "--schedule", "parallel", "--threads", "2"
        ])
        #expect(threaded["marginals"] as? [[Double]] == bpRun["marginals"] as? [[Double]])
        let linear = try json([ising, "--task", "MAR", "--algorithm", "bp"])
        let logDomain = try json([ising, "--task", "MAR", "--algorithm", "bp", "--domain", "log"])
        #expect(logDomain["semiring"] as? String == "log-sum-product")
        #expect(
            maxAbsDifference(
                try #require(logDomain["marginals"] as? [[Double]]), try #require(linear["marginals"] as? [[Double]]))
                < 1e-8)

        let asia = try run(["infer", Fixture.path("bif/asia.bif"), "--task", "MAR", "--algorithm", "gibbs"])
        #expect(asia.status == 0 && asia.stderr.contains("have not mixed"), "deterministic asia: \(asia.stderr)")
        #expect(try run(["infer", alarm, "--task", "PR", "--algorithm", "mplp"]).status != 0)
        #expect(try run(["infer", alarm, "--task", "MAP", "--algorithm", "gibbs"]).status != 0)
    }

    @Test("a bad file exits non-zero with the file and line")
    func badFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(getpid()).uai").path
        try "MARKOV\n1\n2\n1\n1 0\n2 0.5 nan\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try run(["infer", path, "--task", "PR"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(path):6:"))
    }
}

/// `drmm train` and `drmm evaluate` end to end on a few hundred digits: the files they write,
/// resuming, and refusals that name the file at fault and leave the checkpoint untouched.
@Suite("drmm train")
struct TrainCommandTests {
    static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data/mnist").path

    @Test func trainEvaluateAndRefuse() throws {
        let cli = CommandLineTests()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-train-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = [
            "--data", Self.mnist, "--train-limit", "300", "--test-limit", "200", "--out", dir, "--quiet", "--workers",
            "1"
        ]
        let ok = try cli.run(["train", "--model", "rfm", "--epochs", "1"] + common)
        #expect(ok.status == 0, "\(ok.stderr)")
        for file in [
            "checkpoint.json", "metrics.jsonl", "results.json", "templates.png", "reconstructions.png", "samples.png",
            "error-curve.png"
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(file)"), "\(file) missing")
        }
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/checkpoint.json"))

        // A checkpoint of another architecture: refused with its path, nothing overwritten.
        let other = try cli.run(["train", "--model", "drmm2", "--epochs", "1", "--resume"] + common)
        #expect(other.status != 0)
        #expect(other.stderr.contains("\(dir)/checkpoint.json") && other.stderr.contains("rfm"), "\(other.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/checkpoint.json")) == checkpoint)

        // More labels than images; a missing data directory.
        let labels = try cli.run(["train", "--model", "rfm", "--mode", "semi", "--labels", "1000"] + common)
        #expect(labels.status != 0 && labels.stderr.contains("1000"), "\(labels.stderr)")
        let missing = try cli.run(["train", "--model", "rfm", "--data", "/nonexistent/mnist", "--out", dir, "--quiet"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/mnist"), "\(missing.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/checkpoint.json")) == checkpoint)

        // Fine-tuning from it elsewhere: starts from its parameters; another architecture is refused.
        let tuned = dir + "-tuned"
        defer { try? FileManager.default.removeItem(atPath: tuned) }
        let tuneOptions = [
            "--data", Self.mnist, "--train-limit", "300", "--test-limit", "200", "--quiet", "--workers", "1", "--out",
            tuned,
            "--init-from", "\(dir)/checkpoint.json", "--epochs", "3", "--labels", "50"
        ]
        let tune = try cli.run(
            [
                "train", "--model", "rfm", "--evaluate-every", "2", "--balance", "0.3", "--translate", "2",
                "--pseudo-label", "0.5", "--pseudo-threshold", "0.9", "--pseudo-temperature", "0.5", "--rotate", "10",
                "--scale", "0.1",
                "--teacher-decay", "0.9"
            ] + tuneOptions)
        #expect(tune.status == 0, "\(tune.stderr)")
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(tuned)/results.json")))
            as? [String: Any]
        #expect(report?["initialization"] as? String == "from \(dir)/checkpoint.json")
        // The options beyond the paper are the run's extensions, each with its settings.
        let extensions = (report?["configuration"] as? [String: Any])?["extensions"] as? [String: [String: Any]]
        #expect(extensions?["classBalance"]?["weight"] as? Double == 0.3, "\(String(describing: extensions))")
        #expect(
            extensions?["pseudoLabels"]?["weight"] as? Double == 0.5
                && extensions?["pseudoLabels"]?["threshold"] as? Double == 0.9)
        #expect(extensions?["pseudoLabels"]?["temperature"] as? Double == 0.5)
        #expect(extensions?["augmentation"]?["translation"] as? Int == 2)
        #expect(extensions?["augmentation"]?["rotation"] as? Double == 10)
        #expect(extensions?["augmentation"]?["scaling"] as? Double == 0.1)
        #expect(extensions?["rampUp"] == nil && extensions?["recalibration"] == nil)
        // Tested after epochs 2 and 3 (the last), not after epoch 1.
        let tested = (report?["history"] as? [[String: Any]])?.map { $0["testError"] != nil }
        #expect(tested == [false, true, true], "\(String(describing: report?["history"]))")
        // The teacher is evaluated beside the student, and `drmm evaluate --teacher` measures the same.
        #expect(extensions?["meanTeacher"]?["decay"] as? Double == 0.9)
        let teacherError = try #require(report?["teacherTestError"] as? Double)
        #expect((report?["history"] as? [[String: Any]])?.map { $0["teacherTestError"] != nil } == [false, true, true])
        let teacherJSON = "\(tuned)/teacher.json"
        let teacher = try cli.run([
            "evaluate", "--checkpoint", "\(tuned)/checkpoint.json", "--teacher", "--data", Self.mnist, "--test-limit",
            "200",
            "--workers", "1", "--json", teacherJSON
        ])
        #expect(teacher.status == 0, "\(teacher.stderr)")
        let measured =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: teacherJSON)))
            as? [String: Any]
        #expect(measured?["testError"] as? Double == teacherError)
        let noTeacher = try cli.run([
            "evaluate", "--checkpoint", "\(dir)/checkpoint.json", "--teacher", "--data", Self.mnist, "--test-limit",
            "200"
        ])
        #expect(
            noTeacher.status != 0 && noTeacher.stderr.contains("\(dir)/checkpoint.json")
                && noTeacher.stderr.contains("no teacher"), "\(noTeacher.stderr)")
        let teacherDecay = try cli.run(["train", "--model", "rfm", "--teacher-decay", "1"] + tuneOptions)
        #expect(teacherDecay.status != 0 && teacherDecay.stderr.contains("teacher's decay"), "\(teacherDecay.stderr)")
        #expect(try cli.run(["train", "--model", "rfm", "--evaluate-every", "0"] + tuneOptions).status != 0)
        let decay = try cli.run(["train", "--model", "rfm", "--weight-decay", "-1e-4"] + tuneOptions)
        #expect(decay.status != 0 && decay.stderr.contains("weight decay"), "\(decay.stderr)")
        let balance = try cli.run(["train", "--model", "rfm", "--balance", "nan"] + tuneOptions)
        #expect(balance.status != 0 && balance.stderr.contains("class-balance"), "\(balance.stderr)")
        let threshold = try cli.run(
            ["train", "--model", "rfm", "--pseudo-label", "1", "--pseudo-threshold", "2"] + tuneOptions)
        #expect(threshold.status != 0 && threshold.stderr.contains("pseudo-label threshold"), "\(threshold.stderr)")
        let temperature = try cli.run(
            ["train", "--model", "rfm", "--pseudo-label", "1", "--pseudo-temperature", "nan"] + tuneOptions)
        #expect(
            temperature.status != 0 && temperature.stderr.contains("pseudo-label temperature"), "\(temperature.stderr)")
        let recalibrate = try cli.run(["train", "--model", "rfm", "--recalibrate", "2"] + tuneOptions)
        #expect(
            recalibrate.status != 0 && recalibrate.stderr.contains("--recalibrate needs --batch-norm"),
            "\(recalibrate.stderr)")
        let scale = try cli.run(["train", "--model", "rfm", "--scale", "1"] + tuneOptions)
        #expect(scale.status != 0 && scale.stderr.contains("scaling"), "\(scale.stderr)")
        let ramp = try cli.run(["train", "--model", "rfm", "--ramp-up", "-5"] + tuneOptions)
        #expect(ramp.status != 0 && ramp.stderr.contains("ramp-up"), "\(ramp.stderr)")
        let shift = try cli.run(["train", "--model", "rfm", "--translate", "30"] + tuneOptions)
        #expect(shift.status != 0 && shift.stderr.contains("translation of 30"), "\(shift.stderr)")
        let wrong = try cli.run(["train", "--model", "drmm2"] + tuneOptions)
        #expect(wrong.status != 0 && wrong.stderr.contains("\(dir)/checkpoint.json"), "\(wrong.stderr)")
        let both = try cli.run(["train", "--model", "rfm", "--resume"] + tuneOptions)
        #expect(both.status != 0, "\(both.stderr)")

        let eval = try cli.run([
            "evaluate", "--checkpoint", "\(dir)/checkpoint.json", "--data", Self.mnist, "--test-limit", "200",
            "--workers", "1"
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        // Progress into a pipe (not a terminal): plain lines, no carriage returns.
        let logged = try cli.run([
            "train", "--model", "rfm", "--epochs", "1", "--data", Self.mnist, "--train-limit", "300", "--test-limit",
            "100",
            "--out", dir + "-logged", "--workers", "1"
        ])
        defer { try? FileManager.default.removeItem(atPath: dir + "-logged") }
        #expect(
            logged.status == 0 && !logged.stderr.contains("\r") && logged.stderr.contains("epoch 1 supervised"),
            "\(logged.stderr)")

        // drmm verify: the certificate as JSON. The RFM's class templates are signed (E2 does not
        // hold), so it searches; every inferred configuration's score matches the convnet's.
        let certificateJSON = "\(dir)/certificate.json"
        let verify = try cli.run([
            "verify", "--checkpoint", "\(dir)/checkpoint.json", "--data", Self.mnist, "--test-limit", "50",
            "--workers", "1", "--search-images", "1", "--search-moves", "20", "--json", certificateJSON
        ])
        #expect(verify.status == 0, "\(verify.stderr)")
        let certificate =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: certificateJSON)))
            as? [String: Any]
        #expect(certificate?["imagesChecked"] as? Int == 50 && certificate?["predictionsAgreeing"] as? Int == 50)
        #expect((certificate?["largestRelativeScoreDifference"] as? Double ?? 1) < 1e-4)
        #expect(
            (certificate?["negativeTemplateEntries"] as? Int ?? 0) > 0 && certificate?["searchedImages"] as? Int == 1)
        let noCheckpoint = try cli.run(["verify", "--checkpoint", "\(dir)/none.json", "--data", Self.mnist])
        #expect(noCheckpoint.status != 0 && noCheckpoint.stderr.contains("\(dir)/none.json"), "\(noCheckpoint.stderr)")
        let corrupt = "\(dir)/corrupt.json"
        try "{\"format\": \"drmm-checkpoint-1\"}".write(toFile: corrupt, atomically: true, encoding: .utf8)
        let bad = try cli.run(["evaluate", "--checkpoint", corrupt, "--data", Self.mnist])
        #expect(bad.status != 0 && bad.stderr.contains(corrupt), "\(bad.stderr)")
    }

    /// The convolution algorithm is recorded: `--resume` without `--convolution` keeps the
    /// checkpoint's, and asking for the other one is refused with the checkpoint's path.
    @Test func resumeKeepsOrChangesTheExecutionOptions() throws {
        let cli = CommandLineTests()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-conv-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = [
            "train", "--model", "drmm2", "--epochs", "1", "--data", Self.mnist, "--train-limit", "200", "--test-limit",
            "100",
            "--out", dir, "--quiet", "--workers", "1"
        ]
        let first = try cli.run(common + ["--convolution", "im2col"])
        #expect(first.status == 0, "\(first.stderr)")
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/results.json")))
            as? [String: Any]
        #expect((report?["configuration"] as? [String: Any])?["convolution"] as? String == "im2col")
        let resumed = try cli.run(common + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // Another algorithm or worker count continues the run (up to rounding), and says so.
        let twoWorkers = Array(common.dropLast(2)) + ["--workers", "2"]
        let other = try cli.run(twoWorkers + ["--resume", "--convolution", "winograd"])
        #expect(other.status == 0 && other.stderr.contains("not bit-identically"), "\(other.stderr)")
        let continued =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/results.json")))
            as? [String: Any]
        let options = continued?["configuration"] as? [String: Any]
        #expect(options?["convolution"] as? String == "winograd" && options?["workers"] as? Int == 2)
        #expect((continued?["history"] as? [Any])?.count == 1)
        // Any other option must be the checkpoint's.
        let changed = try cli.run(twoWorkers + ["--resume", "--lr", "0.5"])
        #expect(changed.status != 0 && changed.stderr.contains("\(dir)/checkpoint.json"), "\(changed.stderr)")
    }
}

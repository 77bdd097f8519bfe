#if MPI
import Foundation
import Testing

/// `drmm` built with the trait MPI, run under `mpirun -np 2` as a user runs it: two ranks
/// train, run EM and batch inference exactly as one process does; a killed or hung rank ends
/// the job with the checkpoint intact, and a resume on one rank finishes the same run; ranks
/// that disagree are refused.
@Suite(.serialized) struct MPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let mnist = root.appendingPathComponent("Data/mnist").path

    /// A fresh folder for one test's runs.
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "drmm-mpi-\(name)-\(getpid())"
        ).path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// `mpirun`'s own options: Open MPI needs `--oversubscribe` for more ranks than cores
    /// and, as root, permission (given through its environment variables).
    static let launcherOptions: [String] = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "mpirun --version 2>&1"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try? p.run()
        p.waitUntilExit()
        let version = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return version.contains("Open MPI") ? ["--oversubscribe"] : []
    }()

    /// A process started in the background with its output in files.
    final class Job {
        let process = Process()
        let log: String
        init(_ command: [String], in directory: String, log: String) throws {
            self.log = log
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["timeout", "-k", "5", "120"] + command
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            var environment = ProcessInfo.processInfo.environment
            environment["OPENBLAS_NUM_THREADS"] = "1"
            environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
            process.environment = environment
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = FileHandle(forWritingAtPath: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        /// Waits for the end; the exit status and the output.
        func finish() -> (status: Int32, output: String) {
            process.waitUntilExit()
            let text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
            return (process.terminationStatus, text)
        }
    }

    static func drmm() throws -> String {
        guard let d = Invocation.executable() else { throw CocoaError(.fileNoSuchFile) }
        return d
    }

    /// `mpirun -np ranks drmm arguments`, or `drmm arguments` for `ranks` 0 (no MPI), in
    /// `directory`; waits for the end.
    static func run(ranks: Int, _ arguments: [String], in directory: String) throws -> (Int32, String) {
        let d = try drmm()
        let command = ranks == 0 ? [d] + arguments : ["mpirun", "-np", "\(ranks)"] + launcherOptions + [d] + arguments
        return try Job(command, in: directory, log: directory + "/log-\(UUID().uuidString)").finish()
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The parameters of a checkpoint: little-endian Float32 bytes, base64-encoded.
    static func parameters(_ checkpoint: String) throws -> Data {
        let text = try #require(try json(checkpoint)["parameters"] as? String)
        return try #require(Data(base64Encoded: text))
    }

    static func trainArguments(out: String, epochs: Int, extra: [String] = []) -> [String] {
        [
            "train", "--workers", "2", "--train-limit", "240", "--test-limit", "60", "--epochs", "\(epochs)",
            "--batch", "24", "--data", mnist, "--quiet", "--out", out
        ] + extra
    }

    /// Two ranks of one shard each train the same network as one process of two workers,
    /// bit for bit, with batch normalisation, semi-supervised, with pseudo-labels.
    @Test func twoRanksTrainAsOneProcess() throws {
        let dir = try Self.folder("train")
        let extra = [
            "--batch-norm", "--mode", "semi", "--labels", "60", "--pseudo-label", "0.5", "--pseudo-threshold",
            "0.6", "--recalibrate", "2", "--seed", "3"
        ]
        let (s1, o1) = try Self.run(ranks: 0, Self.trainArguments(out: "one", epochs: 2, extra: extra), in: dir)
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try Self.run(
            ranks: 2, Self.trainArguments(out: "two", epochs: 2, extra: extra + ["--mpi"]), in: dir)
        #expect(s2 == 0, "\(o2)")
        #expect(o2.contains("over 2 MPI ranks"))
        let one = try Self.parameters(dir + "/one/checkpoint.json")
        let two = try Self.parameters(dir + "/two/checkpoint.json")
        #expect(one.count > 4000 && one == two, "parameters after 2 epochs differ")
        let e1 = try Self.json(dir + "/one/results.json"), e2 = try Self.json(dir + "/two/results.json")
        #expect(e1["testError"] as? Double == e2["testError"] as? Double)
        #expect(FileManager.default.fileExists(atPath: dir + "/two/templates.png"), "rank 0 draws the pictures")
    }

    /// EM's M-step over two ranks equals the one-process M-step (hard and soft).
    @Test(arguments: ["hard", "soft"])
    func emOverTwoRanksEqualsOneProcess(method: String) throws {
        let dir = try Self.folder("em-\(method)")
        let architecture = dir + "/tiny.json"
        try Data(
            (#"{"name": "tiny", "inputShape": [1, 28, 28], "classes": 10, "top": "meanPool", "#
                + #""layers": [{"channels": 3, "kernel": 5, "padding": "valid", "pool": 2}]}"#).utf8
        ).write(to: URL(fileURLWithPath: architecture))
        let arguments = [
            "em", "--method", method, "--architecture", architecture, "--train-limit", "50", "--iterations", "2",
            "--temperature", "0.5", "--data", Self.mnist
        ]
        let (s1, o1) = try Self.run(ranks: 0, arguments + ["--json", "one.json"], in: dir)
        let (s2, o2) = try Self.run(ranks: 2, arguments + ["--mpi", "--json", "two.json"], in: dir)
        #expect(s1 == 0 && s2 == 0, "\(o1)\n\(o2)")
        let one = try Self.json(dir + "/one.json"), two = try Self.json(dir + "/two.json")
        #expect(two["ranks"] as? Int == 2)
        let p1 = try #require(one["parameters"] as? [Double]), p2 = try #require(two["parameters"] as? [Double])
        #expect(p1.count == p2.count && zip(p1, p2).allSatisfy { abs($0 - $1) <= 1e-9 })
        let t1 = try #require(one["trace"] as? [[Double]]), t2 = try #require(two["trace"] as? [[Double]])
        #expect(zip(t1.joined(), t2.joined()).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0)) }, "\(t1) \(t2)")
    }

    /// A rank killed mid-run ends the job within seconds with a non-zero exit; the last
    /// checkpoint reads; resuming it on one rank finishes the very run that one process
    /// would have trained uninterrupted.
    @Test func killedRankEndsTheJobAndTheRunResumesOnOneRank() throws {
        let dir = try Self.folder("kill")
        let epochs = 60
        let d = try Self.drmm()
        let job = try Job(
            ["mpirun", "-np", "2"] + Self.launcherOptions + [d]
                + Self.trainArguments(out: "run", epochs: epochs, extra: ["--mpi"]),
            in: dir, log: dir + "/job.log")
        let checkpoint = dir + "/run/checkpoint.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.2)
        let victims = try Self.pids(matching: "--out run")
        try #require(victims.count == 2, "two ranks running: \(victims)")
        let killed = Date()
        kill(victims[1], SIGKILL)
        let (status, output) = job.finish()
        let seconds = Date().timeIntervalSince(killed)
        #expect(status != 0, "\(output)")
        #expect(seconds < 30, "the job took \(seconds) s to end")
        let stopped = try #require(try Self.json(checkpoint)["epoch"] as? Int)
        #expect(stopped >= 1 && stopped < epochs, "killed after epoch \(stopped) of \(epochs)")

        let (s1, o1) = try Self.run(
            ranks: 0, Self.trainArguments(out: "run", epochs: epochs, extra: ["--resume"]), in: dir)
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try Self.run(ranks: 0, Self.trainArguments(out: "whole", epochs: epochs), in: dir)
        #expect(s2 == 0, "\(o2)")
        #expect(try Self.json(checkpoint)["epoch"] as? Int == epochs)
        #expect(try Self.parameters(checkpoint) == Self.parameters(dir + "/whole/checkpoint.json"))
    }

    /// A rank that hangs (stopped) makes the others give up after --step-timeout.
    @Test func hungRankEndsTheJobAfterTheStepTimeout() throws {
        let dir = try Self.folder("hang")
        let d = try Self.drmm()
        let job = try Job(
            ["mpirun", "-np", "2"] + Self.launcherOptions + [d]
                + Self.trainArguments(out: "run", epochs: 200, extra: ["--mpi", "--step-timeout", "2"]),
            in: dir, log: dir + "/job.log")
        let checkpoint = dir + "/run/checkpoint.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let ranks = try Self.pids(matching: "--out run")
        try #require(ranks.count == 2)
        let stopped = Date()
        kill(ranks[1], SIGSTOP)
        let (status, output) = job.finish()
        let seconds = Date().timeIntervalSince(stopped)
        #expect(status != 0)
        #expect(output.contains("--step-timeout"), "\(output)")
        #expect(seconds < 30, "the job took \(seconds) s to end")
        #expect(try Self.json(checkpoint)["epoch"] as? Int ?? 0 >= 1, "the checkpoint reads")
    }

    /// Ranks with other options, or another binary, are refused at the start on every rank.
    @Test func mismatchedRanksAreRefused() throws {
        let dir = try Self.folder("mismatch")
        let d = try Self.drmm()
        let base = Self.trainArguments(out: "run", epochs: 1, extra: ["--mpi"])
        let options = try Job(
            ["mpirun"] + Self.launcherOptions + ["-np", "1", d] + base + ["--seed", "1", ":", "-np", "1", d] + base
                + ["--seed", "2"], in: dir, log: dir + "/options.log"
        ).finish()
        #expect(options.status != 0)
        #expect(options.output.contains("the command line of rank 1 differs from rank 0's"), "\(options.output)")
        let copy = dir + "/drmm-other"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: d))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: copy))
        chmod(copy, 0o755)
        let binary = try Job(
            ["mpirun"] + Self.launcherOptions + ["-np", "1", d] + base + [":", "-np", "1", copy] + base, in: dir,
            log: dir + "/binary.log"
        ).finish()
        #expect(binary.status != 0)
        #expect(binary.output.contains("the program (drmm binary) of rank 1 differs"), "\(binary.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/checkpoint.json"), "nothing was trained")
    }

    /// Batch inference over two ranks: the files dealt in turn, the answers gathered in input
    /// order, the same as one process's.
    @Test func batchInferenceGathersInInputOrder() throws {
        let dir = try Self.folder("batch")
        let models = Self.root.appendingPathComponent("Tests/FactorGraphTests/Fixtures/uai2014")
        let files = try FileManager.default.contentsOfDirectory(atPath: models.path).filter {
            $0.hasSuffix(".uai") && !$0.hasPrefix("linkage")
        }.sorted().map { models.appendingPathComponent($0).path }
        let arguments = ["batch", "infer"] + files + ["--task", "PR", "--evidence"]
        let (s1, o1) = try Self.run(ranks: 0, arguments + ["--json", "one.json"], in: dir)
        let (s2, o2) = try Self.run(ranks: 2, arguments + ["--mpi", "--json", "two.json"], in: dir)
        #expect(s1 == 0 && s2 == 0, "\(o1)\n\(o2)")
        let one = try #require(try Self.json(dir + "/one.json")["results"] as? [[String: Any]])
        let two = try #require(try Self.json(dir + "/two.json")["results"] as? [[String: Any]])
        #expect(two.map { $0["path"] as? String } == files)
        #expect(two.map { $0["rank"] as? Int } == files.indices.map { $0 % 2 })
        for (a, b) in zip(one, two) {
            let x = try #require((a["result"] as? [String: Any])?["log10Z"] as? Double)
            let y = try #require((b["result"] as? [String: Any])?["log10Z"] as? Double)
            #expect(x == y, "\(a["path"] ?? "")")
        }
    }

    /// The process ids of `drmm` ranks whose command line contains `marker`, in start order.
    static func pids(matching marker: String) throws -> [pid_t] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        p.arguments = ["-f", "^[^ ]*drmm train .*\(marker)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").compactMap { pid_t($0) }.sorted()
    }
}
#endif

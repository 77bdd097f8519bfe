import Foundation

/// A built executable (`drmm` unless named), run the way a user runs it, under a time limit
/// and an address-space cap, with each run classified by how it ended.
struct Invocation {
    /// How one run ended.
    enum Outcome: String, CaseIterable {
        /// Exit 0.
        case answer
        /// A non-zero exit with an `Error:` message (a typed error reached the user).
        case refusal
        /// Killed by a signal or a runtime trap (`Fatal error`), not for memory.
        case crash
        /// Died for lack of memory under the cap.
        case memoryBlowup
        /// Still running at the time limit.
        case hang
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        let outcome: Outcome
    }

    /// Seconds before a run counts as hung.
    var timeLimit = 60
    /// Address space of a run, in KiB (4 GiB).
    var memoryLimit = 4 << 20
    /// The executable's name.
    var program = "drmm"

    /// The executable `program` next to the test bundle.
    static func executable(_ program: String = "drmm") -> String? {
        var dir = URL(fileURLWithPath: Swift.CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir.deleteLastPathComponent()
        }
        return nil
    }

    func run(_ arguments: [String]) throws -> Run {
        guard let drmm = Self.executable(program) else { throw CocoaError(.fileNoSuchFile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // timeout: TERM at the limit, KILL 5 s later; exit 124 when it had to.
        p.arguments = ["-c", "ulimit -v \(memoryLimit); exec timeout -k 5 \(timeLimit) \"$0\" \"$@\"", drmm] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        p.environment = environment
        // Output goes to files, so that no pipe can fill and block the process.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "drmm-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        ).path
        guard FileManager.default.createFile(atPath: base + ".out", contents: nil),
            FileManager.default.createFile(atPath: base + ".err", contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        defer { unlink(base + ".out"); unlink(base + ".err") }
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let outData = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let errData = FileManager.default.contents(atPath: base + ".err") ?? Data()
        let stderr = String(decoding: errData, as: UTF8.self)
        let status = p.terminationStatus
        return Run(
            status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr,
            outcome: Self.classify(status: status, stderr: stderr))
    }

    static func classify(status: Int32, stderr: String) -> Outcome {
        let memory = ["alloc", "out of memory", "Cannot allocate", "std::bad_alloc"].contains { stderr.contains($0) }
        if status == 124 { return .hang }
        if status >= 128 || stderr.contains("Fatal error") { return memory ? .memoryBlowup : .crash }
        if status == 0 { return .answer }
        return stderr.contains("Error:") ? .refusal : .crash
    }
}

/// Counts of outcomes, with the first few of each bad kind kept for the failure message.
struct Tally: CustomStringConvertible {
    var counts: [Invocation.Outcome: Int] = [:]
    var refusalsNamingTheFile = 0
    var examples: [String] = []

    mutating func record(_ r: Invocation.Run, arguments: [String], file: String?) {
        counts[r.outcome, default: 0] += 1
        if r.outcome == .refusal, let file, r.stderr.contains(file) { refusalsNamingTheFile += 1 }
        if r.outcome != .answer && r.outcome != .refusal && examples.count < 10 {
            examples.append(
                "\(r.outcome) (exit \(r.status)): drmm \(arguments.joined(separator: " "))\n\(r.stderr.suffix(400))")
        }
    }

    var total: Int { counts.values.reduce(0, +) }
    func count(_ o: Invocation.Outcome) -> Int { counts[o] ?? 0 }

    var description: String {
        "\(total) runs: \(count(.answer)) answers, \(count(.refusal)) typed refusals (\(refusalsNamingTheFile) "
            + "naming the file), "
            + "\(count(.crash)) crashes, \(count(.memoryBlowup)) memory blowups, \(count(.hang)) hangs"
    }
}

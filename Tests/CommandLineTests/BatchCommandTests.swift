import Foundation
import Testing

/// `drmm batch evaluate` and `batch verify` over a folder of checkpoints, in one process: one
/// result per file in name order, each the single-file command's answer; a broken file is
/// reported in its entry and makes the command fail after the others.
@Suite struct BatchCommandTests {
    static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data/mnist").path

    @Test func batchEvaluateAndVerifyAFolderOfCheckpoints() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-batch-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        for seed in [1, 2] {
            let r = try Invocation().run([
                "train", "--train-limit", "100", "--test-limit", "20", "--epochs", "1", "--batch", "20", "--seed",
                "\(seed)", "--data", Self.mnist, "--quiet", "--out", dir + "/run\(seed)", "--nonnegative-upper"
            ])
            #expect(r.outcome == .answer, "\(r.stderr)")
            try FileManager.default.copyItem(
                atPath: dir + "/run\(seed)/checkpoint.json", toPath: dir + "/models/m\(seed).json")
        }
        let data = ["--data", Self.mnist, "--test-limit", "50"]
        let evaluate = try Invocation().run(["batch", "evaluate", dir + "/models", "--json", dir + "/e.json"] + data)
        #expect(evaluate.outcome == .answer, "\(evaluate.stderr)")
        let results = try Self.results(dir + "/e.json")
        #expect(results.map { ($0["path"] as? String)?.hasSuffix(".json") } == [true, true])
        for (i, seed) in [1, 2].enumerated() {
            let single = try Invocation().run(
                ["evaluate", "--checkpoint", dir + "/models/m\(seed).json", "--json", dir + "/s.json"] + data)
            #expect(single.outcome == .answer)
            let expected = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
            let want = (expected as? [String: Any])?["testError"] as? Double
            #expect((results[i]["result"] as? [String: Any])?["testError"] as? Double == want)
        }
        let verify = try Invocation().run(["batch", "verify", dir + "/models", "--json", dir + "/v.json"] + data)
        #expect(verify.outcome == .answer, "\(verify.stderr)")
        #expect(
            try Self.results(dir + "/v.json").allSatisfy {
                ($0["result"] as? [String: Any])?["certified"] as? Bool == true
            })

        try "not a checkpoint".write(toFile: dir + "/models/broken.json", atomically: true, encoding: .utf8)
        let broken = try Invocation().run(["batch", "evaluate", dir + "/models", "--json", dir + "/b.json"] + data)
        #expect(broken.outcome == .refusal && broken.stderr.contains("1 file(s) failed"), "\(broken.stderr)")
        let entries = try Self.results(dir + "/b.json")
        #expect(entries.count == 3 && entries[0]["error"] != nil && entries[1]["result"] != nil)
    }

    static func results(_ path: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        return try #require((object as? [String: Any])?["results"] as? [[String: Any]])
    }
}

import Foundation
import Testing

/// `drmm sample`, `drmm learn` and `drmm infer` on a BIF network, as a user chains them.
@Suite struct BayesianNetworkCommandTests {
    static let asia = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FactorGraphTests/Fixtures/bif/asia.bif").path

    @Test func sampleLearnAndInferChain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-bn-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let csv = dir + "/cases.csv", learned = dir + "/learned.bif", json = dir + "/marginals.json"
        let sample = try Invocation().run(["sample", Self.asia, "--count", "20000", "--seed", "5", "--output", csv])
        #expect(sample.outcome == .answer, "\(sample.stderr)")
        // A fifth of the cells blanked: learning runs EM.
        var lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        for i in 1..<lines.count where i % 5 == 0 {
            var cells = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[i % cells.count] = ""
            lines[i] = cells.joined(separator: ",")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let learn = try Invocation().run(["learn", Self.asia, "--data", csv, "--out", learned])
        #expect(
            learn.outcome == .answer && learn.stdout.hasPrefix("EM from 20000 cases (4000 missing values)"),
            "\(learn.stdout)\(learn.stderr)")
        let infer = try Invocation().run(["infer", learned, "--task", "MAR", "--json", json])
        #expect(infer.outcome == .answer, "\(infer.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        let marginals = try #require((object as? [String: Any])?["marginals"] as? [[Double]])
        #expect(abs(marginals[7][0] - 0.436) < 0.02, "P(dysp = yes) \(marginals[7][0])")
        #expect(abs(marginals[3][0] - 0.055) < 0.01, "P(lung = yes) \(marginals[3][0])")

        try "asia,smoke\nyes,sometimes\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let bad = try Invocation().run(["learn", Self.asia, "--data", csv, "--out", learned])
        #expect(bad.outcome == .refusal && bad.stderr.contains("cases.csv:2: column 2: 'sometimes'"), "\(bad.stderr)")
    }
}

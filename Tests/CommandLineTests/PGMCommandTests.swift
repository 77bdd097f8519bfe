import Foundation
import Testing

/// `pgm`, the model-file tool that links FactorGraph alone: the same answers as `drmm`, whether
/// its command line is read directly or by ArgumentParser.
@Suite struct PGMCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FactorGraphTests/Fixtures").path

    @Test("pgm infer = drmm infer on UAI, libDAI and BIF models; --name=value (ArgumentParser) = --name value")
    func sameAnswers() throws {
        let pgm = Invocation(program: "pgm"), drmm = Invocation()
        let grid = Self.fixtures + "/ising/ising10.fg"
        let promedus = Self.fixtures + "/uai2014/Promedus_24.uai"
        let cases: [[String]] = [
            [grid, "--task", "MAR", "--algorithm", "bp", "--schedule", "sequential"],
            [grid, "--task", "PR", "--algorithm", "jtree"],
            [grid, "--task", "MAP", "--algorithm", "mplp", "--max-iterations", "200"],
            [promedus, "--evidence", promedus + ".evid", "--task", "MAR", "--algorithm", "jtree"],
            [Self.fixtures + "/bif/asia.bif", "--task", "MAR"]
        ]
        for arguments in cases {
            let direct = try pgm.run(["infer"] + arguments)
            #expect(direct.outcome == .answer, "\(arguments) \(direct.stderr)")
            #expect(direct.stdout.count > 4)
            // `--task=…` is left to ArgumentParser.
            var spelled = arguments
            if let t = spelled.firstIndex(of: "--task") {
                spelled[t] = "--task=" + spelled[t + 1]
                spelled.remove(at: t + 1)
            }
            #expect(try pgm.run(["infer"] + spelled).stdout == direct.stdout, "\(spelled)")
            #expect(try drmm.run(["infer"] + arguments).stdout == direct.stdout, "\(arguments)")
        }
        let json = try pgm.run(["infer", grid, "--task", "PR", "--json", "-"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(abs((object?["log10Z"] as? Double ?? 0) - 39.27343526) < 1e-8, "\(json.stdout)")
    }

    @Test("errors as drmm reports them: a missing file, an invalid setting, a misspelled option")
    func errors() throws {
        let pgm = Invocation(program: "pgm")
        let grid = Self.fixtures + "/ising/ising10.fg"
        let missing = try pgm.run(["infer", "/nonexistent/model.uai"])
        #expect(missing.outcome == .refusal && missing.stderr.contains("/nonexistent/model.uai"))
        let damping = try pgm.run(["infer", grid, "--damping", "2"])
        #expect(damping.status == 64 && damping.stderr.contains("--damping must be in [0, 1)"), "\(damping.stderr)")
        let typo = try pgm.run(["infer", grid, "--algoritm", "bp"])
        #expect(typo.status == 64 && typo.stderr.contains("--algoritm"), "\(typo.stderr)")
        let help = try pgm.run(["infer", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--max-iterations"))
    }
}

import Foundation
import Testing
import FactorGraph

/// UAI model and evidence writers: what they write reads back as the same model.
@Suite("UAI writers")
struct UAIWriterTests {
    static let models = [
        "libdai/alarm.fg", "libdai/hoi1.fg", "libdai/zeroes1.fg", "libdai/testfast.fg",
        "uai2014/Grids_12.uai", "uai2014/Promedus_24.uai"
    ]

    @Test("model text round trip: same variables, scopes and tables; same exact log Z", arguments: models)
    func roundTrip(name: String) throws {
        let graph = try ModelFile.read(path: Fixture.path(name))
        let back = try UAIFormat.parseModel(try UAIFormat.modelText(graph), path: "written.uai")
        #expect(back.cardinalities == graph.cardinalities)
        #expect(back.factors.map(\.scope) == graph.factors.map(\.scope))
        for (a, b) in zip(graph.factors, back.factors) {
            #expect(zip(a.logValues, b.logValues).allSatisfy { $0 == $1 || abs($0 - $1) <= 1e-15 * max(1, abs($0)) })
        }
        if graph.variableCount <= 200 {
            let z0 = try VariableElimination().logPartition(graph, evidence: .none)
            let z1 = try VariableElimination().logPartition(back, evidence: .none)
            #expect(abs(z0 - z1) <= 1e-10 * max(1, abs(z0)))
        }
    }

    @Test("evidence text round trip, written atomically; Gaussian graphs are refused")
    func evidenceAndRefusal() throws {
        let graph = try ModelFile.read(path: Fixture.path("uai2014/Promedus_24.uai"))
        let evidence = try UAIFormat.readEvidence(path: Fixture.path("uai2014/Promedus_24.uai.evid"), for: graph)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("written-\(getpid()).evid").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try UAIFormat.writeEvidence(evidence, to: path)
        #expect(try UAIFormat.readEvidence(path: path, for: graph).states == evidence.states)
        var g = FactorGraph()
        _ = try g.addGaussian()
        #expect(throws: FactorGraphError.self) { try UAIFormat.modelText(g) }
    }
}

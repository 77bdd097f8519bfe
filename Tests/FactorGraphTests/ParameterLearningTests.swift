import Foundation
import NumericalCore
import Testing
@testable import FactorGraph

/// Parameter learning from data sampled from known networks: maximum likelihood is the
/// counts, EM never lowers the likelihood and recovers the tables with values missing, and
/// CSV files are read as users write them.
@Suite struct ParameterLearningTests {
    /// A copy of `network` with every row uniform.
    static func uniform(_ network: BayesianNetwork) throws -> BayesianNetwork {
        var u = network
        for (v, n) in network.nodes.enumerated() {
            let k = n.states.count
            try u.setConditional(
                v, parents: n.parents,
                rows: [[Double]](repeating: [Double](repeating: 1 / Double(k), count: k), count: n.table.count / k))
        }
        return u
    }

    @Test func maximumLikelihoodIsTheCountsAndThePseudocountSmoothsThem() throws {
        let asia = try BayesianNetworkTests.asia()
        let data = Observations(rows: try asia.sample(count: 5000, seed: 11).map { $0.map(Optional.some) })
        var learned = try Self.uniform(asia)
        try learned.learnMaximumLikelihood(from: data)
        // P(lung = yes | smoke = no) by counting.
        let smokers = data.rows.filter { $0[2] == 1 }
        let expected = Double(smokers.filter { $0[3] == 0 }.count) / Double(smokers.count)
        #expect(abs(learned.nodes[3].table[2] - expected) < 1e-15)
        // Within 4σ of the true tables where the parents are common.
        #expect(abs(learned.nodes[4].table[0] - 0.6) < 4 * (0.24 / 2500).squareRoot())
        var smoothed = try Self.uniform(asia)
        try smoothed.learnMaximumLikelihood(from: data, pseudocount: 1)
        let asiaYes = Double(data.rows.filter { $0[0] == 0 }.count)
        #expect(abs(smoothed.nodes[0].table[0] - (asiaYes + 1) / (5000 + 2)) < 1e-15)
        #expect(throws: FactorGraphError.self) {
            var copy = asia
            try copy.learnMaximumLikelihood(from: Observations(rows: [[nil, 0, 0, 0, 0, 0, 0, 0]]))
        }
    }

    /// Data from random networks with 25 % of the values missing: EM from uniform tables
    /// raises the observed-data likelihood at every iteration and lands near the true tables.
    @Test(arguments: [UInt64(3), 4, 5])
    func emRecoversTheTablesWithValuesMissing(seed: UInt64) throws {
        let truth = try BayesianNetworkTests.randomNetwork(seed: seed)
        let rng = RandomSource(seed: seed + 100)
        let complete = try truth.sample(count: 8000, seed: seed)
        let data = Observations(rows: complete.map { row in row.map { rng.uniform() < 0.25 ? nil : $0 } })
        var learned = try Self.uniform(truth)
        let trace = try learned.learnByEM(from: data, iterations: 200, tolerance: 1e-7)
        #expect(zip(trace, trace.dropFirst()).allSatisfy { $1 >= $0 - 1e-9 * abs($0) }, "\(trace.prefix(5))")
        // Rows whose parent configuration is common enough to be estimated.
        var worst = 0.0
        let marginals = try VariableElimination().solve(truth.factorGraph()).marginals
        for (v, n) in truth.nodes.enumerated() where n.parents.count <= 1 {
            let k = n.states.count
            for r in 0..<(n.table.count / k) {
                let weight = n.parents.isEmpty ? 1 : marginals[n.parents[0]][r]
                guard weight * 8000 * 0.75 > 800 else { continue }
                for s in 0..<k { worst = max(worst, abs(learned.nodes[v].table[r * k + s] - n.table[r * k + s])) }
            }
        }
        #expect(worst < 0.08, "largest error \(worst)")
        #expect(trace.last! > trace.first!)
        // Complete data: EM's first M-step is maximum likelihood, and it stops there.
        var viaEM = try Self.uniform(truth), viaML = try Self.uniform(truth)
        let full = Observations(rows: complete.map { $0.map(Optional.some) })
        try viaEM.learnByEM(from: full, iterations: 5)
        try viaML.learnMaximumLikelihood(from: full)
        #expect(zip(viaEM.nodes.flatMap(\.table), viaML.nodes.flatMap(\.table)).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func csvFilesReadAsUsersWriteThem() throws {
        let asia = try BayesianNetworkTests.asia()
        let text = "dysp, smoke,asia\nyes,no,?\n\"no\",,no\r\nyes,yes,NA\n\n"
        let data = try Observations.parseCSV(text, path: "cases.csv", for: asia)
        #expect(data.rows.count == 3)
        #expect(data.rows[0] == [nil, nil, 1, nil, nil, nil, nil, 0])
        #expect(data.rows[1] == [1, nil, nil, nil, nil, nil, nil, 1])
        let round = try Observations.parseCSV(data.csvText(for: asia), for: asia)
        #expect(round == data)
        for (bad, message) in [
            ("dysp,weather\nyes,sun\n", "'weather', is not a variable"),
            ("dysp,smoke\nyes\n", "cases.csv:2: 1 cells"),
            ("dysp,smoke\nyes,maybe\n", "cases.csv:2: column 2: 'maybe' is not a state of 'smoke'"),
            ("dysp,dysp\nyes,no\n", "two columns")
        ] {
            #expect { try Observations.parseCSV(bad, path: "cases.csv", for: asia) } throws: {
                "\($0)".contains(message)
            }
        }
    }
}

import ArgumentParser
import FactorGraph
import NumericalCore

/// `learn`: the tables of a Bayesian network from data, by maximum likelihood or EM.
public struct Learn: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Learn the tables of a Bayesian network (.bif) from data (CSV), its graph fixed.",
        discussion: """
            The CSV's header names variables, its cells states; an empty cell, ?, NA or NaN is missing. Complete \
            data: maximum likelihood (with --pseudocount, the Dirichlet MAP). Missing values: EM, starting from the \
            network's own tables. Writes the learned network as BIF.
            """)
    @Argument(help: "The network whose graph and states are kept (.bif).") var network: String
    @Option(help: "The cases (CSV).") var data: String
    @Option(help: "Where to write the learned network (.bif).") var out: String
    @Option(help: "Dirichlet pseudocount α added to every count (0: maximum likelihood).") var pseudocount = 0.0
    @Option(help: "EM iterations at most (with missing values).") var iterations = 100
    @Option(help: "EM stops when the log-likelihood rises by less than this.") var tolerance = 1e-8
    @Option(help: "Also write the EM log-likelihood trace and counts as JSON here.") var json: String?
    @OptionGroup var limitOptions: LimitOptions

    public init() {}

    public func validate() throws {
        guard pseudocount >= 0, pseudocount.isFinite else {
            throw ValidationError("--pseudocount must be a finite number ≥ 0, got \(pseudocount)")
        }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be ≥ 0") }
    }

    public func run() throws {
        let limits = try limitOptions.limits()
        var net = try BIFFormat.read(path: network, limits: limits)
        let cases = try Observations.readCSV(path: data, for: net, limits: limits)
        let missing = cases.rows.reduce(0) { $0 + $1.filter { $0 == nil }.count }
        let start = monotonicSeconds()
        var trace: [Double] = []
        if missing == 0 {
            try net.learnMaximumLikelihood(from: cases, pseudocount: pseudocount)
        } else {
            trace = try net.learnByEM(
                from: cases, pseudocount: pseudocount, iterations: iterations, tolerance: tolerance, limits: limits)
        }
        let seconds = monotonicSeconds() - start
        try BIFFormat.write(net, to: out)
        let method = missing == 0 ? (pseudocount == 0 ? "maximum likelihood" : "Dirichlet MAP") : "EM"
        var summary = "\(method) from \(cases.rows.count) cases (\(missing) missing values)"
        if let last = trace.last {
            summary += ", \(trace.count - 1) iterations, log-likelihood \(last.formatted(decimalPlaces: 6))"
        }
        print(summary + ", \(seconds.formatted(decimalPlaces: 3)) s; written to \(out)")
        if let json {
            let report: JSONValue = [
                "method": .string(method), "cases": .integer(cases.rows.count), "missingValues": .integer(missing),
                "trace": .array(trace.map(JSONValue.finite)), "seconds": .number(seconds), "network": .string(out)
            ]
            try report.write(to: json)
        }
    }
}

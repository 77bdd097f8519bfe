import ArgumentParser
import FactorGraph
import NumericalCore

/// `sample`: forward samples of a Bayesian network as CSV.
public struct Sample: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Draw samples from a Bayesian network (.bif) as CSV: forward sampling, seeded.")
    @Argument(help: "The network (.bif).") var network: String
    @Option(help: "Number of samples.") var count = 1000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Write the samples here (CSV, atomically) instead of printing them.") var output: String?
    @OptionGroup var limitOptions: LimitOptions

    public init() {}

    public func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    }

    public func run() throws {
        let limits = try limitOptions.limits()
        let net = try BIFFormat.read(path: network, limits: limits)
        let rows = try net.sample(count: count, seed: seed, limits: limits)
        let text = Observations(rows: rows.map { $0.map(Optional.some) }).csvText(for: net)
        if let output { try writeAtomically(text, to: output) } else { print(text, terminator: "") }
    }
}

import ArgumentParser
import FactorGraph
import NumericalCore

/// `infer`: one model file, one task, one algorithm; the answer as a UAI result (and JSON).
public struct Infer: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Run inference on a UAI, libDAI, BIF or XMLBIF model and print a UAI result.",
        discussion: """
            Tasks: PR (log10 of the partition function, or of P(evidence)), MAR (marginals),
            MAP (a most probable assignment). Algorithms: exact (variable elimination, min-fill),
            jtree (junction tree: every marginal from one calibration), bp (belief propagation:
            exact two-pass on trees, loopy otherwise), mplp (MAP by dual coordinate descent, with
            an upper bound and the gap to it), gibbs (MAR by Gibbs sampling), bruteforce.
            """)

    @Argument(help: "The model file (.uai, .fg, .bif, .xml or .xmlbif).")
    var model: String

    @Option(help: "A UAI evidence file.")
    var evidence: String?

    @Option(help: "Write the result here (atomically) instead of printing it.")
    var output: String?

    @Option(
        help: """
            Also write the result as JSON here (- for standard output, instead of the UAI result): log Z and \
            log10 Z, marginals, or the assignment, with the iterations, convergence, bound and seconds of the run.
            """)
    var json: String?

    @OptionGroup var options: InferOptions

    public init() {}

    /// The parsed command line.
    public var request: InferRequest {
        InferRequest(model: model, evidence: evidence, output: output, json: json, settings: options.settings)
    }

    public func run() throws { try request.run() }
}

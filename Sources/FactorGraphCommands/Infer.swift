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

    var task: InferOptions.Task { options.task }
    var algorithm: InferOptions.Algorithm { options.algorithm }

    public func run() throws {
        let limits = try options.limitOptions.limits()
        let graph = try ModelFile.read(path: model, limits: limits)
        let ev = try evidence.map { try UAIFormat.readEvidence(path: $0, for: graph) } ?? Evidence()
        let result: InferOptions.Outcome
        do {
            result = try options.answer(graph, ev, model: model)
        } catch FactorGraphError.inconsistentEvidence(let why) {
            throw FactorGraphError.inconsistentEvidence("\(impossibility(ev)) (\(why)); \(task.rawValue) has no answer")
        }
        if let json {
            var object = result.json
            object["model"] = .string(model)
            object["algorithm"] = .string(algorithm.rawValue)
            if json == "-" {
                print(JSONValue.object(object).text(), terminator: "")
            } else {
                try JSONValue.object(object).write(to: json)
            }
        }
        if case let .partition(logZ) = result.answer, logZ == -.infinity {
            printToStandardError("notice: \(impossibility(ev)): log10 Z = -inf")
        }
        if let output {
            try writeAtomically(result.uaiText, to: output)
        } else if json != "-" {
            print(result.uaiText, terminator: "")
        }
    }

    /// Names the files and the evidence of a model whose `Z` is zero.
    func impossibility(_ ev: Evidence) -> String {
        guard let evidence, !ev.states.isEmpty else {
            return "\(model) has Z = 0: every configuration has a zero potential"
        }
        let observed = ev.states.sorted { $0.key < $1.key }
        let shown = observed.prefix(12).map { "x\($0.key)=\($0.value)" }.joined(separator: " ")
        return
            "the evidence in \(evidence) (\(shown)\(observed.count > 12 ? " …" : "")) has probability zero under "
            + "\(model)"
    }
}

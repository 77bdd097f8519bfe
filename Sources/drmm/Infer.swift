import ArgumentParser
import FactorGraph
import Foundation
import NumericalCore

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            Also write the result as JSON here: log Z and log10 Z, marginals, or the assignment, with the \
            iterations, convergence, bound and seconds of the run.
            """)
    var json: String?

    @OptionGroup var options: InferOptions

    var task: InferOptions.Task { options.task }
    var algorithm: InferOptions.Algorithm { options.algorithm }

    func run() throws {
        let limits = try options.limitOptions.limits()
        let graph = try ModelFile.read(path: model, limits: limits)
        let ev = try evidence.map { try UAIFormat.readEvidence(path: $0, for: graph) } ?? Evidence()
        let result: InferOptions.Outcome
        do {
            result = try options.answer(graph, ev, model: model)
        } catch FactorGraphError.inconsistentEvidence(let why) {
            throw FactorGraphError.inconsistentEvidence("\(impossibility(ev)) (\(why)); \(task.rawValue) has no answer")
        }
        let text = result.uaiText
        if let json {
            var object = result.json
            object["model"] = model
            object["algorithm"] = algorithm.rawValue
            try writeJSONObject(object, to: json)
        }
        if task == .PR, text.contains("-inf") {
            FileHandle.standardError.write(Data("notice: \(impossibility(ev)): log10 Z = -inf\n".utf8))
        }
        if let output { try writeAtomically(text, to: output) } else { print(text, terminator: "") }
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

import FactorGraph
import NumericalCore

/// One `infer` run: the model and evidence files, where the result goes, and the settings.
public struct InferRequest: Equatable, Sendable {
    /// The model file (.uai, .fg, .bif, .xml or .xmlbif).
    public var model: String
    /// A UAI evidence file.
    public var evidence: String?
    /// Where the UAI result is written (atomically) instead of standard output.
    public var output: String?
    /// Where the JSON result is written; `-` is standard output (instead of the UAI result).
    public var json: String?
    /// The task, the algorithm and its options.
    public var settings: InferSettings

    public init(
        model: String, evidence: String? = nil, output: String? = nil, json: String? = nil,
        settings: InferSettings = InferSettings()
    ) {
        self.model = model
        self.evidence = evidence
        self.output = output
        self.json = json
        self.settings = settings
    }

    /// Reads the model (and evidence), answers the task, and writes the result.
    public func run() throws {
        let limits = try settings.resourceLimits()
        let graph = try ModelFile.read(path: model, limits: limits)
        let ev = try evidence.map { try UAIFormat.readEvidence(path: $0, for: graph) } ?? Evidence()
        let result: InferSettings.Outcome
        do {
            result = try settings.answer(graph, ev, model: model)
        } catch FactorGraphError.inconsistentEvidence(let why) {
            throw FactorGraphError.inconsistentEvidence(
                "\(impossibility(ev)) (\(why)); \(settings.task.rawValue) has no answer")
        }
        if let json {
            var object = result.json
            object["model"] = .string(model)
            object["algorithm"] = .string(settings.algorithm.rawValue)
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

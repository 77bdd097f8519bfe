import ArgumentParser
import FactorGraph
import Foundation
import NumericalCore

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run inference on a UAI (.uai) or libDAI (.fg) model and print a UAI result.",
        discussion: """
            Tasks: PR (log10 of the partition function, or of P(evidence)), MAR (marginals),
            MAP (a most probable assignment). Algorithms: exact (variable elimination, min-fill),
            bp (belief propagation: exact two-pass on trees, loopy otherwise), bruteforce.
            """)

    @Argument(help: "The model file (.uai or .fg).")
    var model: String

    @Option(help: "A UAI evidence file.")
    var evidence: String?

    @Option(help: "Write the result here (atomically) instead of printing it.")
    var output: String?

    @Option(help: "Also write the result as JSON here (log Z and log10 Z, marginals, or the assignment).")
    var json: String?

    @OptionGroup var options: InferOptions

    var task: InferOptions.Task { options.task }
    var algorithm: InferOptions.Algorithm { options.algorithm }

    func run() throws {
        let limits = try options.limitOptions.limits()
        let graph = try ModelFile.read(path: model, limits: limits)
        let ev = try evidence.map { try UAIFormat.readEvidence(path: $0, for: graph) } ?? Evidence()
        let result: InferOptions.Answer
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

/// The task, the algorithm and its options: what `infer` and `batch infer` share.
struct InferOptions: ParsableArguments {
    enum Task: String, ExpressibleByArgument, CaseIterable { case PR, MAR, MAP, MPE }
    enum Algorithm: String, ExpressibleByArgument, CaseIterable { case exact, bp, bruteforce }
    enum Updates: String, ExpressibleByArgument, CaseIterable { case automatic, tree, parallel, sequential, random }

    @Option(help: "PR, MAR or MAP.")
    var task: Task = .MAR

    @Option(help: "exact, bp or bruteforce.")
    var algorithm: Algorithm = .exact

    @Option(help: "BP schedule: automatic, tree, parallel, sequential or random.")
    var schedule: Updates = .automatic

    @Option(help: "BP damping in [0, 1).")
    var damping: Double = 0

    @Option(help: "BP convergence tolerance.")
    var tolerance: Double = 1e-9

    @Option(help: "BP iteration limit.")
    var maxIterations: Int = 10_000

    @OptionGroup var limitOptions: LimitOptions

    func validate() throws {
        guard damping >= 0, damping < 1 else { throw ValidationError("--damping must be in [0, 1), got \(damping)") }
        guard tolerance >= 0, tolerance.isFinite else {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
        }
        guard maxIterations >= 1 else {
            throw ValidationError("--max-iterations must be at least 1, got \(maxIterations)")
        }
    }

    /// The task's answer on `graph` (read from `model`) with the chosen algorithm; `verbose`
    /// reports iterations and the MAP score on stderr.
    func answer(_ graph: FactorGraph, _ ev: Evidence, model: String, verbose: Bool = true) throws -> Answer {
        switch algorithm {
        case .exact: return try answer(VariableElimination(limits: try limitOptions.limits()), graph, ev, verbose)
        case .bruteforce: return try answer(BruteForceEnumeration(), graph, ev, verbose)
        case .bp: return try answerByBP(graph, ev, model: model, verbose: verbose)
        }
    }

    /// The result from any exact or approximate method behind the common interface.
    func answer(_ algorithm: some InferenceAlgorithm, _ graph: FactorGraph, _ ev: Evidence, _ verbose: Bool) throws
        -> Answer
    {
        switch task {
        case .PR: return .partition(logZ: try algorithm.logPartition(graph, evidence: ev))
        case .MAR: return .marginals(try algorithm.marginals(graph, evidence: ev))
        case .MAP, .MPE:
            let map = try algorithm.mostProbableAssignment(graph, evidence: ev)
            if verbose { report(map) }
            return .assignment(map)
        }
    }

    /// What a task answers, written as a UAI result or as JSON.
    enum Answer {
        case partition(logZ: Double)
        case marginals([[Double]])
        case assignment(MAPAssignment)

        var uaiText: String {
            switch self {
            case let .partition(logZ): return UAIFormat.partitionResult(logPartition: logZ)
            case let .marginals(m): return UAIFormat.marginalsResult(m)
            case let .assignment(map): return UAIFormat.assignmentResult(map.states)
            }
        }

        var json: [String: Any] {
            switch self {
            case let .partition(logZ):
                return [
                    "task": "PR", "log10Z": logZ.isFinite ? logZ / log(10.0) : "-inf",
                    "logZ": logZ.isFinite ? logZ : "-inf"
                ]
            case let .marginals(m): return ["task": "MAR", "marginals": m]
            case let .assignment(map):
                return ["task": "MAP", "states": map.states, "logScore": map.logScore, "exact": map.isExact]
            }
        }
    }

    /// Belief propagation, reporting iterations and convergence on stderr.
    func answerByBP(_ graph: FactorGraph, _ ev: Evidence, model: String, verbose: Bool) throws -> Answer {
        var bp = BeliefPropagation()
        bp.options.damping = damping
        bp.options.tolerance = tolerance
        bp.options.maxIterations = maxIterations
        bp.options.schedule =
            switch schedule {
            case .automatic: .automatic
            case .tree: .tree
            case .parallel: .parallel
            case .sequential: .sequential
            case .random: .sequentialRandom
            }
        let r =
            try task == .MAP || task == .MPE
            ? bp.run(graph, evidence: ev, semiring: MaxSum.self)
            : bp.run(graph, evidence: ev, semiring: LogSumProduct.self)
        let how =
            r.isExact
            ? "exact (tree schedule)"
            : "loopy, \(r.converged ? "converged" : "NOT converged") (last change \(r.maxDifference))"
        if verbose {
            FileHandle.standardError.write(Data("\(r.semiring): \(r.iterations) iteration(s), \(how)\n".utf8))
        }
        if verbose && !r.isExact && r.infeasibility == nil
            && graph.factors.contains(where: { $0.logValues.contains(-.infinity) })
        {
            FileHandle.standardError.write(
                Data(
                    """
                    note: \(model) has zero potentials, and loopy BP cannot prove that some configuration avoids them \
                    all (Z > 0); --algorithm exact decides.

                    """.utf8))
        }
        switch task {
        case .PR: return .partition(logZ: r.logPartition ?? -.infinity)
        case .MAR:
            if let why = r.infeasibility { throw FactorGraphError.inconsistentEvidence(why) }
            return .marginals(r.marginals)
        case .MAP, .MPE:
            let map = try r.assignment()
            if verbose { report(map) }
            return .assignment(map)
        }
    }

    func report(_ map: MAPAssignment) {
        let note = map.isExact ? "exact" : "decoded from loopy max-marginals, not guaranteed optimal"
        FileHandle.standardError.write(
            Data("log score \(map.logScore) (log10 \(map.logScore / log(10.0))), \(note)\n".utf8))
    }
}

import FactorGraph
import NumericalCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension InferSettings {
    /// The task's answer on `graph` (read from `model`) with the chosen algorithm, with how
    /// the run went (iterations, convergence, bound, time); `verbose` reports on stderr.
    public func answer(_ graph: FactorGraph, _ ev: Evidence, model: String, verbose: Bool = true) throws -> Outcome {
        let start = monotonicSeconds()
        var outcome: Outcome
        switch algorithm {
        case .exact:
            outcome = try answer(VariableElimination(limits: try resourceLimits()), graph, ev, verbose)
        case .jtree: outcome = try answer(JunctionTree(limits: try resourceLimits()), graph, ev, verbose)
        case .bruteforce: outcome = try answer(BruteForceEnumeration(), graph, ev, verbose)
        case .bp: outcome = try answerByBP(graph, ev, model: model, verbose: verbose)
        case .mplp: outcome = try answerByMPLP(graph, ev, verbose: verbose)
        case .gibbs: outcome = try answerByGibbs(graph, ev, verbose: verbose)
        }
        outcome.details["seconds"] = .number(monotonicSeconds() - start)
        return outcome
    }

    /// The result from any exact method behind the common interface.
    func answer(_ algorithm: some InferenceAlgorithm, _ graph: FactorGraph, _ ev: Evidence, _ verbose: Bool) throws
        -> Outcome
    {
        switch task {
        case .PR: return Outcome(answer: .partition(logZ: try algorithm.logPartition(graph, evidence: ev)))
        case .MAR: return Outcome(answer: .marginals(try algorithm.marginals(graph, evidence: ev)))
        case .MAP, .MPE:
            let map = try algorithm.mostProbableAssignment(graph, evidence: ev)
            if verbose { report(map) }
            return Outcome(answer: .assignment(map))
        }
    }

    /// What a task answers, written as a UAI result or as JSON.
    public enum Answer: Sendable {
        case partition(logZ: Double)
        case marginals([[Double]])
        case assignment(MAPAssignment)

        public var uaiText: String {
            switch self {
            case let .partition(logZ): return UAIFormat.partitionResult(logPartition: logZ)
            case let .marginals(m): return UAIFormat.marginalsResult(m)
            case let .assignment(map): return UAIFormat.assignmentResult(map.states)
            }
        }

        public var json: [String: JSONValue] {
            switch self {
            case let .partition(logZ):
                return ["task": "PR", "log10Z": .finite(logZ / log(10.0)), "logZ": .finite(logZ)]
            case let .marginals(m):
                return ["task": "MAR", "marginals": .array(m.map { .array($0.map(JSONValue.finite)) })]
            case let .assignment(map):
                return [
                    "task": "MAP", "states": .array(map.states.map(JSONValue.integer)),
                    "logScore": .finite(map.logScore),
                    "exact": .bool(map.isExact)
                ]
            }
        }
    }

    /// An answer and how the run went (iterations, convergence, bounds, seconds).
    public struct Outcome: Sendable {
        /// The task's answer.
        public var answer: Answer
        /// Iterations, convergence, bounds and seconds, as the JSON result reports them.
        public var details: [String: JSONValue] = [:]

        /// The answer as a UAI result.
        public var uaiText: String { answer.uaiText }
        /// The answer and the details as one JSON object.
        public var json: [String: JSONValue] { answer.json.merging(details) { a, _ in a } }
    }

    /// MPLP, reporting the bound, the gap and the sweeps on stderr.
    func answerByMPLP(_ graph: FactorGraph, _ ev: Evidence, verbose: Bool) throws -> Outcome {
        var mplp = MPLP()
        mplp.options.maxIterations = maxIterations
        mplp.options.tolerance = tolerance
        mplp.options.seed = seed
        mplp.options.forestRounds = forestRounds
        let r = try mplp.run(graph, evidence: ev)
        if verbose {
            printToStandardError(
                """
                MPLP: \(r.iterations) sweep(s), \(r.converged ? "converged" : "NOT converged"), upper bound \
                \(r.upperBound) (log10 \(r.upperBound / log(10.0))), gap \(r.gap)
                """)
            report(r.assignment)
        }
        return Outcome(
            answer: .assignment(r.assignment),
            details: [
                "iterations": .integer(r.iterations), "converged": .bool(r.converged),
                "upperBound": .finite(r.upperBound), "gap": .finite(r.gap),
                "log10UpperBound": .finite(r.upperBound / log(10.0))
            ])
    }

    /// Gibbs sampling, reporting how far its chains disagree on stderr.
    func answerByGibbs(_ graph: FactorGraph, _ ev: Evidence, verbose: Bool) throws -> Outcome {
        var gibbs = GibbsSampling()
        gibbs.options.samples = samples
        gibbs.options.burnIn = burnIn
        gibbs.options.chains = chains
        gibbs.options.seed = seed
        let r = try gibbs.run(graph, evidence: ev)
        let disagreement = r.chainDisagreement
        if verbose {
            var line = "Gibbs: \(chains) chain(s), \(samples) counted sweeps, chains disagree by up to \(disagreement)"
            if disagreement > 0.1 {
                line += "\nwarning: the chains have not mixed (zero potentials or strong couplings); the estimate is "
                line += "unreliable: use --algorithm exact, jtree or bp"
            }
            printToStandardError(line)
        }
        return Outcome(
            answer: .marginals(r.marginals),
            details: [
                "samples": .integer(samples), "burnIn": .integer(burnIn), "chains": .integer(chains),
                "seed": seed <= UInt64(Int.max) ? .integer(Int(seed)) : .string("\(seed)"),
                "chainDisagreement": .finite(disagreement)
            ])
    }

    func report(_ map: MAPAssignment) {
        let note =
            map.isExact
            ? "exact" : "decoded without a certificate of optimality (see the bound where the algorithm gives one)"
        printToStandardError("log score \(map.logScore) (log10 \(map.logScore / log(10.0))), \(note)")
    }
}

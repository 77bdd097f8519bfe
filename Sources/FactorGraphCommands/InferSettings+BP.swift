import FactorGraph

extension InferSettings {
    /// Belief propagation, reporting iterations and convergence on stderr.
    func answerByBP(_ graph: FactorGraph, _ ev: Evidence, model: String, verbose: Bool) throws -> Outcome {
        var bp = BeliefPropagation()
        bp.options.damping = damping
        bp.options.tolerance = tolerance
        bp.options.maxIterations = maxIterations
        bp.options.seed = seed
        bp.options.threads = threads
        bp.options.schedule =
            switch schedule {
            case .automatic: .automatic
            case .tree: .tree
            case .parallel: .parallel
            case .sequential: .sequential
            case .random: .sequentialRandom
            }
        let maximize = task == .MAP || task == .MPE
        let r =
            switch (domain, maximize) {
            case (.automatic, true): try bp.run(graph, evidence: ev, semiring: MaxProduct.self)
            case (.automatic, false): try bp.run(graph, evidence: ev, semiring: SumProduct.self)
            case (.log, true): try bp.run(graph, evidence: ev, semiring: MaxSum.self)
            case (.log, false): try bp.run(graph, evidence: ev, semiring: LogSumProduct.self)
            }
        let how =
            r.isExact
            ? "exact (tree schedule)"
            : "loopy, \(r.converged ? "converged" : "NOT converged") (last change \(r.maxDifference))"
        if verbose {
            printToStandardError("\(r.semiring): \(r.iterations) iteration(s), \(how)")
        }
        if verbose && !r.isExact && r.infeasibility == nil
            && graph.factors.contains(where: { $0.logValues.contains(-.infinity) })
        {
            printToStandardError(
                """
                note: \(model) has zero potentials, and loopy BP cannot prove that some configuration avoids them \
                all (Z > 0); --algorithm exact decides.
                """)
        }
        let details: [String: JSONValue] = [
            "iterations": .integer(r.iterations), "converged": .bool(r.converged || r.isExact),
            "lastChange": .finite(r.maxDifference), "schedule": .string(schedule.rawValue), "damping": .finite(damping),
            "semiring": .string(r.semiring)
        ]
        switch task {
        case .PR: return Outcome(answer: .partition(logZ: r.logPartition ?? -.infinity), details: details)
        case .MAR:
            if let why = r.infeasibility { throw FactorGraphError.inconsistentEvidence(why) }
            return Outcome(answer: .marginals(r.marginals), details: details)
        case .MAP, .MPE:
            let map = try r.assignment()
            if verbose { report(map) }
            return Outcome(answer: .assignment(map), details: details)
        }
    }
}

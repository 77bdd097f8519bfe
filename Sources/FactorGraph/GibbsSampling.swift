#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// Marginals of a discrete factor graph estimated by Gibbs sampling: every free variable in
/// turn is redrawn from its distribution given the others, `∝ Π_{f∋v} ψ_f`; after
/// ``Options/burnIn`` sweeps, each of ``Options/samples`` sweeps counts once. Seeded.
///
/// The chain starts from `start` if given, otherwise from the all-zero state (evidence
/// applied) moved uphill by iterated conditional modes until it has positive probability.
/// It mixes poorly where tables have zeros or couplings are strong: compare with exact
/// inference or BP where the model allows.
public struct GibbsSampling {
    /// The properties bag of a run.
    public struct Options: Sendable, Equatable {
        /// Sweeps that are counted.
        public var samples = 10_000
        /// Sweeps discarded first.
        public var burnIn = 1000
        /// Seed of the chain.
        public var seed: UInt64 = 0

        /// The defaults: 10,000 counted sweeps after 1000 discarded, seed 0.
        public init() {}
    }

    /// The properties of the run.
    public var options = Options()

    /// Gibbs sampling with the default options.
    public init() {}

    /// The estimated marginal of every variable (empty for Gaussian variables, one-hot for
    /// observed ones).
    public func marginals(_ graph: FactorGraph, evidence: Evidence = .none, start: [Int]? = nil) throws -> [[Double]] {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let counts = try run(problem, start: start)
        return counts.enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
    }

    func run(_ problem: DiscreteProblem, start: [Int]?) throws -> [[Double]] {
        guard options.samples >= 1, options.burnIn >= 0 else {
            throw FactorGraphError.unsupported("Gibbs sampling needs samples ≥ 1 and burnIn ≥ 0")
        }
        let n = problem.variableCount
        if let start {
            guard start.count == n,
                start.indices.allSatisfy({ start[$0] >= 0 && start[$0] < problem.cardinalities[$0] })
            else { throw FactorGraphError.unsupported("the start state is not a state of the \(n) variables") }
        }
        let search = LocalSearch(problem)
        var x = start ?? [Int](repeating: 0, count: n)
        for (v, c) in problem.clamp.enumerated() { if let c { x[v] = c } }
        if problem.logScore(x) == -.infinity { search.conditionalModes(&x) }
        guard problem.logScore(x) > -.infinity else {
            throw FactorGraphError.inconsistentEvidence(
                "no configuration of positive probability found to start the chain from (try exact inference)")
        }
        let rng = RandomSource(seed: options.seed)
        let free = (0..<n).filter { problem.clamp[$0] == nil }
        var counts = problem.cardinalities.map { [Double](repeating: 0, count: $0) }
        var scores: [Double] = []
        for sweep in 0..<(options.burnIn + options.samples) {
            for v in free {
                search.localScores(v, &x, into: &scores)
                let top = scores.max()!
                for s in scores.indices { scores[s] = exp(scores[s] - top) }
                x[v] = rng.categorical(scores)
            }
            if sweep >= options.burnIn { for v in 0..<n { counts[v][x[v]] += 1 } }
        }
        return counts.map { $0.map { $0 / Double(options.samples) } }
    }
}

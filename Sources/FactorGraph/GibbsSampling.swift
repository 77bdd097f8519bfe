#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// Marginals of a discrete factor graph estimated by Gibbs sampling: every free variable in
/// turn is redrawn from its distribution given the others, `∝ Π_{f∋v} ψ_f`; after
/// ``Options/burnIn`` sweeps, each of ``Options/samples`` sweeps counts once. Seeded.
///
/// Each chain starts from `start` if given, otherwise from a random state (evidence applied),
/// moved uphill by iterated conditional modes until it has positive probability. Chains mix
/// poorly where couplings are strong, and where tables have zeros single-site moves may not
/// reach every configuration at all: ``Result/chainDisagreement`` shows it (compare with
/// exact inference or BP where the model allows).
public struct GibbsSampling {
    /// The properties bag of a run.
    public struct Options: Sendable, Equatable {
        /// Sweeps that are counted.
        public var samples = 10_000
        /// Sweeps discarded first.
        public var burnIn = 1000
        /// Independent chains (from different starting states) sharing the counted sweeps.
        public var chains = 2
        /// Seed of the chains.
        public var seed: UInt64 = 0

        /// The defaults: 10,000 counted sweeps in 2 chains, each after 1000 discarded, seed 0.
        public init() {}
    }

    /// The properties of the run.
    public var options = Options()

    /// Gibbs sampling with the default options.
    public init() {}

    /// The estimate and its diagnostic.
    public struct Result: Sendable {
        /// The estimated marginal of every variable, pooled over the chains (empty for Gaussian
        /// variables, one-hot for observed ones).
        public let marginals: [[Double]]
        /// Each chain's own estimate.
        public let chainMarginals: [[[Double]]]
        /// The largest difference between two chains' estimates of one probability: near 0
        /// when the chains mix; near 1 when they are stuck in different regions (typical of
        /// deterministic tables, where single-site moves cannot reach every configuration).
        public var chainDisagreement: Double {
            var d = 0.0
            for a in chainMarginals {
                for b in chainMarginals {
                    for (p, q) in zip(a, b) { for (x, y) in zip(p, q) { d = max(d, abs(x - y)) } }
                }
            }
            return d
        }
    }

    /// Runs ``Options/chains`` chains (the first from `start` if given, the others from
    /// random states), each of ``Options/samples`` / chains counted sweeps.
    public func run(_ graph: FactorGraph, evidence: Evidence = .none, start: [Int]? = nil) throws -> Result {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        guard options.samples >= options.chains, options.chains >= 1, options.burnIn >= 0 else {
            throw FactorGraphError.unsupported("Gibbs sampling needs samples ≥ chains ≥ 1 and burnIn ≥ 0")
        }
        let n = problem.variableCount
        if let start {
            guard start.count == n,
                start.indices.allSatisfy({ start[$0] >= 0 && start[$0] < problem.cardinalities[$0] })
            else { throw FactorGraphError.unsupported("the start state is not a state of the \(n) variables") }
        }
        let rng = RandomSource(seed: options.seed)
        let search = LocalSearch(problem)
        var chains: [[[Double]]] = []
        for c in 0..<options.chains {
            let x = (c == 0 ? start : nil) ?? problem.cardinalities.map { rng.integer(below: $0) }
            let counted = options.samples / options.chains + (c < options.samples % options.chains ? 1 : 0)
            chains.append(try chain(problem, search, from: x, samples: counted, rng: rng))
        }
        var pooled = problem.cardinalities.map { [Double](repeating: 0, count: $0) }
        for m in chains {
            for v in 0..<n { for s in pooled[v].indices { pooled[v][s] += m[v][s] / Double(options.chains) } }
        }
        func shown(_ m: [[Double]]) -> [[Double]] {
            m.enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
        }
        return Result(marginals: shown(pooled), chainMarginals: chains.map(shown))
    }

    /// The pooled estimate of ``run(_:evidence:start:)``.
    public func marginals(_ graph: FactorGraph, evidence: Evidence = .none, start: [Int]? = nil) throws -> [[Double]] {
        try run(graph, evidence: evidence, start: start).marginals
    }

    /// One chain from `x` (moved uphill first if it has probability zero).
    func chain(_ problem: DiscreteProblem, _ search: LocalSearch, from start: [Int], samples: Int, rng: RandomSource)
        throws -> [[Double]]
    {
        let n = problem.variableCount
        var x = start
        for (v, c) in problem.clamp.enumerated() { if let c { x[v] = c } }
        if problem.logScore(x) == -.infinity { search.conditionalModes(&x) }
        guard problem.logScore(x) > -.infinity else {
            throw FactorGraphError.inconsistentEvidence(
                "no configuration of positive probability found to start the chain from (try exact inference)")
        }
        let free = (0..<n).filter { problem.clamp[$0] == nil }
        var counts = problem.cardinalities.map { [Double](repeating: 0, count: $0) }
        var scores: [Double] = []
        for sweep in 0..<(options.burnIn + samples) {
            for v in free {
                search.localScores(v, &x, into: &scores)
                let top = scores.max() ?? 0
                for s in scores.indices { scores[s] = exp(scores[s] - top) }
                x[v] = rng.categorical(scores)
            }
            if sweep >= options.burnIn { for v in 0..<n { counts[v][x[v]] += 1 } }
        }
        return counts.map { $0.map { $0 / Double(samples) } }
    }
}

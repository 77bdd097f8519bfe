import NumericalCore

/// MAP by MPLP (max-product linear programming, Globerson & Jaakkola 2007): block coordinate
/// descent on the dual of the local-polytope relaxation, with an upper bound on the MAP score
/// at every step and the best assignment decoded along the way.
///
/// With `θ_i` the unary scores and `θ_f` the scores of the factors over two or more variables,
/// the dual is
///
///     L(δ) = Σ_i max_x b_i(x) + Σ_f max_{x_f} [θ_f(x_f) − Σ_{i∈f} δ_fi(x_i)],
///     b_i = θ_i + Σ_{f∋i} δ_fi,
///
/// and `L(δ) ≥ max_x Σ θ(x)` for every `δ`. MPLP updates all of one factor's `δ_f·` at once
/// to the minimiser of `L` in them, so `L` never increases (unlike loopy max-product, it
/// cannot oscillate). After a factor's update its own term is zero, so after one sweep the
/// bound is `Σ_i max b_i`. Each sweep decodes `argmax b_i`, improves it by coordinate ascent
/// (iterated conditional modes) and keeps the best; when the bound meets the best decoded
/// score the assignment is certified optimal (``MAPAssignment/isExact``). Otherwise the best
/// assignment is improved at the end by exact moves of random induced forests given the rest
/// of the variables (block coordinate ascent, each block solved by variable elimination).
///
/// Zero potentials (`log 0 = −∞`) are replaced by a finite penalty larger than every finite
/// score difference in the model: this only raises scores, so the bound stays an upper bound
/// on the true MAP, and decoded assignments are always scored in the true model.
public struct MPLP {
    /// The properties bag of a run.
    public struct Options: Sendable, Equatable {
        /// Stop after this many sweeps over the factors.
        public var maxIterations = 1000
        /// Stop when a sweep lowers the bound by less than `tolerance · max(1, |bound|)`.
        public var tolerance = 1e-9
        /// Tighten the relaxation with the triangles and chordless squares of pairwise factors.
        public var cycles = true
        /// Improve each decoded assignment by iterated conditional modes.
        public var localSearch = true
        /// Exact block moves on random induced forests applied to the best assignment at the end.
        public var forestRounds = 50
        /// Seed of the forests' random orders.
        public var seed: UInt64 = 0

        /// The defaults: 1000 sweeps, tolerance 1e-9, cycles, local search, 50 forest moves, seed 0.
        public init() {}
    }

    /// The outcome of a run.
    public struct Result: Sendable {
        /// The best assignment decoded; `isExact` when the bound certifies it.
        public let assignment: MAPAssignment
        /// An upper bound on the MAP log score (`Σ log ψ`), evidence applied.
        public let upperBound: Double
        /// Sweeps run.
        public let iterations: Int
        /// Whether the bound stopped moving (or met the decoded score) before the limit.
        public let converged: Bool
        /// The bound after each sweep (non-increasing).
        public let boundHistory: [Double]

        /// `upperBound − assignment.logScore` (≥ 0): how far from optimal the assignment can be.
        public var gap: Double { upperBound - assignment.logScore }
    }

    /// The properties of the run.
    public var options = Options()

    /// MPLP with the default options.
    public init() {}

    /// Runs MPLP on the discrete part of `graph` under `evidence`.
    public func run(_ graph: FactorGraph, evidence: Evidence = .none) throws -> Result {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let search = LocalSearch(problem)
        var dual = try DualState(problem, tables: search.tables, cycles: options.cycles)
        func decoded() -> (states: [Int], score: Double) {
            var x = dual.decode()
            if options.localSearch { search.conditionalModes(&x) }
            return (x, problem.logScore(x))
        }
        var history: [Double] = []
        var best = decoded()
        var converged = false
        var previous = Double.infinity
        for _ in 0..<options.maxIterations {
            dual.sweep()
            let bound = dual.bound
            history.append(bound)
            let candidate = decoded()
            if candidate.score > best.score { best = candidate }
            let scale = max(1, abs(bound))
            if bound - best.score <= 1e-9 * scale || previous - bound < options.tolerance * scale {
                converged = true
                break
            }
            previous = bound
        }
        let bound = history.last ?? dual.bound
        let certified = { bound - best.score <= 1e-9 * max(1, abs(bound)) }
        if !certified() && options.forestRounds > 0 && best.score > -.infinity {
            try search.forestBlocks(&best.states, rounds: options.forestRounds, rng: RandomSource(seed: options.seed))
            best.score = problem.logScore(best.states)
        }
        guard best.score > -.infinity else {
            if bound < dual.feasibleFloor - 1e-9 * max(1, abs(bound)) {
                throw FactorGraphError.inconsistentEvidence(
                    "every configuration has probability zero (the dual bound proves it)")
            }
            throw FactorGraphError.infeasibleDecoding(
                "MPLP decoded no configuration of positive probability in \(history.count) sweep(s), and its "
                    + "bound does not prove that none exists; try exact inference")
        }
        let map = MAPAssignment(states: best.states, logScore: best.score, isExact: certified())
        return Result(
            assignment: map, upperBound: max(bound, best.score), iterations: history.count, converged: converged,
            boundHistory: history)
    }
}

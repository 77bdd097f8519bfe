import NumericalCore

/// Belief propagation on the discrete part of a ``FactorGraph``: sum-product, max-product or
/// max-sum, exact on trees and forests, loopy with damping and a schedule otherwise.
///
/// ```swift
/// var bp = BeliefPropagation()
/// bp.options.schedule = .sequential
/// bp.options.tolerance = 1e-9
/// let r = try bp.run(graph, semiring: LogSumProduct.self)
/// print(r.logPartition!, r.marginals[0], r.iterations, r.converged)
/// ```
///
/// With ``Schedule/automatic`` (the default) a forest gets the exact two-pass schedule and a
/// loopy graph the sequential one.
public struct BeliefPropagation: InferenceAlgorithm {
    /// The order in which messages are updated.
    public enum Schedule: String, Sendable, CaseIterable {
        /// Exact two-pass on a forest, ``sequential`` otherwise.
        case automatic
        /// Leaves to roots and back, once; exact. Throws on a graph with a cycle.
        case tree
        /// Flooding: every message from the previous iteration's messages.
        case parallel
        /// Variable by variable in index order, each update seeing the newest messages.
        case sequential
        /// As ``sequential``, in a random order redrawn every sweep (seeded).
        case sequentialRandom
    }

    /// The properties bag of a run.
    public struct Options: Sendable, Equatable {
        /// The order of the message updates.
        public var schedule: Schedule = .automatic
        /// Weight of the old message in `new^(1−d)·old^d`, in `[0, 1)`.
        public var damping: Double = 0
        /// Stop when no variable's belief changes by more than this (L∞) in one iteration.
        public var tolerance: Double = 1e-9
        /// Stop after this many iterations even if not converged.
        public var maxIterations: Int = 10_000
        /// Seed of ``Schedule/sequentialRandom``.
        public var seed: UInt64 = 0
        /// Threads of the ``Schedule/parallel`` schedule (same answer as one thread, bit for bit).
        public var threads = 1
        /// Also compute the beliefs of every factor.
        public var computeFactorMarginals = false

        /// The defaults: automatic schedule, no damping, tolerance 1e-9, 10,000 iterations.
        public init() {}

        /// Options from a libDAI-style properties bag such as
        /// `["tol": "1e-9", "maxiter": "1000", "updates": "SEQFIX", "damping": "0.1"]`.
        public init(properties: [String: String]) throws {
            self.init()
            for (key, value) in properties {
                switch key.lowercased() {
                case "tol", "tolerance":
                    guard let t = Double(value), t >= 0 else {
                        throw FactorGraphError.unsupported("property \(key)=\(value): expected a non-negative number")
                    }
                    tolerance = t
                case "maxiter", "maxiterations":
                    guard let n = Int(value), n >= 1 else {
                        throw FactorGraphError.unsupported("property \(key)=\(value): expected a positive integer")
                    }
                    maxIterations = n
                case "damping":
                    guard let d = Double(value), d >= 0, d < 1 else {
                        throw FactorGraphError.unsupported("property \(key)=\(value): expected a number in [0, 1)")
                    }
                    damping = d
                case "updates", "schedule":
                    switch value.uppercased() {
                    case "SEQFIX", "SEQUENTIAL": schedule = .sequential
                    case "SEQRND", "SEQUENTIALRANDOM": schedule = .sequentialRandom
                    case "PARALL", "PARALLEL": schedule = .parallel
                    case "TREE": schedule = .tree
                    case "AUTO", "AUTOMATIC": schedule = .automatic
                    default:
                        throw FactorGraphError.unsupported(
                            "property \(key)=\(value): expected SEQFIX, SEQRND, PARALL, TREE or AUTO")
                    }
                case "seed":
                    guard let s = UInt64(value) else {
                        throw FactorGraphError.unsupported("property \(key)=\(value): expected an unsigned integer")
                    }
                    seed = s
                case "threads":
                    guard let t = Int(value), (1...1024).contains(t) else {
                        throw FactorGraphError.unsupported("property \(key)=\(value): expected an integer in 1...1024")
                    }
                    threads = t
                default:
                    throw FactorGraphError.unsupported("unknown property '\(key)'")
                }
            }
        }

        func validate() throws {
            guard damping >= 0, damping < 1 else {
                throw FactorGraphError.unsupported("damping must be in [0, 1), got \(damping)")
            }
            guard tolerance >= 0, !tolerance.isNaN else {
                throw FactorGraphError.unsupported("tolerance must be non-negative, got \(tolerance)")
            }
            guard maxIterations >= 1 else {
                throw FactorGraphError.unsupported("maxIterations must be at least 1, got \(maxIterations)")
            }
            guard (1...1024).contains(threads) else {
                throw FactorGraphError.unsupported("threads must be in 1...1024, got \(threads)")
            }
        }
    }

    /// The run's properties.
    public var options: Options

    /// Belief propagation with `options`.
    public init(options: Options = Options()) { self.options = options }

    /// Runs message passing in the semiring `S`.
    ///
    /// Sum semirings fill ``BeliefPropagationResult/logPartition`` (the Bethe value: exact on
    /// forests); max semirings fill ``BeliefPropagationResult/map``.
    ///
    /// A linear-domain semiring (``SumProduct``, ``MaxProduct``) encodes potentials and
    /// messages as plain numbers, and a ratio beyond `e^±708` underflows to an exact zero that
    /// can look like impossible evidence. When a linear run finds a belief that is zero
    /// everywhere, the run is repeated in the log domain (``LogSumProduct``, ``MaxSum``); if
    /// that run has no such belief its result is returned (its ``BeliefPropagationResult/semiring``
    /// names it), so underflow never becomes a false `Z = 0`.
    public func run<S: Semiring>(
        _ graph: FactorGraph, evidence: Evidence = .none, semiring: S.Type = LogSumProduct.self
    ) throws -> BeliefPropagationResult {
        let r = try runSpecialized(graph, evidence: evidence, semiring: S.self)
        guard r.infeasibility != nil, S.zero == 0, S.one == 1 else { return r }
        let logDomain =
            S.isMaximizing
            ? try runOnce(graph, evidence: evidence, semiring: MaxSum.self)
            : try runOnce(graph, evidence: evidence, semiring: LogSumProduct.self)
        return logDomain.infeasibility == nil ? logDomain : r
    }

    /// The run with the engine specialised for each of the four semirings (a caller in another
    /// module would otherwise get the unspecialised generic engine, a call per `⊕` and `⊗`).
    private func runSpecialized<S: Semiring>(
        _ graph: FactorGraph, evidence: Evidence, semiring: S.Type
    ) throws -> BeliefPropagationResult {
        if S.self == SumProduct.self { return try runOnce(graph, evidence: evidence, semiring: SumProduct.self) }
        if S.self == LogSumProduct.self { return try runOnce(graph, evidence: evidence, semiring: LogSumProduct.self) }
        if S.self == MaxProduct.self { return try runOnce(graph, evidence: evidence, semiring: MaxProduct.self) }
        if S.self == MaxSum.self { return try runOnce(graph, evidence: evidence, semiring: MaxSum.self) }
        return try runOnce(graph, evidence: evidence, semiring: S.self)
    }

    private func runOnce<S: Semiring>(
        _ graph: FactorGraph, evidence: Evidence, semiring: S.Type
    ) throws -> BeliefPropagationResult {
        try options.validate()
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let engine = MessagePassingEngine<S>(problem)
        let treeSchedule =
            (options.schedule == .automatic || options.schedule == .tree) ? engine.topology.treeSchedule() : nil
        if options.schedule == .tree && treeSchedule == nil {
            throw FactorGraphError.unsupported("the tree schedule needs a forest, and this factor graph has a cycle")
        }
        var iterations = 0
        var converged = false
        var difference = 0.0
        if let treeSchedule {
            engine.runTree(treeSchedule)
            iterations = 1
            converged = true
        } else {
            var rng = RandomSource(seed: options.seed)
            var order = Array(0..<problem.variableCount)
            engine.refreshBeliefs()
            while iterations < options.maxIterations {
                switch options.schedule {
                case .parallel:
                    engine.parallelIteration(damping: options.damping, threads: options.threads)
                case .sequentialRandom:
                    order.shuffle(using: &rng)
                    engine.sequentialIteration(order: order, damping: options.damping)
                default:
                    engine.sequentialIteration(order: order, damping: options.damping)
                }
                iterations += 1
                difference = engine.refreshBeliefs(threads: options.schedule == .parallel ? options.threads : 1)
                if difference <= options.tolerance { converged = true; break }
            }
        }
        let marginals = engine.marginals().enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
        var logZ: Double? = nil
        var map: MAPAssignment? = nil
        var infeasibility = engine.variableWithZeroBelief().map { "variable \($0) has zero belief in every state" }
        if S.isMaximizing {
            let states = treeSchedule.map { engine.backtrack($0) } ?? engine.decodeMaxMarginals()
            let score = problem.logScore(states)
            // Never return an assignment that breaks the evidence or a zero factor.
            if infeasibility == nil && score > -.infinity {
                map = MAPAssignment(states: states, logScore: score, isExact: treeSchedule != nil)
            } else if infeasibility == nil && treeSchedule != nil {
                infeasibility = "the exact max-product pass found no configuration of non-zero probability"
            }
        } else if infeasibility == nil {
            do { logZ = try engine.betheLogPartition() } catch FactorGraphError.inconsistentEvidence(let why) {
                infeasibility = why
            }
        }
        if infeasibility != nil {
            converged = false
            if !S.isMaximizing { logZ = -.infinity }
        }
        let factorMarginals =
            options.computeFactorMarginals
            ? (0..<problem.graphFactorCount).map { engine.factorBelief($0) } : []
        return BeliefPropagationResult(
            semiring: S.name, marginals: marginals, factorMarginals: factorMarginals,
            logPartition: logZ, map: map, iterations: iterations, converged: converged,
            maxDifference: difference, messageUpdates: engine.messageUpdates, isExact: treeSchedule != nil,
            infeasibility: infeasibility)
    }

    // MARK: InferenceAlgorithm

    /// `ln Z` by sum-product in the log domain (exact on trees, the Bethe estimate on loops).
    public func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double {
        // A run with a nil log Z cannot happen for a sum semiring.
        try run(graph, evidence: evidence, semiring: LogSumProduct.self).logPartition ?? -.infinity
    }

    /// Every variable's marginal by sum-product; throws if the evidence is impossible.
    public func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]] {
        let r = try run(graph, evidence: evidence, semiring: LogSumProduct.self)
        if let why = r.infeasibility { throw FactorGraphError.inconsistentEvidence(why) }
        return r.marginals
    }

    /// The MAP assignment decoded from max-sum beliefs (exact on trees).
    public func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment {
        try run(graph, evidence: evidence, semiring: MaxSum.self).assignment()
    }
}

/// What a belief-propagation run returns.
public struct BeliefPropagationResult: Sendable {
    /// The semiring's name.
    public let semiring: String
    /// Per variable, its (max-)marginal as probabilities summing to one; empty for Gaussian variables.
    public let marginals: [[Double]]
    /// Per discrete factor, its belief (row-major), if requested.
    public let factorMarginals: [[Double]]
    /// log Z (natural log) for sum semirings: the Bethe value, exact on forests.
    public let logPartition: Double?
    /// The decoded assignment, for max semirings.
    public let map: MAPAssignment?
    /// Iterations run (1 for the tree schedule).
    public let iterations: Int
    /// Whether the tolerance was met (always true for the tree schedule).
    public let converged: Bool
    /// The last iteration's largest belief change.
    public let maxDifference: Double
    /// Messages computed, both directions.
    public let messageUpdates: Int
    /// Whether the run is exact (the exact tree schedule on a forest).
    public let isExact: Bool
    /// Why the model with its evidence has `Z = 0`, when the run proved it (a belief that is
    /// zero in every state); such a run is never ``converged``, its ``logPartition`` is `-∞`
    /// and it has no ``map``.
    public let infeasibility: String?

    /// The decoded assignment, or the typed reason there is none:
    /// ``FactorGraphError/inconsistentEvidence(_:)`` when `Z = 0` was proved,
    /// ``FactorGraphError/infeasibleDecoding(_:)`` when loopy decoding broke a zero.
    public func assignment() throws -> MAPAssignment {
        if let map { return map }
        if let infeasibility { throw FactorGraphError.inconsistentEvidence(infeasibility) }
        throw FactorGraphError.infeasibleDecoding(
            "loopy \(semiring) decoded an assignment that a zero potential or the evidence rules out (after "
                + "\(iterations) iterations); exact inference decides whether one exists"
        )
    }
}

/// A full assignment with its score.
public struct MAPAssignment: Sendable, Equatable {
    /// One state per variable (0 for Gaussian variables).
    public let states: [Int]
    /// `Σ_f log ψ_f(x)`: the unnormalised log-probability of the assignment.
    public let logScore: Double
    /// Whether the assignment is guaranteed to maximise the score (exact methods, and max-sum
    /// on a forest); `false` for decoding from loopy max-marginals.
    public let isExact: Bool
}

import NumericalCore

/// Gaussian belief propagation in information form on the Gaussian part of a ``FactorGraph``.
///
/// Messages are Gaussians `(Jₘ, hₘ)` over one variable. A factor's message to variable `k`
/// adds the incoming messages of its other variables to its own `(J, h)` and marginalises them
/// out with a Schur complement, `J_kk − J_ko J_oo⁻¹ J_ok` and `h_k − J_ko J_oo⁻¹ h_o`
/// (Cholesky solves). A variable's belief is the sum of its incoming messages; its mean is
/// `J⁻¹h` and its covariance `J⁻¹`.
///
/// On a tree or forest the two-pass schedule gives the exact marginals. On a loopy graph the
/// means are exact whenever the iteration converges (walk-summable models, e.g. diagonally
/// dominant precisions); the variances are then approximations.
public struct GaussianBeliefPropagation {
    /// The properties bag of a run.
    public struct Options: Sendable, Equatable {
        /// ``BeliefPropagation/Schedule/sequentialRandom`` is treated as sequential.
        public var schedule: BeliefPropagation.Schedule = .automatic
        /// Weight of the old message's natural parameters in the damped update, in `[0, 1)`.
        public var damping: Double = 0
        /// Stop when no mean or variance entry changes by more than this in an iteration.
        public var tolerance: Double = 1e-12
        /// Stop after this many iterations even if not converged.
        public var maxIterations: Int = 10_000
        /// The defaults: automatic schedule, no damping, tolerance 1e-12, 10,000 iterations.
        public init() {}
    }

    /// The run's properties.
    public var options = Options()

    /// Gaussian belief propagation with `options`.
    public init(options: Options = Options()) { self.options = options }

    /// A Gaussian marginal.
    public struct Marginal: Sendable, Equatable {
        /// The mean vector.
        public let mean: [Double]
        /// The covariance matrix.
        public let covariance: Matrix
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// The two-pass schedule on a forest: exact.
        case exact
        /// Loopy, and within the tolerance.
        case converged
        /// Loopy, and still moving after the iteration limit (on a singular or not walk-summable
        /// model the iterates can grow without bound): the last iterate is no answer.
        case notConverged(lastChange: Double)
    }

    /// What a run returns: marginals when they are an answer, the last iterate always.
    public struct Result: Sendable {
        /// Per variable: its marginal (observed variables: their value with zero covariance);
        /// `nil` for categorical variables, and for every free variable when the run did not
        /// converge (see ``lastIterate``).
        public private(set) var marginals: [Marginal?]
        /// The beliefs of the last iteration, converged or not.
        public let lastIterate: [Marginal?]
        /// Iterations run.
        public let iterations: Int
        /// Exact (a tree), converged, or not converged.
        public let outcome: Outcome
        /// Whether the marginals are an answer (exact, or converged).
        public var converged: Bool {
            if case .notConverged = outcome { return false }
            return true
        }
        /// Whether the graph was a tree, so the marginals are exact.
        public var isExact: Bool { outcome == .exact }

        init(marginals: [Marginal?], freeVariables: [Bool], iterations: Int, outcome: Outcome) {
            lastIterate = marginals
            self.iterations = iterations
            self.outcome = outcome
            self.marginals = marginals
            if !converged { self.marginals = zip(marginals, freeVariables).map { $1 ? nil : $0 } }
        }

        /// The marginals, or ``FactorGraphError/notConverged(_:)`` when the run did not converge.
        public func convergedMarginals() throws -> [Marginal?] {
            if case let .notConverged(change) = outcome {
                throw FactorGraphError.notConverged(
                    "Gaussian BP still changed by \(change) after \(iterations) iterations; the model may be "
                        + "singular or not walk-summable"
                )
            }
            return marginals
        }
    }

    /// Runs Gaussian BP on the Gaussian factors of `graph` given `evidence`.
    public func run(_ graph: FactorGraph, evidence: Evidence = .none) throws -> Result {
        try evidence.validate(against: graph)
        guard options.damping >= 0, options.damping < 1 else {
            throw FactorGraphError.unsupported("damping must be in [0, 1)")
        }
        let problem = ConditionedProblem(graph, evidence: evidence)
        let topology = GraphTopology(variableCount: problem.dimensions.count, scopes: problem.scopes)
        var state = GaussianMessages(
            topology: topology, dims: problem.dimensions, factorJ: problem.precisions, factorH: problem.potentials)
        let tree = options.schedule == .automatic || options.schedule == .tree ? topology.treeSchedule() : nil
        if options.schedule == .tree && tree == nil {
            throw FactorGraphError.unsupported("the tree schedule needs a forest, and this Gaussian graph has a cycle")
        }
        var iterations = 0, converged = false, lastChange = 0.0
        var beliefs: [Marginal]
        if let tree {
            for step in tree.upward + tree.downward {
                switch step.direction {
                case .variableToFactor: state.updateVariableToFactor(step.edge)
                case .factorToVariable: try state.updateFactorToVariable(step.edge, damping: 0)
                }
            }
            beliefs = try state.beliefs()
            iterations = 1
            converged = true
        } else {
            beliefs = []
            // Start from the single-variable factors' own potentials, so that the first pairwise
            // updates already see every variable's node precision.
            for e in 0..<topology.edgeCount where problem.scopes[topology.edgeFactor[e]].count == 1 {
                try state.updateFactorToVariable(e, damping: 0)
            }
            for e in 0..<topology.edgeCount { state.updateVariableToFactor(e) }
            while iterations < options.maxIterations {
                try sweep(&state)
                iterations += 1
                let next = try state.beliefs()
                lastChange = beliefs.isEmpty ? .infinity : Self.largestChange(from: beliefs, to: next)
                beliefs = next
                if lastChange <= options.tolerance {
                    converged = true
                    break
                }
            }
        }
        var out = [Marginal?](repeating: nil, count: graph.variableCount)
        for (v, variable) in graph.variables.enumerated() {
            guard let d = variable.dimension else { continue }
            if let y = evidence.observations[v] {
                out[v] = Marginal(mean: y, covariance: Matrix(rows: d, columns: d))
            } else {
                out[v] = beliefs[problem.localIndex[v]]
            }
        }
        let free = graph.variables.indices.map {
            graph.variables[$0].dimension != nil && evidence.observations[$0] == nil
        }
        let outcome: Outcome = tree != nil ? .exact : converged ? .converged : .notConverged(lastChange: lastChange)
        return Result(marginals: out, freeVariables: free, iterations: iterations, outcome: outcome)
    }

    /// One loopy iteration under the options' schedule: every factor-to-variable message at once
    /// (parallel), or variable by variable (sequential).
    private func sweep(_ state: inout GaussianMessages) throws {
        let topology = state.topology
        switch options.schedule {
        case .parallel:
            var newJ = state.f2vJ, newH = state.f2vH
            for e in 0..<topology.edgeCount {
                let (j, h) = try state.factorMessage(e)
                (newJ[e], newH[e]) = state.damped(e, j, h, options.damping)
            }
            state.f2vJ = newJ
            state.f2vH = newH
            for e in 0..<topology.edgeCount { state.updateVariableToFactor(e) }
        default:
            for v in 0..<state.dims.count {
                let edges = topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1]
                for k in edges {
                    try state.updateFactorToVariable(topology.variableEdges[k], damping: options.damping)
                }
                for k in edges { state.updateVariableToFactor(topology.variableEdges[k]) }
            }
        }
    }

    /// The largest change of a mean or a marginal variance between two sets of beliefs.
    private static func largestChange(from old: [Marginal], to new: [Marginal]) -> Double {
        var change = 0.0
        for (a, b) in zip(new, old) {
            for (x, y) in zip(a.mean, b.mean) { change = max(change, abs(x - y)) }
            for (x, y) in zip(a.covariance.diagonalEntries, b.covariance.diagonalEntries) {
                change = max(change, abs(x - y))
            }
        }
        return change
    }
}

/// The Gaussian factors of a graph conditioned on the observations: `(J, h)` over the free
/// variables only, which get local indices.
private struct ConditionedProblem {
    /// The local index of each graph variable (−1 for categorical or observed ones).
    var localIndex: [Int]
    /// The dimension of each free variable, by local index.
    var dimensions: [Int] = []
    var scopes: [[Int]] = []
    var precisions: [Matrix] = []
    var potentials: [[Double]] = []

    init(_ graph: FactorGraph, evidence: Evidence) {
        localIndex = [Int](repeating: -1, count: graph.variableCount)
        for (v, variable) in graph.variables.enumerated() {
            if let d = variable.dimension, evidence.observations[v] == nil {
                localIndex[v] = dimensions.count
                dimensions.append(d)
            }
        }
        for f in graph.gaussianFactors { condition(f, on: evidence) }
    }

    /// `J_ff` and `h_f − J_fo y_o` of one factor, skipped when every variable is observed.
    private mutating func condition(_ f: GaussianFactor, on evidence: Evidence) {
        let offsets = f.blockOffsets
        var freeIdx: [Int] = [], obsIdx: [Int] = [], obsVal: [Double] = [], scope: [Int] = []
        for (i, v) in f.scope.enumerated() {
            let r = offsets[i]..<(offsets[i] + f.dimensions[i])
            if let y = evidence.observations[v] {
                obsIdx += r
                obsVal += y
            } else {
                freeIdx += r
                scope.append(localIndex[v])
            }
        }
        if scope.isEmpty { return }
        var J = Matrix(rows: freeIdx.count, columns: freeIdx.count)
        var h = freeIdx.map { f.potential[$0] }
        for (a, i) in freeIdx.enumerated() {
            for (b, j) in freeIdx.enumerated() { J[a, b] = f.precision[i, j] }
            for (b, j) in obsIdx.enumerated() { h[a] -= f.precision[i, j] * obsVal[b] }
        }
        scopes.append(scope)
        precisions.append(J)
        potentials.append(h)
    }
}

/// The message state of a Gaussian BP run: one `(J, h)` per edge and direction.
struct GaussianMessages {
    let topology: GraphTopology
    let dims: [Int]
    let factorJ: [Matrix]
    let factorH: [[Double]]
    let blockOffset: [[Int]]
    var f2vJ: [Matrix], f2vH: [[Double]]
    var v2fJ: [Matrix], v2fH: [[Double]]

    init(topology: GraphTopology, dims: [Int], factorJ: [Matrix], factorH: [[Double]]) {
        self.topology = topology
        self.dims = dims
        self.factorJ = factorJ
        self.factorH = factorH
        blockOffset = (0..<topology.factorCount).map { f in
            var o: [Int] = [], s = 0
            for e in topology.factorEdgeStart[f]..<topology.factorEdgeStart[f + 1] {
                o.append(s); s += dims[topology.edgeVariable[e]]
            }
            return o
        }
        let zeroJ = (0..<topology.edgeCount).map { e in
            Matrix(rows: dims[topology.edgeVariable[e]], columns: dims[topology.edgeVariable[e]])
        }
        let zeroH = (0..<topology.edgeCount).map { e in [Double](repeating: 0, count: dims[topology.edgeVariable[e]]) }
        f2vJ = zeroJ; f2vH = zeroH; v2fJ = zeroJ; v2fH = zeroH
    }

    /// The message of factor `edgeFactor[e]` to its variable on edge `e`.
    func factorMessage(_ e: Int) throws -> (Matrix, [Double]) {
        let f = topology.edgeFactor[e]
        let first = topology.factorEdgeStart[f]
        let k = e - first
        var J = factorJ[f], h = factorH[f]
        let offs = blockOffset[f]
        for j in 0..<(topology.factorEdgeStart[f + 1] - first) where j != k {
            let d = dims[topology.edgeVariable[first + j]], o = offs[j]
            for a in 0..<d {
                h[o + a] += v2fH[first + j][a]
                for b in 0..<d { J[o + a, o + b] += v2fJ[first + j][a, b] }
            }
        }
        let dk = dims[topology.edgeVariable[e]], ok = offs[k]
        let kIdx = Array(ok..<(ok + dk))
        let oIdx = (0..<J.rows).filter { $0 < ok || $0 >= ok + dk }
        var Jkk = Matrix(rows: dk, columns: dk)
        for (a, i) in kIdx.enumerated() { for (b, j) in kIdx.enumerated() { Jkk[a, b] = J[i, j] } }
        var hk = kIdx.map { h[$0] }
        if oIdx.isEmpty { return (Jkk, hk) }
        var Joo = Matrix(rows: oIdx.count, columns: oIdx.count)
        var Jok = Matrix(rows: oIdx.count, columns: dk + 1)  // [J_ok | h_o]
        for (a, i) in oIdx.enumerated() {
            for (b, j) in oIdx.enumerated() { Joo[a, b] = J[i, j] }
            for (b, j) in kIdx.enumerated() { Jok[a, b] = J[i, j] }
            Jok[a, dk] = h[i]
        }
        let chol: Cholesky
        do { chol = try Cholesky(Joo) } catch {
            throw FactorGraphError.invalidGaussian(
                "factor \(f): the precision of its other variables is not positive definite when sending to a "
                    + "variable (the model is improper, or loopy Gaussian BP diverged)"
            )
        }
        let X = try chol.solve(Jok)  // J_oo⁻¹ [J_ok | h_o]
        for a in 0..<dk {
            for b in 0..<dk {
                var s = 0.0
                for (c, i) in oIdx.enumerated() { s += J[kIdx[a], i] * X[c, b] }
                Jkk[a, b] -= s
            }
            var s = 0.0
            for (c, i) in oIdx.enumerated() { s += J[kIdx[a], i] * X[c, dk] }
            hk[a] -= s
        }
        // Symmetrise against rounding.
        for a in 0..<dk { for b in 0..<a { let m = 0.5 * (Jkk[a, b] + Jkk[b, a]); Jkk[a, b] = m; Jkk[b, a] = m } }
        return (Jkk, hk)
    }

    func damped(_ e: Int, _ J: Matrix, _ h: [Double], _ d: Double) -> (Matrix, [Double]) {
        if d == 0 { return (J, h) }
        var J2 = J, h2 = h
        for i in J2.elements.indices { J2.elements[i] = (1 - d) * J.elements[i] + d * f2vJ[e].elements[i] }
        for i in h2.indices { h2[i] = (1 - d) * h[i] + d * f2vH[e][i] }
        return (J2, h2)
    }

    mutating func updateFactorToVariable(_ e: Int, damping: Double) throws {
        let (J, h) = try factorMessage(e)
        (f2vJ[e], f2vH[e]) = damped(e, J, h, damping)
    }

    mutating func updateVariableToFactor(_ e: Int) {
        let v = topology.edgeVariable[e]
        var J = Matrix(rows: dims[v], columns: dims[v]), h = [Double](repeating: 0, count: dims[v])
        for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
            let e2 = topology.variableEdges[k]
            if e2 == e { continue }
            for i in J.elements.indices { J.elements[i] += f2vJ[e2].elements[i] }
            for i in h.indices { h[i] += f2vH[e2][i] }
        }
        v2fJ[e] = J; v2fH[e] = h
    }

    func beliefs() throws -> [GaussianBeliefPropagation.Marginal] {
        try (0..<topology.variableCount).map { v in
            var J = Matrix(rows: dims[v], columns: dims[v]), h = [Double](repeating: 0, count: dims[v])
            for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
                let e = topology.variableEdges[k]
                for i in J.elements.indices { J.elements[i] += f2vJ[e].elements[i] }
                for i in h.indices { h[i] += f2vH[e][i] }
            }
            let chol: Cholesky
            do { chol = try Cholesky(J) } catch {
                throw FactorGraphError.invalidGaussian(
                    "variable belief \(v) has a precision that is not positive definite (improper model, or divergence)"
                )
            }
            return GaussianBeliefPropagation.Marginal(mean: try chol.solve(h), covariance: try chol.inverse())
        }
    }
}

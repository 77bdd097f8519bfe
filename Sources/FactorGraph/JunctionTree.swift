import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// Exact inference on a clique tree: the junction tree algorithm.
///
/// The tree comes from variable elimination's min-fill order: eliminating `v` forms the clique
/// `{v} ∪ separator(v)`, joined to the clique of the separator's first variable to go (a tree
/// with the running-intersection property); a clique contained in its only child is merged
/// into it. Each factor (restricted to the
/// evidence) is assigned to one clique containing its scope.
///
/// One collect pass (leaves to roots) and one distribute pass (roots to leaves) calibrate
/// every clique: with sum-product (``LogSumProduct``) each clique's belief is its unnormalised
/// marginal, giving log Z and every variable's and every factor's marginal from the one
/// calibration; with max-sum (``MaxSum``) each belief is a max-marginal, decoded root to
/// leaves into an exact MAP assignment.
///
/// ```swift
/// let jt = JunctionTree()
/// let c = try jt.calibrate(graph, evidence: ev, semiring: .sumProduct)
/// print(c.logPartition, c.marginal(of: 3), c.cliques.count)
/// ```
public struct JunctionTree: InferenceAlgorithm {
    /// The sizes it will build (checked while the order is chosen, before any table exists):
    /// the largest clique at most `limits.cliqueEntries` entries, the upward messages at most
    /// `limits.totalTableEntries` together.
    public var limits: ResourceLimits

    /// A junction tree that refuses cliques larger than `limits` allow.
    public init(limits: ResourceLimits = .standard) { self.limits = limits }

    /// What the calibration runs: sums (log-sum-exp) or maxima.
    public enum Mode: Sendable {
        /// Sum-product: beliefs are marginals.
        case sumProduct
        /// Max-sum: beliefs are max-marginals.
        case maxSum
    }

    /// A calibrated clique tree.
    public struct Calibration: Sendable {
        /// The variables of each clique.
        public let cliques: [[Int]]
        /// Each clique's neighbour towards its root, or `nil` for a root.
        public let parent: [Int?]
        /// Each clique's calibrated belief in the log domain, row-major over its variables
        /// (first most significant): `log` of the unnormalised marginal (sum-product) or
        /// max-marginal (max-sum) of the clique, evidence applied.
        public let beliefs: [[Double]]
        /// `log Z` (sum-product) or the largest log score (max-sum), evidence applied.
        public let logPartition: Double
        /// For each variable, the smallest clique that contains it (`nil` if observed).
        public let home: [Int?]
        let cardinalities: [Int]
        let clamp: [Int?]

        /// The normalised marginal of variable `v` (sum-product), or its normalised
        /// max-marginal (max-sum); one-hot for an observed variable.
        public func marginal(of v: Int) -> [Double] {
            guard let c = home[v] else { return oneHot(v) }
            return jointMarginal(of: [v], in: c)
        }

        /// The normalised marginal over `variables`, all of them in clique `c`, row-major over
        /// `variables` as given.
        public func jointMarginal(of variables: [Int], in c: Int) -> [Double] {
            jointMarginals(of: [variables], in: c)[0]
        }

        /// The normalised marginals over each of `sets`, all in clique `c`: the clique's
        /// belief is exponentiated once for all of them.
        func jointMarginals(of sets: [[Int]], in c: Int) -> [[Double]] {
            let t = Table(scope: cliques[c], cardinalities: cliques[c].map { cardinalities[$0] }, values: beliefs[c])
            let top = t.values.max() ?? 0
            let linear = t.values.map { exp($0 - top) }
            return sets.map { variables in
                let sums = t.summedLinear(linear, onto: variables)
                let z = sums.reduce(0, +)
                return sums.map { $0 / z }
            }
        }

        /// Every variable's marginal (one-hot where observed), each clique exponentiated once.
        public func marginals() -> [[Double]] {
            var out = (0..<cardinalities.count).map { home[$0] == nil ? oneHot($0) : [] }
            var housed = [[Int]](repeating: [], count: cliques.count)
            for (v, c) in home.enumerated() { if let c { housed[c].append(v) } }
            for (c, variables) in housed.enumerated() where !variables.isEmpty {
                for (v, m) in zip(variables, jointMarginals(of: variables.map { [$0] }, in: c)) { out[v] = m }
            }
            return out
        }

        /// The marginal of an observed variable: all mass on its observed state.
        private func oneHot(_ v: Int) -> [Double] { (0..<cardinalities[v]).map { $0 == clamp[v] ? 1 : 0 } }
    }

    /// The clique tree of `graph` under `evidence`, calibrated by `mode`.
    public func calibrate(_ graph: FactorGraph, evidence: Evidence = .none, mode: Mode) throws -> Calibration {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        return try calibrate(problem, mode: mode).calibration
    }

    /// The calibration and the internal tree (for decoding).
    func calibrate(_ problem: DiscreteProblem, mode: Mode) throws -> (calibration: Calibration, tree: CliqueTree) {
        let tables = problem.factors.map { Table.restricted($0, clamp: problem.clamp) }
        let plan = try VariableElimination(limits: limits).plan(problem, tables: tables)
        let tree = CliqueTree(plan: plan, tables: tables, cardinalities: problem.cardinalities)
        let maximize = mode == .maxSum
        var constant = 0.0
        for t in tables where t.scope.isEmpty { constant += t.values[0] }
        let m = tree.cliques.count
        var potential = (0..<m).map { c in
            Table.product(
                tree.assigned[c].map { tables[$0] }, scope: tree.cliques[c], cardinalityOf: tree.cardinalities)
        }
        // Collect: each clique's message to its parent, children first.
        var up = [Table?](repeating: nil, count: m)
        for c in tree.postOrder {
            for k in tree.children[c] { potential[c].add(up[k]!) }
            if tree.parent[c] != nil {
                up[c] = potential[c].marginalized(onto: tree.separators[c], maximize: maximize)
            }
        }
        // potential[c] now holds the clique with its subtree; the roots are calibrated.
        var total = constant
        for c in tree.postOrder where tree.parent[c] == nil {
            total += maximize ? (potential[c].values.max() ?? -.infinity) : LogSpace.sum(potential[c].values)
        }
        guard total > -.infinity else {
            throw FactorGraphError.inconsistentEvidence("every configuration has probability zero")
        }
        // Distribute: a child's belief is its subtree part times the parent's belief divided by
        // the child's own message (−∞ where that message is −∞: the child's belief is −∞ there
        // whatever is sent).
        for c in tree.postOrder.reversed() where !tree.children[c].isEmpty {
            // Sum-product: one exp per entry of the parent's belief (relative to its largest),
            // then every child's separator is a plain sum.
            let top = potential[c].values.max() ?? -.infinity
            let linear = maximize || top == -.infinity ? [] : potential[c].values.map { exp($0 - top) }
            for k in tree.children[c] {
                let scope = tree.separators[k]
                var down =
                    maximize
                    ? potential[c].marginalized(onto: scope, maximize: true)
                    : Table(
                        scope: scope, cardinalities: up[k]!.cardinalities,
                        values: linear.isEmpty
                            ? [Double](repeating: -.infinity, count: up[k]!.values.count)
                            : potential[c].summedLinear(linear, onto: scope).map { log($0) + top })
                for i in down.values.indices {
                    down.values[i] = up[k]!.values[i] == -.infinity ? -.infinity : down.values[i] - up[k]!.values[i]
                }
                potential[k].add(down)
            }
        }
        var home = [Int?](repeating: nil, count: problem.variableCount)
        for (c, clique) in tree.cliques.enumerated() {
            for v in clique where home[v].map({ tree.cliques[$0].count > clique.count }) ?? true { home[v] = c }
        }
        let calibration = Calibration(
            cliques: tree.cliques, parent: tree.parent, beliefs: potential.map(\.values), logPartition: total,
            home: home, cardinalities: problem.cardinalities, clamp: problem.clamp)
        return (calibration, tree)
    }

    /// `log Z`; `-∞` when every configuration has probability zero.
    public func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double {
        do {
            return try calibrate(graph, evidence: evidence, mode: .sumProduct).logPartition
        } catch FactorGraphError.inconsistentEvidence { return -.infinity }
    }

    /// Every variable's exact marginal, from one calibration.
    public func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]] {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let all = try calibrate(problem, mode: .sumProduct).calibration.marginals()
        return all.enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
    }

    /// The marginal of every factor of `graph` over its scope (row-major as the factor's
    /// table), from one calibration; a factor touching an observed variable gets its
    /// conditional marginal with the observed variables fixed.
    public func factorMarginals(_ graph: FactorGraph, evidence: Evidence = .none) throws -> [[Double]] {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let (c, tree) = try calibrate(problem, mode: .sumProduct)
        return graph.factors.indices.map { f in
            let factor = problem.factors[f]
            let free = factor.scope.filter { problem.clamp[$0] == nil }
            let joint = free.isEmpty ? [1.0] : c.jointMarginal(of: free, in: tree.home[f])
            // The joint of the free variables, placed where the factor's table has the observed
            // states (zero elsewhere): the inverse of restricting the table to the evidence.
            let positions = factor.scope.indices.filter { problem.clamp[factor.scope[$0]] == nil }
            var base = 0
            for (i, v) in factor.scope.enumerated() { base += (problem.clamp[v] ?? 0) * factor.strides[i] }
            var out = [Double](repeating: 0, count: factor.count)
            Table.walk(
                cardinalities: positions.map { factor.cardinalities[$0] },
                strides: positions.map { factor.strides[$0] },
                base: base
            ) { i, j in out[j] = joint[i] }
            return out
        }
    }

    /// An exact MAP assignment: max-sum calibration, then each clique, roots first, takes the
    /// best entry of its max-marginal that agrees with what its parent fixed (ties: lowest
    /// row-major index).
    public func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let (c, tree) = try calibrate(problem, mode: .maxSum)
        var x = problem.clamp.map { $0 ?? -1 }
        for k in tree.postOrder.reversed() {
            let clique = tree.cliques[k]
            let cards = clique.map { problem.cardinalities[$0] }
            var best = -Double.infinity, bestIndex = 0
            var digits = [Int](repeating: 0, count: clique.count)
            for (t, value) in c.beliefs[k].enumerated() {
                if value > best && zip(clique, digits).allSatisfy({ x[$0] < 0 || x[$0] == $1 }) {
                    best = value; bestIndex = t
                }
                var j = digits.count - 1
                while j >= 0 { digits[j] += 1; if digits[j] < cards[j] { break }; digits[j] = 0; j -= 1 }
            }
            for (i, v) in clique.enumerated().reversed() { x[v] = bestIndex % cards[i]; bestIndex /= cards[i] }
        }
        let states = x.map { max($0, 0) }
        return MAPAssignment(states: states, logScore: problem.logScore(states), isExact: true)
    }
}

extension Table {
    /// `self ⊗= other` (log-domain sum) over `self`'s scope, which contains `other`'s.
    mutating func add(_ other: Table) {
        let s = other.strides(in: scope)
        let cards = cardinalities
        values.withUnsafeMutableBufferPointer { dst in
            other.values.withUnsafeBufferPointer { src in
                Table.walk(cardinalities: cards, strides: s) { i, j in dst[i] += src[j] }
            }
        }
    }
}

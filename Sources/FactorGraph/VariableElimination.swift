#if canImport(Glibc)
import NumericalCore
import Glibc
#endif

/// Exact inference by variable elimination with a greedy min-fill order.
///
/// Eliminating the variables in order builds a bucket tree (each variable's bucket holds the
/// factors it is eliminated from; its message goes to the bucket of the next variable in its
/// scope). One upward pass gives log Z or the MAP score; a downward pass on the same tree
/// gives every marginal at the cost of about two more eliminations; MAP is decoded by
/// backtracking through the buckets in reverse. The elimination is written once, in the log
/// domain, with `⊕` either log-sum-exp (sum-product) or max (max-sum).
public struct VariableElimination: InferenceAlgorithm {
    /// The sizes it will build: the largest clique table is at most `limits.cliqueEntries`, and
    /// the upward messages it keeps at most `limits.totalTableEntries` together. Both are
    /// checked while the order is chosen, before any table is built.
    public var limits: ResourceLimits

    /// The largest clique table (entries) it will build.
    public var maximumCliqueSize: Int {
        get { limits.cliqueEntries }
        set { limits.cliqueEntries = newValue }
    }

    /// Variable elimination that refuses cliques larger than `limits` allow.
    public init(limits: ResourceLimits = .standard) { self.limits = limits }

    /// Variable elimination that refuses cliques of more than `maximumCliqueSize` entries.
    public init(maximumCliqueSize: Int) {
        limits = .standard
        limits.cliqueEntries = maximumCliqueSize
    }

    /// The plan: order and bucket tree, computed symbolically before any table is built.
    struct Plan {
        let order: [Int]
        let position: [Int]
        /// Per bucket (indexed by elimination step): the factor indices assigned to it.
        var assigned: [[Int]]
        /// Per bucket: its children buckets.
        var children: [[Int]]
        /// Per bucket: the parent bucket, or -1 for a root.
        var parent: [Int]
        /// Per bucket: the separator (message scope), in a fixed order.
        var separator: [[Int]]
        /// Per bucket: the clique scope without the eliminated variable.
        var largestClique: Int
    }

    /// The greedy min-fill elimination order of the free variables (those without evidence),
    /// and the entries of the largest clique table it forms; throws
    /// ``FactorGraphError/tooLarge(_:)`` as soon as a clique exceeds `limits.cliqueEntries`.
    public func eliminationOrder(_ graph: FactorGraph, evidence: Evidence = .none) throws -> (
        order: [Int], largestClique: Int
    ) {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let tables = problem.factors.map { Table.restricted($0, clamp: problem.clamp) }
        let p = try plan(problem, tables: tables)
        return (p.order, p.largestClique)
    }

    func plan(_ problem: DiscreteProblem, tables: [Table]) throws -> Plan {
        let n = problem.variableCount
        let free = problem.clamp.map { $0 == nil }
        let ordering = MinFillOrder(variableCount: n, scopes: tables.map(\.scope), free: free)
        let order = try ordering.order(cardinalities: problem.cardinalities, cliqueLimit: limits.cliqueEntries)
        var position = [Int](repeating: -1, count: n)
        for (i, v) in order.enumerated() { position[v] = i }
        let m = order.count
        var assigned = [[Int]](repeating: [], count: m)
        for (f, t) in tables.enumerated() where !t.scope.isEmpty {
            assigned[t.scope.map { position[$0] }.min()!].append(f)
        }
        var children = [[Int]](repeating: [], count: m)
        var parent = [Int](repeating: -1, count: m)
        var separator = [[Int]](repeating: [], count: m)
        var largest = 1
        var kept = 0
        var inScope = [Bool](repeating: false, count: n)
        var scope: [Int] = []
        for b in 0..<m {
            let v = order[b]
            // The bucket's scope: its factors' variables and its children's separators.
            scope.removeAll(keepingCapacity: true)
            func include(_ u: Int) { if !inScope[u] { inScope[u] = true; scope.append(u) } }
            include(v)
            for f in assigned[b] { for u in tables[f].scope { include(u) } }
            for c in children[b] { for u in separator[c] { include(u) } }
            for u in scope { inScope[u] = false }
            var clique = 1
            for u in scope {
                let (p, o) = clique.multipliedReportingOverflow(by: problem.cardinalities[u])
                guard !o, p <= limits.cliqueEntries else {
                    throw FactorGraphError.tooLarge(
                        "variable elimination needs a clique of more than \(limits.cliqueEntries) entries (at "
                            + "variable \(v), \(scope.count) variables); raise with --limit cliqueEntries=N"
                    )
                }
                clique = p
            }
            largest = max(largest, clique)
            kept += clique / problem.cardinalities[v]
            guard kept <= limits.totalTableEntries else {
                throw FactorGraphError.tooLarge(
                    "variable elimination keeps upward messages of more than \(limits.totalTableEntries) entries "
                        + "together (\(ResourceLimits.describe(doubles: Double(kept))) by variable \(v)); raise with "
                        + "--limit totalTableEntries=N"
                )
            }
            let sep = scope.dropFirst().sorted { position[$0] < position[$1] }
            separator[b] = sep
            if let first = sep.first {
                let p = position[first]
                parent[b] = p
                children[p].append(b)
            }
        }
        return Plan(
            order: order, position: position, assigned: assigned, children: children,
            parent: parent, separator: separator, largestClique: largest)
    }

    /// Runs the upward pass, with `⊕` = max when `maximize` (max-sum) and log-sum-exp otherwise;
    /// returns the plan, the restricted tables, the upward messages and the log total (log Z,
    /// or the max score).
    func upward(_ problem: DiscreteProblem, maximize: Bool) throws -> (Plan, [Table], [Table], Double) {
        let tables = problem.factors.map { Table.restricted($0, clamp: problem.clamp) }
        let plan = try plan(problem, tables: tables)
        var total = 0.0
        for t in tables where t.scope.isEmpty { total += t.values[0] }
        var up = [Table](repeating: Table(scope: [], cardinalities: [], values: [0]), count: plan.order.count)
        for b in 0..<plan.order.count {
            let inputs = plan.assigned[b].map { tables[$0] } + plan.children[b].map { up[$0] }
            let prod = Table.product(
                inputs, scope: plan.separator[b] + [plan.order[b]], cardinalityOf: problem.cardinalities)
            up[b] = prod.eliminatingLast(maximize: maximize)
            if plan.parent[b] < 0 { total += up[b].values[0] }
        }
        return (plan, tables, up, total)
    }

    /// Everything: log Z and all marginals (sum-product, two passes over the bucket tree).
    ///
    /// The downward pass forms each bucket's belief once; the message to a child is that
    /// belief marginalised onto the child's separator with the child's own upward message
    /// divided out (where that message is zero the child's belief is zero whatever is sent,
    /// so 0/0 is taken as 0).
    public func solve(_ graph: FactorGraph, evidence: Evidence = .none) throws -> (
        logPartition: Double, marginals: [[Double]]
    ) {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let (plan, tables, up, logZ) = try upward(problem, maximize: false)
        guard logZ > -.infinity else {
            throw FactorGraphError.inconsistentEvidence("every configuration has probability zero")
        }
        let m = plan.order.count
        var down = [Table?](repeating: nil, count: m)
        var marginals = problem.cardinalities.map { [Double](repeating: 0, count: $0) }
        for b in stride(from: m - 1, through: 0, by: -1) {
            let v = plan.order[b]
            var inputs = plan.assigned[b].map { tables[$0] } + plan.children[b].map { up[$0] }
            if let d = down[b] { inputs.append(d) }
            let belief = Table.product(inputs, scope: plan.separator[b] + [v], cardinalityOf: problem.cardinalities)
            // One exp per entry, relative to the belief's largest: every marginal of this
            // bucket is then a plain sum. Entries below e^-745 of the largest underflow to 0,
            // a relative mass no marginal can show.
            let top = belief.values.max() ?? -.infinity
            guard top > -.infinity else {
                throw FactorGraphError.inconsistentEvidence("every configuration has probability zero")
            }
            let linear = belief.values.map { exp($0 - top) }
            let mv = belief.summedLinear(linear, onto: [v])
            let z = mv.reduce(0, +)
            marginals[v] = mv.map { $0 / z }
            for c in plan.children[b] {
                let sums = belief.summedLinear(linear, onto: plan.separator[c])
                let own = up[c]
                var msg = Table(scope: plan.separator[c], cardinalities: own.cardinalities, values: sums)
                for k in msg.values.indices {
                    msg.values[k] =
                        own.values[k] == -.infinity || sums[k] == 0 ? -.infinity : log(sums[k]) + top - own.values[k]
                }
                down[c] = msg
            }
        }
        for (v, c) in problem.clamp.enumerated() {
            if let c { marginals[v] = (0..<problem.cardinalities[v]).map { $0 == c ? 1 : 0 } }
        }
        let out = marginals.enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
        return (logZ, out)
    }

    /// `log Z`; `-∞` when every configuration has probability zero.
    public func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        return try upward(problem, maximize: false).3
    }

    /// Every variable's exact marginal, from the two passes of ``solve(_:evidence:)``.
    public func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]] {
        try solve(graph, evidence: evidence).marginals
    }

    /// An exact MAP assignment: max-sum elimination, then backtracking in reverse order
    /// (ties: lowest state).
    public func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment {
        try mostProbableAssignment(try DiscreteProblem(graph, evidence: evidence))
    }

    /// The exact MAP assignment of `problem`.
    func mostProbableAssignment(_ problem: DiscreteProblem) throws -> MAPAssignment {
        let (plan, tables, up, best) = try upward(problem, maximize: true)
        guard best > -.infinity else {
            throw FactorGraphError.inconsistentEvidence("every configuration has probability zero")
        }
        var x = problem.clamp.map { $0 ?? 0 }
        for b in stride(from: plan.order.count - 1, through: 0, by: -1) {
            let v = plan.order[b]
            let inputs = plan.assigned[b].map { tables[$0] } + plan.children[b].map { up[$0] }
            var bestScore = -Double.infinity, bestState = 0
            for s in 0..<problem.cardinalities[v] {
                x[v] = s
                var score = 0.0
                for t in inputs { score += t.value(at: x) }
                if score > bestScore { bestScore = score; bestState = s }
            }
            x[v] = bestState
        }
        return MAPAssignment(states: x, logScore: problem.logScore(x), isExact: true)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NumericalCore

/// A Bayesian network as its users write it: named variables with named states, and for
/// each variable its parents and a conditional probability table, one row per configuration
/// of the parents.
///
/// Rows are ordered with the first parent most significant (its state changes slowest), the
/// order of BIF files and of pgmpy's `TabularCPD` columns; each row is a distribution over
/// the variable's states and must sum to 1 (within ``rowTolerance``): the row that does not is
/// named. ``factorGraph()`` gives the factor graph of `P(x) = Π_v P(x_v | x_pa(v))`, on which
/// every inference method of the module runs; ``sample(count:seed:)`` and
/// ``likelihoodWeighting(evidence:samples:seed:)`` draw from the network itself.
public struct BayesianNetwork: Sendable, Equatable {
    /// One variable with its conditional distribution given its parents.
    public struct Node: Sendable, Equatable {
        /// The variable's name.
        public var name: String
        /// The names of its states.
        public var states: [String]
        /// Its parents (node indices), first most significant in ``table``.
        public var parents: [Int] = []
        /// `P(x | parents)`: one row of `states.count` probabilities per parent configuration,
        /// flattened (empty until set).
        public var table: [Double] = []
    }

    /// The variables, in the order they were added.
    public internal(set) var nodes: [Node] = []
    /// How far a row may be from summing to 1.
    public static let rowTolerance = 1e-6

    /// An empty network.
    public init() {}

    /// The index of the variable called `name`.
    public func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Adds a variable with the given states; throws if the name is taken or there are no
    /// states.
    @discardableResult
    public mutating func addVariable(_ name: String, states: [String], limits: ResourceLimits = .standard) throws
        -> Int
    {
        guard index(of: name) == nil else {
            throw FactorGraphError.invalidNetwork("variable '\(name)' is declared twice")
        }
        guard !states.isEmpty else { throw FactorGraphError.invalidNetwork("variable '\(name)' has no states") }
        guard states.count <= limits.cardinality else {
            throw FactorGraphError.tooLarge(
                "variable '\(name)' has \(states.count) states; the limit is \(limits.cardinality)")
        }
        guard Set(states).count == states.count else {
            throw FactorGraphError.invalidNetwork("variable '\(name)' names a state twice")
        }
        nodes.append(Node(name: name, states: states))
        return nodes.count - 1
    }

    /// Sets `P(child | parents)` from its rows (one per parent configuration, first parent most
    /// significant), checking that every row is a distribution.
    public mutating func setConditional(
        _ child: Int, parents: [Int], rows: [[Double]], limits: ResourceLimits = .standard
    ) throws {
        guard nodes.indices.contains(child) else { throw FactorGraphError.invalidNetwork("no variable \(child)") }
        for p in parents where !nodes.indices.contains(p) || p == child {
            throw FactorGraphError.invalidNetwork("'\(nodes[child].name)' cannot have parent \(p)")
        }
        guard Set(parents).count == parents.count else {
            throw FactorGraphError.invalidNetwork("'\(nodes[child].name)' names a parent twice")
        }
        let configurations = try rowCount(child, parents: parents, limits: limits)
        guard rows.count == configurations else {
            throw FactorGraphError.invalidNetwork(
                "the table of '\(nodes[child].name)' has \(rows.count) rows; its \(parents.count) parent(s) have "
                    + "\(configurations) configurations")
        }
        let k = nodes[child].states.count
        var node = nodes[child]
        node.parents = parents
        node.table = []
        node.table.reserveCapacity(configurations * k)
        for (r, row) in rows.enumerated() {
            guard row.count == k else {
                throw FactorGraphError.invalidNetwork(
                    "\(label(child, parents: parents, row: r)) has \(row.count) entries, not \(k)")
            }
            if let bad = row.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw FactorGraphError.invalidNetwork(
                    "\(label(child, parents: parents, row: r)): P(\(node.states[bad])) is \(row[bad])")
            }
            let sum = row.reduce(0, +)
            guard abs(sum - 1) <= Self.rowTolerance else {
                throw FactorGraphError.invalidNetwork(
                    "\(label(child, parents: parents, row: r)) sums to \(sum.formatted(significantDigits: 9)), not 1")
            }
            node.table += row
        }
        nodes[child] = node
    }

    /// The rows of `child`'s table over `parents` (their configurations); throws if the table
    /// would have more than `limits.tableEntries` entries.
    func rowCount(_ child: Int, parents: [Int], limits: ResourceLimits) throws -> Int {
        let k = nodes[child].states.count
        guard let entries = ResourceLimits.product(parents.map { nodes[$0].states.count } + [k]),
            entries <= limits.tableEntries
        else {
            throw FactorGraphError.tooLarge(
                "the table of '\(nodes[child].name)' is above \(limits.tableEntries) entries")
        }
        return entries / k
    }

    /// The states of `parents` that row `r` of a table over them stands for (first parent most
    /// significant).
    func parentStates(_ parents: [Int], row r: Int) -> [Int] {
        var rest = r
        var states = [Int](repeating: 0, count: parents.count)
        for (i, p) in parents.enumerated().reversed() {
            states[i] = rest % nodes[p].states.count
            rest /= nodes[p].states.count
        }
        return states
    }

    /// `P(child | a=…, b=…)` for row `r` of a table over `parents`.
    func label(_ child: Int, parents: [Int], row r: Int) -> String {
        guard !parents.isEmpty else { return "P(\(nodes[child].name))" }
        let states = zip(parents, parentStates(parents, row: r)).map { p, s in
            "\(nodes[p].name)=\(nodes[p].states[s])"
        }
        return "P(\(nodes[child].name) | \(states.joined(separator: ", ")))"
    }

    /// The variables with every parent before its children; throws if a table is missing or
    /// the parents form a cycle (naming it).
    public func topologicalOrder() throws -> [Int] {
        if let missing = nodes.first(where: { $0.table.isEmpty }) {
            throw FactorGraphError.invalidNetwork("'\(missing.name)' has no probability table")
        }
        var state = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 on the path, 2 done
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        for root in nodes.indices where state[root] == 0 {
            var stack: [(node: Int, next: Int)] = [(root, 0)]
            state[root] = 1
            while let top = stack.last {
                let parents = nodes[top.node].parents
                if top.next < parents.count {
                    stack[stack.count - 1].next += 1
                    let p = parents[top.next]
                    if state[p] == 1 {
                        let path = stack.map(\.node).drop { $0 != p }.map { nodes[$0].name }
                        throw FactorGraphError.invalidNetwork(
                            "the parents form a cycle: \((path + [nodes[p].name]).joined(separator: " ← "))")
                    }
                    if state[p] == 0 {
                        state[p] = 1
                        stack.append((p, 0))
                    }
                } else {
                    state[top.node] = 2
                    order.append(top.node)
                    stack.removeLast()
                }
            }
        }
        return order
    }

    /// The factor graph of `P(x) = Π_v P(x_v | x_pa(v))`: variable `v` is node `v` (with its
    /// name), and the factor of `v` has scope `parents + [v]` (Z = 1).
    public func factorGraph() throws -> FactorGraph {
        _ = try topologicalOrder()
        var g = FactorGraph()
        for n in nodes { g.addCategorical(cardinality: n.states.count, name: n.name) }
        for (v, n) in nodes.enumerated() { _ = try g.addFactor(scope: n.parents + [v], values: n.table) }
        return g
    }
}

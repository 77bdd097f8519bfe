/// The clique tree of an elimination order: variable elimination's bucket tree with every
/// clique that is contained in its only child merged into it, renumbered, each clique with
/// its factors, parent and children.
struct CliqueTree {
    /// The variables of each clique (the bucket's separator, then its eliminated variable).
    var cliques: [[Int]]
    /// Each clique's parent, or `nil` for a root.
    var parent: [Int?]
    /// Each clique's children.
    var children: [[Int]]
    /// The tables assigned to each clique (indices into the restricted tables).
    var assigned: [[Int]]
    /// For each table, the clique it is assigned to (−1 for a table with an empty scope).
    var home: [Int]
    /// Every clique, children before parents.
    var postOrder: [Int]
    /// Each clique's separator with its parent (empty for a root), in the clique's own order.
    var separators: [[Int]]
    let cardinalities: [Int]

    init(plan: VariableElimination.Plan, tables: [Table], cardinalities: [Int]) {
        self.cardinalities = cardinalities
        let m = plan.order.count
        var clique = (0..<m).map { plan.separator[$0] + [plan.order[$0]] }
        var parent = plan.parent
        var children = plan.children
        var assigned = plan.assigned
        var alive = [Bool](repeating: true, count: m)
        // Leaves first: a clique contained in its only (final) child merges into it, and the
        // child takes its parent and its factors. (A clique with several children stays: merged
        // into the larger clique, each of its other children's messages would be summed over
        // the larger table.)
        for p in 0..<m {
            let members = Set(clique[p])
            guard children[p].count == 1, let b = children[p].first(where: { members.isSubset(of: clique[$0]) })
            else { continue }
            alive[p] = false
            parent[b] = parent[p]
            if parent[p] >= 0 { children[parent[p]] = children[parent[p]].map { $0 == p ? b : $0 } }
            for k in children[p] where k != b {
                parent[k] = b
                children[b].append(k)
            }
            assigned[b] += assigned[p]
            children[p] = []
            assigned[p] = []
            clique[p] = []
        }
        var index = [Int](repeating: -1, count: m)
        var kept: [Int] = []
        for b in 0..<m where alive[b] {
            index[b] = kept.count
            kept.append(b)
        }
        cliques = kept.map { clique[$0] }
        self.parent = kept.map { parent[$0] >= 0 ? index[parent[$0]] : nil }
        self.children = kept.map { children[$0].map { index[$0] } }
        self.assigned = kept.map { assigned[$0] }
        var home = [Int](repeating: -1, count: tables.count)
        for (c, fs) in self.assigned.enumerated() { for f in fs { home[f] = c } }
        self.home = home
        // Children before parents: a depth-first post-order from every root.
        var order: [Int] = []
        order.reserveCapacity(kept.count)
        let parents = self.parent
        var stack: [(Int, Bool)] = (0..<kept.count).filter { parents[$0] == nil }.map { ($0, false) }
        while let (c, expanded) = stack.popLast() {
            if expanded { order.append(c); continue }
            stack.append((c, true))
            for k in self.children[c] { stack.append((k, false)) }
        }
        postOrder = order
        let cliqueList = cliques
        separators = (0..<kept.count).map { c in
            guard let p = parents[c] else { return [] }
            let inParent = Set(cliqueList[p])
            return cliqueList[c].filter { inParent.contains($0) }
        }
    }
}

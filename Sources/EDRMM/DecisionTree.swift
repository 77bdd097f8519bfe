/// An ordinary decision tree: internal nodes test `⟨w, x⟩ ≥ θ` (oblique; axis-aligned when `w`
/// has one nonzero entry) and go left when true; leaves carry a label histogram and the
/// E-DRMM leaf they came from.
public indirect enum DecisionTree: Sendable, Equatable {
    case split(weights: [Double], threshold: Double, left: DecisionTree, right: DecisionTree)
    /// The axis-aligned test `x[feature] ≤ threshold` (left when true), as grown by CART-style
    /// learners: the oblique split with `w = −e_feature`, stored without the dense vector.
    case axis(feature: Int, threshold: Double, left: DecisionTree, right: DecisionTree)
    case leaf(node: Int, labelCounts: [Double])

    /// The leaf reached by `x`.
    public func route(_ x: [Double]) -> (node: Int, labelCounts: [Double]) {
        switch self {
        case let .leaf(node, counts): return (node, counts)
        case let .split(w, t, l, r):
            var s = 0.0
            for i in 0..<w.count where w[i] != 0 { s += w[i] * x[i] }
            return s >= t ? l.route(x) : r.route(x)
        case let .axis(f, t, l, r):
            return x[f] <= t ? l.route(x) : r.route(x)
        }
    }

    /// If every split is axis-aligned, the (feature, threshold, sign) of the root split.
    public var axisAlignedRoot: (feature: Int, threshold: Double, sign: Double)? {
        if case let .axis(f, t, _, _) = self { return (f, t, -1) }
        guard case let .split(w, t, _, _) = self else { return nil }
        let nz = w.indices.filter { w[$0] != 0 }
        guard nz.count == 1 else { return nil }
        return (nz[0], t / w[nz[0]], w[nz[0]] > 0 ? 1 : -1)
    }
}

extension EvolutionaryTree {
    /// Exports the tree's greedy max-sum inference as an ordinary decision tree. A node with
    /// children `c₁ … c_k` becomes a tournament of binary oblique tests: `c_a` beats `c_b` when
    /// `⟨w_a − w_b, x⟩ ≥ b_b − b_a` (ties to the earlier child, as in `EvolutionaryTree.descend(_:objective:)`), so
    /// the exported tree reaches the same leaf on every input.
    public func exportDecisionTree() -> DecisionTree {
        func subtree(_ node: Int) -> DecisionTree {
            let ch = nodes[node].children
            return ch.isEmpty ? .leaf(node: node, labelCounts: nodes[node].labelCounts) : tournament(ch)
        }
        func tournament(_ candidates: [Int]) -> DecisionTree {
            if candidates.count == 1 { return subtree(candidates[0]) }
            let (a, b) = (candidates[0], candidates[1])
            let rest = Array(candidates.dropFirst(2))
            let w = zip(nodes[a].weights, nodes[b].weights).map { $0 - $1 }
            return .split(
                weights: w, threshold: nodes[b].bias - nodes[a].bias,
                left: tournament([a] + rest), right: tournament([b] + rest))
        }
        return subtree(0)
    }

    /// Imports an ordinary axis-aligned or oblique binary tree as a relaxed E-DRMM: a split
    /// `⟨w, x⟩ ≥ θ` becomes a left child with `(w, −θ)` and a right child with `(0, 0)`, so that
    /// greedy descent goes left exactly when the test holds.
    public static func importing(_ tree: DecisionTree, dimension: Int) throws -> EvolutionaryTree {
        var model = try EvolutionaryTree(relaxedDimension: dimension)
        func build(_ t: DecisionTree, at node: Int) throws {
            switch t {
            case let .leaf(_, counts): model.nodes[node].labelCounts = counts
            case let .axis(f, theta, l, r):
                guard (0..<dimension).contains(f) else {
                    throw EDRMMError.invalidModel("split feature \(f) outside 0..<\(dimension)")
                }
                var w = [Double](repeating: 0, count: dimension)
                w[f] = -1
                try build(.split(weights: w, threshold: -theta, left: l, right: r), at: node)
            case let .split(w, theta, l, r):
                guard w.count == dimension else {
                    throw EDRMMError.invalidModel("split weights of length \(w.count), expected \(dimension)")
                }
                let left = try model.addRelaxedChild(of: node, weights: w, bias: -theta)
                let right = try model.addRelaxedChild(
                    of: node, weights: [Double](repeating: 0, count: dimension), bias: 0)
                try build(l, at: left)
                try build(r, at: right)
            }
        }
        try build(tree, at: 0)
        return model
    }
}

/// Reading a decision tree: indented text, node numbering, and the nodes an input visits.
extension DecisionTree {
    /// Nodes in pre-order (root 0, then the left subtree, then the right).
    public var nodeCount: Int {
        switch self {
        case .leaf: return 1
        case let .split(_, _, l, r), let .axis(_, _, l, r): return 1 + l.nodeCount + r.nodeCount
        }
    }

    /// The pre-order numbers of the nodes `x` visits, root first, leaf last.
    public func path(_ x: [Double]) -> [Int] {
        var out: [Int] = []
        var node = self, id = 0
        while true {
            out.append(id)
            switch node {
            case .leaf: return out
            case let .split(w, t, l, r):
                var s = 0.0
                for i in 0..<w.count where w[i] != 0 { s += w[i] * x[i] }
                if s >= t { node = l; id += 1 } else { id += 1 + l.nodeCount; node = r }
            case let .axis(f, t, l, r):
                if x[f] <= t { node = l; id += 1 } else { id += 1 + l.nodeCount; node = r }
            }
        }
    }

    /// The tree as indented text down to `maxDepth`. With `imageWidth`, an axis-aligned test
    /// names its pixel as (row, column).
    public func text(maxDepth: Int = 4, imageWidth: Int? = nil) -> String {
        var lines: [String] = []
        func pixel(_ f: Int) -> String { imageWidth.map { "pixel (\(f / $0), \(f % $0))" } ?? "x[\(f)]" }
        func leafText(_ counts: [Double]) -> String {
            let total = counts.reduce(0, +)
            guard total > 0, let best = counts.indices.max(by: { counts[$0] < counts[$1] }) else {
                return "leaf: empty"
            }
            return
                "leaf: class \(best) (\(Int(total)) training images, \(Int((100 * counts[best] / total).rounded())) "
                + "% of them)"
        }
        func walk(_ t: DecisionTree, depth: Int, prefix: String) {
            let pad = String(repeating: "  ", count: depth)
            switch t {
            case let .leaf(_, counts):
                lines.append(pad + prefix + leafText(counts))
            case let .axis(f, th, l, r):
                if depth >= maxDepth { lines.append(pad + prefix + "… (\(t.nodeCount) nodes)"); return }
                lines.append(pad + prefix + "\(pixel(f)) ≤ \(th)?")
                walk(l, depth: depth + 1, prefix: "yes: ")
                walk(r, depth: depth + 1, prefix: "no:  ")
            case let .split(w, th, l, r):
                if depth >= maxDepth { lines.append(pad + prefix + "… (\(t.nodeCount) nodes)"); return }
                lines.append(pad + prefix + "⟨w, x⟩ ≥ \(th)? (w has \(w.filter { $0 != 0 }.count) nonzero weights)")
                walk(l, depth: depth + 1, prefix: "yes: ")
                walk(r, depth: depth + 1, prefix: "no:  ")
            }
        }
        walk(self, depth: 0, prefix: "")
        return lines.joined(separator: "\n")
    }

    /// Each node's template as the hard-EM M-step estimates it: the mean of the training
    /// inputs that visit the node (pre-order numbering; nil for a node no input reaches).
    public func nodeMeans(_ data: ByteDataset) -> [[Double]?] {
        let n = nodeCount
        var sums = [[Double]](repeating: [Double](repeating: 0, count: data.dimension), count: n)
        var counts = [Int](repeating: 0, count: n)
        for i in 0..<data.count {
            let x: [Double] = data.features[(i * data.dimension)..<((i + 1) * data.dimension)].map { Double($0) }
            for node in path(x) {
                counts[node] += 1
                for j in 0..<data.dimension { sums[node][j] += x[j] }
            }
        }
        var means: [[Double]?] = []
        for node in 0..<n {
            let k = Double(counts[node])
            means.append(counts[node] > 0 ? sums[node].map { $0 / k } : nil)
        }
        return means
    }
}

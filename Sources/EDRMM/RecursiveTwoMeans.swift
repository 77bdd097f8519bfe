import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// Generative, unsupervised learning of an E-DRMM (spec §5): recursive 2-means with the split
/// rule of the model itself.
///
/// At every node the images that reached it are split by hard EM for a two-child mixture:
/// the E-step sends an image to the child with the larger Gaussian score
/// `⟨μ, I⟩/σ² − ‖μ‖²/2σ² + ln π` (the model's ChooseChild, so the learned tree's greedy descent
/// makes exactly these decisions), and the M-step sets each child's template to the mean of its
/// images and its prior to its share. The child's mutation is its template minus the parent's.
/// `σ²` is global: the mean per-pixel variance of the training images. Labels are used only
/// afterwards, to fill the leaf histograms `p(label | leaf)`.
public struct RecursiveTwoMeans: Sendable {
    /// Nodes at this depth are not split.
    public var maxDepth: Int
    /// Nodes with fewer images are not split.
    public var minNodeSize: Int
    /// Hard-EM iterations per node.
    public var iterations: Int
    /// Random restarts per node; the split with the lowest complete-data objective
    /// `Σ ‖I − μ_child‖²/2σ² − ln π_child` is kept (2-means has poor local optima, e.g. a 3+1
    /// split of four clusters).
    public var restarts: Int

    /// A learner with these limits, iterations and restarts.
    public init(maxDepth: Int = 8, minNodeSize: Int = 20, iterations: Int = 15, restarts: Int = 4) {
        self.maxDepth = maxDepth
        self.minNodeSize = minNodeSize
        self.iterations = iterations
        self.restarts = restarts
    }

    /// Grows a tree on `data` and fills its leaf histograms with `data`'s labels.
    public func fit(_ data: ByteDataset, seed: UInt64) throws -> EvolutionaryTree {
        guard maxDepth >= 1 else { throw EDRMMError.invalidModel("max depth must be at least 1, got \(maxDepth)") }
        guard minNodeSize >= 2 else {
            throw EDRMMError.invalidModel("min node size must be at least 2, got \(minNodeSize)")
        }
        let d = data.dimension, n = data.count
        func x(_ i: Int) -> ArraySlice<UInt8> { data.features[(i * d)..<((i + 1) * d)] }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for (j, v) in x(i).enumerated() { mean[j] += Double(v) } }
        mean = mean.map { $0 / Double(n) }
        var variance = 0.0
        for i in 0..<n { for (j, v) in x(i).enumerated() { variance += (Double(v) - mean[j]) * (Double(v) - mean[j]) } }
        let s2 = max(variance / Double(n * d), 1e-6)
        var tree = try EvolutionaryTree(root: mean, noiseVariance: s2)
        let rng = RandomSource(seed: seed)

        var stack: [(node: Int, members: [Int])] = [(0, Array(0..<n))]
        while let (node, members) = stack.popLast() {
            guard tree.nodes[node].depth < maxDepth, members.count >= minNodeSize else { continue }
            var best: (objective: Double, mu: [[Double]], prior: [Double], assign: [Int])?
            for _ in 0..<max(1, restarts) {
                guard let run = twoMeans(members, x, s2, rng) else { continue }
                if best == nil || run.objective < best!.objective { best = run }
            }
            guard let (_, mu, prior, _) = best else { continue }
            let parent = tree.nodes[node].template
            var children: [Int] = []
            for c in 0..<2 {
                children.append(
                    try tree.addChild(of: node, mutation: zip(mu[c], parent).map { $0 - $1 }, prior: prior[c]))
            }
            // Members follow the model's own rule from here on (the last E-step may predate the final M-step).
            var routed = [[Int]](repeating: [], count: 2)
            for i in members {
                let img = x(i).map(Double.init)
                routed[tree.score(children[1], img) > tree.score(children[0], img) ? 1 : 0].append(i)
            }
            for c in 0..<2 { stack.append((children[c], routed[c])) }
        }
        // Leaf histograms from the labels, routed by greedy descent.
        for l in tree.leaves { tree.nodes[l].labelCounts = [Double](repeating: 0, count: data.classes) }
        for i in 0..<n {
            let leaf = try tree.descend(x(i).map(Double.init)).last ?? 0
            tree.nodes[leaf].labelCounts[data.labels[i]] += 1
        }
        return tree
    }
    /// One hard-EM run of the two-child split from a random member and the member farthest
    /// from it; nil when the members cannot be split.
    func twoMeans(_ members: [Int], _ x: (Int) -> ArraySlice<UInt8>, _ s2: Double, _ rng: RandomSource)
        -> (objective: Double, mu: [[Double]], prior: [Double], assign: [Int])?
    {
        let d = x(members[0]).count
        // Initial templates: a random member and the member farthest from it.
        let first = members[rng.integer(below: members.count)]
        var far = first, farDist = -1.0
        for i in members {
            var dist = 0.0
            for (a, b) in zip(x(i), x(first)) { dist += (Double(a) - Double(b)) * (Double(a) - Double(b)) }
            if dist > farDist { farDist = dist; far = i }
        }
        guard farDist > 0 else { return nil }  // all members identical: nothing to split
        var mu = [x(first).map(Double.init), x(far).map(Double.init)]
        var prior = [0.5, 0.5]
        var assign = [Int](repeating: 0, count: members.count)
        for _ in 0..<iterations {
            let w = mu.map { m in m.map { $0 / s2 } }
            let b = (0..<2).map { -mu[$0].reduce(0) { $0 + $1 * $1 } / (2 * s2) + log(prior[$0]) }
            var changed = false
            for (k, i) in members.enumerated() {
                var s = [b[0], b[1]]
                for (j, v) in x(i).enumerated() { s[0] += w[0][j] * Double(v); s[1] += w[1][j] * Double(v) }
                let c = s[1] > s[0] ? 1 : 0  // ties to the first child, as the descent does
                if c != assign[k] { assign[k] = c; changed = true }
            }
            let counts = [assign.filter { $0 == 0 }.count, assign.filter { $0 == 1 }.count]
            guard counts[0] > 0, counts[1] > 0 else { break }
            for c in 0..<2 {
                var m = [Double](repeating: 0, count: d)
                for (k, i) in members.enumerated() where assign[k] == c {
                    for (j, v) in x(i).enumerated() { m[j] += Double(v) }
                }
                mu[c] = m.map { $0 / Double(counts[c]) }
                prior[c] = Double(counts[c]) / Double(members.count)
            }
            if !changed { break }
        }
        let counts = [assign.filter { $0 == 0 }.count, assign.filter { $0 == 1 }.count]
        guard counts[0] > 0, counts[1] > 0 else { return nil }
        var objective = 0.0
        for (k, i) in members.enumerated() {
            let c = assign[k]
            var sq = 0.0
            for (j, v) in x(i).enumerated() { sq += (Double(v) - mu[c][j]) * (Double(v) - mu[c][j]) }
            objective += sq / (2 * s2) - log(prior[c])
        }
        return (objective, mu, prior, assign)
    }
}

extension EvolutionaryTree {
    /// The most frequent training label of the leaf that greedy descent reaches.
    public func predict(_ image: [Double]) throws -> Int {
        let leaf = try descend(image).last ?? 0
        let counts = nodes[leaf].labelCounts
        return counts.indices.max { counts[$0] < counts[$1] } ?? 0
    }
}

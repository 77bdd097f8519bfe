import Dispatch
import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// A labelled data set of byte-valued features (pixels), row-major `count × dimension`.
public struct ByteDataset: Sendable {
    /// The features, row-major `count × dimension`.
    public let features: [UInt8]
    /// The same values feature-major, `dimension × count`: a split search reads one feature of
    /// many examples, and with sorted example indices this keeps its reads inside one column
    /// (60 KB for MNIST) instead of one 784-byte row per example.
    public let columns: [UInt8]
    /// The label of every example, in `0..<classes`.
    public let labels: [Int]
    /// Features per example.
    public let dimension: Int
    /// The number of classes.
    public let classes: Int

    /// A data set; throws if it is empty, ragged, or has a label outside `0..<classes`.
    public init(features: [UInt8], labels: [Int], dimension: Int, classes: Int) throws {
        guard !labels.isEmpty else { throw EDRMMError.invalidInput("empty training set") }
        guard dimension >= 1, features.count == labels.count * dimension else {
            throw EDRMMError.invalidInput(
                "\(features.count) feature values for \(labels.count) examples of length \(dimension)")
        }
        guard classes >= 2 else {
            throw EDRMMError.invalidInput("a classifier needs at least two classes, got \(classes)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw EDRMMError.invalidInput("label \(bad) is \(labels[bad]), outside 0..<\(classes)")
        }
        guard Set(labels).count >= 2 else { throw EDRMMError.invalidInput("the training set has a single class") }
        self.features = features; self.labels = labels; self.dimension = dimension; self.classes = classes
        let n = labels.count
        var cols = [UInt8](repeating: 0, count: features.count)
        features.withUnsafeBufferPointer { src in
            cols.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { for f in 0..<dimension { dst[f * n + i] = src[i * dimension + f] } }
            }
        }
        columns = cols
    }

    /// The number of examples.
    public var count: Int { labels.count }
}

/// Growing a relaxed E-DRMM by hard EM with leaf histograms, which is information-gain split
/// selection (spec §5.6): at every node, the axis-aligned split `x_f ≤ t` that maximises
/// `H(Ĉ | parent) − Σ_child (N_child/N) H(Ĉ | child)`.
public struct TreeLearner: Sendable {
    /// Nodes at this depth become leaves.
    public var maxDepth: Int
    /// Nodes with fewer examples become leaves.
    public var minNodeSize: Int
    /// Features tried per split (all when `nil`): random subsets make a random forest.
    public var featuresPerSplit: Int?
    /// Worker threads scanning candidate features.
    public var workers: Int = 2
    /// Random oblique candidates per node, tried besides the axis-aligned ones: a split
    /// `⟨w, x⟩ ≤ t` with Gaussian weights on `obliqueFeatures` random features (the general
    /// E-DRMM split between two children, spec §5.2). 0 grows an ordinary axis-aligned tree.
    public var obliqueCandidates: Int = 0
    /// Features combined by each oblique candidate.
    public var obliqueFeatures: Int = 3

    /// A learner with these limits; `featuresPerSplit` random features per node (all by default).
    public init(maxDepth: Int = 20, minNodeSize: Int = 2, featuresPerSplit: Int? = nil) {
        self.maxDepth = maxDepth; self.minNodeSize = minNodeSize; self.featuresPerSplit = featuresPerSplit
    }

    /// A split of a node: go left when `x[feature] ≤ threshold`.
    public struct Split: Equatable, Sendable {
        /// The feature tested, the threshold, and the split's information gain (nats).
        public let feature: Int; public let threshold: Int; public let gain: Double
        /// Position of the feature in the candidate list (ties go to the earliest).
        var rank = 0
    }
    /// Break ties between equally good splits at random (a random order of the candidate
    /// features per node, as scikit-learn does) instead of by the lowest feature index. On
    /// images the lowest index is a pixel near the top-left border, a poor systematic choice.
    public var randomTieBreak = false

    static func entropy(_ counts: UnsafePointer<Int>, _ k: Int, _ n: Int) -> Double {
        guard n > 0 else { return 0 }
        var h = 0.0
        for c in 0..<k where counts[c] > 0 { let p = Double(counts[c]) / Double(n); h -= p * log(p) }
        return h
    }

    /// `c·ln c` for every count up to `n` (0 for 0): with it, `N·H = N ln N − Σ_c n_c ln n_c`
    /// needs no logarithm inside the threshold sweep.
    /// Nodes smaller than this sort their values per feature instead of filling a histogram.
    static let sortedSweepBelow = 256

    static func xLogX(upTo n: Int) -> [Double] { (0...n).map { $0 == 0 ? 0 : Double($0) * log(Double($0)) } }

    /// The best split of `indices` over `candidates` (ties: lowest feature, then lowest threshold).
    func bestSplit(_ data: ByteDataset, _ indices: [Int], candidates: [Int], xlx: [Double]) -> Split? {
        let k = data.classes, n = indices.count
        var parentCounts = [Int](repeating: 0, count: k)
        for i in indices { parentCounts[data.labels[i]] += 1 }
        let parent = parentCounts
        let hParent = parent.withUnsafeBufferPointer { Self.entropy($0.baseAddress!, k, n) }
        // Small nodes are scanned on one thread: dispatching costs more than it saves.
        let chunks = indices.count * candidates.count < 4_000 ? 1 : max(1, min(workers, candidates.count))
        var results = [Split?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { out in
            let outS = SharedPointer(out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var hist = [Int](repeating: 0, count: n < Self.sortedSweepBelow && k <= 256 ? 0 : 256 * k)
                var left = [Int](repeating: 0, count: k)
                var best: Split?
                var keys = [Int32](repeating: 0, count: n < Self.sortedSweepBelow ? n : 0)
                for ci in stride(from: chunk, to: candidates.count, by: chunks) {
                    let f = candidates[ci]
                    if n < Self.sortedSweepBelow && k <= 256 {
                        // Small node: sort (value, label) keys and sweep the n − 1 boundaries,
                        // instead of a 256-bin histogram. Same thresholds in the same order.
                        let column = f * data.count
                        for (r, i) in indices.enumerated() {
                            keys[r] = Int32(Int(data.columns[column + i]) << 8 | data.labels[i])
                        }
                        keys.sort()
                        guard keys[0] >> 8 < keys[n - 1] >> 8 else { continue }
                        for c in 0..<k { left[c] = 0 }
                        for r in 0..<(n - 1) {
                            left[Int(keys[r] & 0xFF)] += 1
                            let t = Int(keys[r] >> 8)
                            guard Int(keys[r + 1] >> 8) > t else { continue }
                            let nLeft = r + 1
                            var weighted = xlx[nLeft] + xlx[n - nLeft]
                            for c in 0..<k { weighted -= xlx[left[c]] + xlx[parent[c] - left[c]] }
                            let gain = hParent - weighted / Double(n)
                            if best == nil || gain > best!.gain + 1e-12 {
                                best = Split(feature: f, threshold: t, gain: gain, rank: ci)
                            }
                        }
                        continue
                    }
                    // nodes here have ≥ 256 examples (or > 256 classes)
                    defer { for q in hist.indices { hist[q] = 0 } }
                    var lo = 255, hi = 0
                    for i in indices {
                        let v = Int(data.columns[f * data.count + i])
                        hist[v * k + data.labels[i]] += 1
                        lo = min(lo, v); hi = max(hi, v)
                    }
                    guard lo < hi else { continue }
                    for c in 0..<k { left[c] = 0 }
                    var nLeft = 0
                    for t in lo..<hi {
                        for c in 0..<k { left[c] += hist[t * k + c]; nLeft += hist[t * k + c] }
                        // no example at t: same split as t − 1
                        if hist[t * k..<(t * k + k)].allSatisfy({ $0 == 0 }) { continue }
                        // N_L·H_L + N_R·H_R = N_L ln N_L − Σ l_c ln l_c + N_R ln N_R − Σ r_c ln r_c.
                        var weighted = xlx[nLeft] + xlx[n - nLeft]
                        for c in 0..<k { weighted -= xlx[left[c]] + xlx[parent[c] - left[c]] }
                        let gain = hParent - weighted / Double(n)
                        if best == nil || gain > best!.gain + 1e-12 {
                            best = Split(feature: f, threshold: t, gain: gain, rank: ci)
                        }
                    }
                }
                outS.pointer[chunk] = best
            }
        }
        return Self.merge(results)
    }

    /// The best of the workers' splits: highest gain, ties to the earliest candidate then the
    /// lowest threshold; `nil` when no split gains anything.
    static func merge(_ results: [Split?]) -> Split? {
        var best: Split?
        for case let r? in results {
            if let b = best {
                if r.gain > b.gain + 1e-12
                    || (abs(r.gain - b.gain) <= 1e-12 && (r.rank, r.threshold) < (b.rank, b.threshold))
                {
                    best = r
                }
            } else {
                best = r
            }
        }
        return best.flatMap { $0.gain > 1e-12 ? $0 : nil }
    }

    /// The best oblique split `⟨w, x⟩ ≤ t` among `obliqueCandidates` random directions, with
    /// `t` halfway between consecutive projected values; its gain and the dense weights.
    func bestObliqueSplit(_ data: ByteDataset, _ indices: [Int], rng: RandomSource, xlx: [Double]) -> (
        weights: [Double], threshold: Double, gain: Double
    )? {
        let k = data.classes, n = indices.count, d = data.dimension
        var parent = [Int](repeating: 0, count: k)
        for i in indices { parent[data.labels[i]] += 1 }
        let hParent = (xlx[n] - parent.reduce(0.0) { $0 + xlx[$1] }) / Double(n)
        var best: (weights: [Double], threshold: Double, gain: Double)?
        var projected = [(value: Double, label: Int)](repeating: (0, 0), count: n)
        var left = [Int](repeating: 0, count: k)
        for _ in 0..<obliqueCandidates {
            var features = Array(0..<d)
            let m = min(obliqueFeatures, d)
            for i in 0..<m { features.swapAt(i, i + rng.integer(below: d - i)) }
            let chosen = Array(features.prefix(m))
            let w = chosen.map { _ in rng.gaussian() }
            for (r, i) in indices.enumerated() {
                var v = 0.0
                for (f, wf) in zip(chosen, w) { v += wf * Double(data.features[i * d + f]) }
                projected[r] = (v, data.labels[i])
            }
            projected.sort { $0.value < $1.value }
            for c in 0..<k { left[c] = 0 }
            for r in 0..<(n - 1) {
                left[projected[r].label] += 1
                guard projected[r + 1].value > projected[r].value else { continue }
                let nLeft = r + 1
                var weighted = xlx[nLeft] + xlx[n - nLeft]
                for c in 0..<k { weighted -= xlx[left[c]] + xlx[parent[c] - left[c]] }
                let gain = hParent - weighted / Double(n)
                if best == nil || gain > best!.gain + 1e-12 {
                    var dense = [Double](repeating: 0, count: d)
                    for (f, wf) in zip(chosen, w) { dense[f] = wf }
                    best = (dense, (projected[r].value + projected[r + 1].value) / 2, gain)
                }
            }
        }
        return best.flatMap { $0.gain > 1e-12 ? $0 : nil }
    }

    /// Grows a tree on the examples `indices` (all by default) and returns it as an ordinary
    /// decision tree of axis-aligned tests `x_f ≤ θ` (left when true) with label counts; `θ` lies
    /// halfway between the largest training value going left and the smallest going right.
    public func fit(_ data: ByteDataset, indices: [Int]? = nil, seed: UInt64 = 0) throws -> DecisionTree {
        guard maxDepth >= 1 else { throw EDRMMError.invalidInput("max depth must be at least 1, got \(maxDepth)") }
        guard minNodeSize >= 2 else {
            throw EDRMMError.invalidInput("min node size must be at least 2, got \(minNodeSize)")
        }
        guard obliqueCandidates >= 0, obliqueFeatures >= 1 else {
            throw EDRMMError.invalidInput("oblique candidates must be ≥ 0 and oblique features ≥ 1")
        }
        if let m = featuresPerSplit, !(1...data.dimension).contains(m) {
            throw EDRMMError.invalidInput("features per split must be in 1...\(data.dimension), got \(m)")
        }
        let rng = RandomSource(seed: seed)
        let xlx = Self.xLogX(upTo: data.count)
        func grow(_ idx: [Int], depth: Int) -> DecisionTree {
            var counts = [Double](repeating: 0, count: data.classes)
            for i in idx { counts[data.labels[i]] += 1 }
            let pure = counts.filter { $0 > 0 }.count <= 1
            if depth >= maxDepth || idx.count < minNodeSize || pure { return .leaf(node: -1, labelCounts: counts) }
            var candidates = Array(0..<data.dimension)
            if let m = featuresPerSplit {  // partial Fisher–Yates: m random features, m draws
                for i in 0..<m { candidates.swapAt(i, i + rng.integer(below: data.dimension - i)) }
                candidates = Array(candidates.prefix(m))
                if !randomTieBreak { candidates.sort() }
            } else if randomTieBreak {
                rng.shuffle(&candidates)
            }
            let axis = bestSplit(data, idx, candidates: candidates, xlx: xlx)
            if obliqueCandidates > 0, let o = bestObliqueSplit(data, idx, rng: rng, xlx: xlx),
                o.gain > (axis?.gain ?? 0) + 1e-12
            {
                var l: [Int] = [], r: [Int] = []
                for i in idx {
                    var v = 0.0
                    for f in 0..<data.dimension where o.weights[f] != 0 {
                        v += o.weights[f] * Double(data.features[i * data.dimension + f])
                    }
                    if v <= o.threshold { l.append(i) } else { r.append(i) }
                }
                // DecisionTree's oblique test goes left when ⟨w, x⟩ ≥ θ: store −w and −t.
                return .split(
                    weights: o.weights.map { -$0 }, threshold: -o.threshold,
                    left: grow(l, depth: depth + 1), right: grow(r, depth: depth + 1))
            }
            guard let s = axis else { return .leaf(node: -1, labelCounts: counts) }
            var l: [Int] = [], r: [Int] = []
            var next = 255  // the smallest value going right: the threshold sits halfway to it
            for i in idx {
                let v = Int(data.columns[s.feature * data.count + i])
                if v <= s.threshold { l.append(i) } else { r.append(i); next = min(next, v) }
            }
            return .axis(
                feature: s.feature, threshold: Double(s.threshold + next) / 2,
                left: grow(l, depth: depth + 1), right: grow(r, depth: depth + 1))
        }
        return grow(indices ?? Array(0..<data.count), depth: 0)
    }
}

/// A random decision forest: trees grown on bootstrap resamples with random feature subsets,
/// their leaf histograms averaged (a mixture of relaxed E-DRMMs, spec §5.5).
public struct RandomForest: Sendable {
    /// The trees, each grown on its own bootstrap sample.
    public let trees: [DecisionTree]
    /// The number of classes.
    public let classes: Int

    /// Grows `count` trees with `learner` on bootstrap resamples of `data` drawn with `seed`.
    public static func fit(_ data: ByteDataset, trees count: Int, learner: TreeLearner, seed: UInt64) throws
        -> RandomForest
    {
        guard count >= 1 else { throw EDRMMError.invalidInput("a forest needs at least one tree") }
        // Trees grow in parallel (one per worker, each scanning its features on one thread);
        // tree t's bootstrap sample and feature draws depend only on (seed, t), so the forest
        // is the same for any number of workers.
        var oneThread = learner
        oneThread.workers = 1
        let single = oneThread
        let workers = max(1, learner.workers)
        var slots = [Result<DecisionTree, Error>?](repeating: nil, count: count)
        slots.withUnsafeMutableBufferPointer { buf in
            let out = SharedPointer(buf.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for t in stride(from: w, to: count, by: workers) {
                    let rng = RandomSource(seed: seed &+ UInt64(t) &* 0x9E37_79B9)
                    // sorted: column reads in order
                    let sample = (0..<data.count).map { _ in rng.integer(below: data.count) }.sorted()
                    out.pointer[t] = Result { try single.fit(data, indices: sample, seed: seed &+ UInt64(t) &* 7919) }
                }
            }
        }
        let trees = try slots.map { try $0!.get() }
        return RandomForest(trees: trees, classes: data.classes)
    }

    /// The averaged class distribution.
    public func predictProbabilities(_ x: [Double]) -> [Double] {
        var p = [Double](repeating: 0, count: classes)
        for t in trees {
            let counts = t.route(x).labelCounts
            let n = counts.reduce(0, +)
            if n > 0 { for c in 0..<classes { p[c] += counts[c] / n / Double(trees.count) } }
        }
        return p
    }

    /// The class of highest averaged leaf probability (ties: the lowest class).
    public func predict(_ x: [Double]) -> Int {
        let p = predictProbabilities(x)
        return p.indices.max { p[$0] < p[$1] } ?? 0
    }
}

extension DecisionTree {
    /// The most frequent label at the leaf `x` reaches (ties: the lowest label).
    public func predict(_ x: [Double]) -> Int {
        let c = route(x).labelCounts
        var best = 0
        for i in c.indices where c[i] > c[best] { best = i }
        return best
    }
}

struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}

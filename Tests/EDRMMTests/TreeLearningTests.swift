import Foundation
import Testing
import NumericalCore
import EDRMM

/// Hard EM with leaf histograms is information-gain split selection: the learner's tree equals
/// one grown by an independent brute-force search over every feature and threshold.
@Suite("Tree learning")
struct TreeLearningTests {
    static func dataset(seed: UInt64, n: Int = 80, d: Int = 5, classes: Int = 3) throws -> ByteDataset {
        let rng = RandomSource(seed: seed)
        var x: [UInt8] = [], y: [Int] = []
        for _ in 0..<n {
            let row = (0..<d).map { _ in UInt8(rng.integer(below: 8)) }
            x += row
            // Labels depend on two features, with 15 % noise.
            var label = (Int(row[1]) > 3 ? 1 : 0) + (Int(row[3]) > 5 ? 1 : 0)
            if rng.uniform() < 0.15 { label = rng.integer(below: classes) }
            y.append(min(label, classes - 1))
        }
        return try ByteDataset(features: x, labels: y, dimension: d, classes: classes)
    }

    /// An independent brute-force grower: every feature, every observed value but the largest as
    /// the last value going left, gain by direct counting; ties to the lowest feature, then
    /// threshold; the stored threshold is halfway to the next observed value.
    static func bruteForce(_ data: ByteDataset, _ idx: [Int], depth: Int, maxDepth: Int, minSize: Int) -> DecisionTree {
        func entropy(_ ids: [Int]) -> Double {
            var c = [Int: Int]()
            for i in ids { c[data.labels[i], default: 0] += 1 }
            return c.values.reduce(0) { h, n in
                let p = Double(n) / Double(ids.count); return h - p * log(p)
            }
        }
        var counts = [Double](repeating: 0, count: data.classes)
        for i in idx { counts[data.labels[i]] += 1 }
        if depth >= maxDepth || idx.count < minSize || counts.filter({ $0 > 0 }).count <= 1 {
            return .leaf(node: -1, labelCounts: counts)
        }
        let h = entropy(idx)
        var best: (f: Int, t: Int, next: Int, gain: Double)?
        for f in 0..<data.dimension {
            let values = Set(idx.map { Int(data.features[$0 * data.dimension + f]) }).sorted()
            for (k, t) in values.dropLast().enumerated() {
                let l = idx.filter { Int(data.features[$0 * data.dimension + f]) <= t }
                let r = idx.filter { Int(data.features[$0 * data.dimension + f]) > t }
                let gain = h - (Double(l.count) * entropy(l) + Double(r.count) * entropy(r)) / Double(idx.count)
                if best == nil || gain > best!.gain + 1e-12 { best = (f, t, values[k + 1], gain) }
            }
        }
        guard let b = best, b.gain > 1e-12 else { return .leaf(node: -1, labelCounts: counts) }
        return .axis(
            feature: b.f, threshold: Double(b.t + b.next) / 2,
            left: bruteForce(
                data, idx.filter { Int(data.features[$0 * data.dimension + b.f]) <= b.t }, depth: depth + 1,
                maxDepth: maxDepth, minSize: minSize),
            right: bruteForce(
                data, idx.filter { Int(data.features[$0 * data.dimension + b.f]) > b.t }, depth: depth + 1,
                maxDepth: maxDepth, minSize: minSize))
    }

    @Test(
        "the learned tree equals a brute-force information-gain search, split for split",
        arguments: Array(UInt64(1)...10))
    func equalsBruteForce(seed: UInt64) throws {
        let data = try Self.dataset(seed: seed)
        let learned = try TreeLearner(maxDepth: 4, minNodeSize: 4).fit(data)
        let reference = Self.bruteForce(data, Array(0..<data.count), depth: 0, maxDepth: 4, minSize: 4)
        #expect(learned == reference)
        func accuracy(_ t: DecisionTree) -> Double {
            (0..<data.count).filter { i in
                t.predict((0..<data.dimension).map { Double(data.features[i * data.dimension + $0]) }) == data.labels[i]
            }.count.doubleValue / Double(data.count)
        }
        #expect(accuracy(learned) == accuracy(reference))
        #expect(accuracy(learned) > 0.6)
    }

    /// Large nodes (≥ 256 examples) take the histogram sweep, small ones the sorted sweep; the
    /// grown tree must not depend on which.
    @Test("large nodes: the histogram sweep also equals the brute-force search", arguments: [UInt64(1), 2, 3])
    func histogramSweepEqualsBruteForce(seed: UInt64) throws {
        let data = try Self.dataset(seed: seed, n: 700)
        let learned = try TreeLearner(maxDepth: 4, minNodeSize: 4).fit(data)
        #expect(learned == Self.bruteForce(data, Array(0..<data.count), depth: 0, maxDepth: 4, minSize: 4))
    }

    @Test("with random tie-breaking every split is still a best split", arguments: Array(UInt64(1)...5))
    func randomTieBreakKeepsTheBestGain(seed: UInt64) throws {
        let data = try Self.dataset(seed: seed)
        var learner = TreeLearner(maxDepth: 1, minNodeSize: 4)
        learner.randomTieBreak = true
        let stump = try learner.fit(data, seed: seed)
        let reference = Self.bruteForce(data, Array(0..<data.count), depth: 0, maxDepth: 1, minSize: 4)
        func gain(_ t: DecisionTree) -> Double {
            guard case let .axis(f, th, _, _) = t else { return 0 }
            func h(_ ids: [Int]) -> Double {
                var c = [Int: Int]()
                for i in ids { c[data.labels[i], default: 0] += 1 }
                return c.values.reduce(0) { h, n in
                    let p = Double(n) / Double(ids.count); return h - p * log(p)
                }
            }
            let all = Array(0..<data.count)
            let l = all.filter { Double(data.features[$0 * data.dimension + f]) <= th },
                r = all.filter { Double(data.features[$0 * data.dimension + f]) > th }
            return h(all) - (Double(l.count) * h(l) + Double(r.count) * h(r)) / Double(all.count)
        }
        #expect(abs(gain(stump) - gain(reference)) < 1e-12)
        #expect(gain(stump) > 0)
    }

    @Test("as a relaxed E-DRMM, the learned tree makes the same predictions")
    func asEDRMM() throws {
        let data = try Self.dataset(seed: 3)
        let tree = try TreeLearner(maxDepth: 5).fit(data)
        let model = try EvolutionaryTree.importing(tree, dimension: data.dimension)
        for i in 0..<data.count {
            let x = (0..<data.dimension).map { Double(data.features[i * data.dimension + $0]) }
            let leaf = try model.descend(x).last!
            let counts = model.nodes[leaf].labelCounts
            #expect(counts == tree.route(x).labelCounts)
        }
    }

    @Test("a forest of bagged trees with random feature subsets beats a single shallow tree on held-out data")
    func forest() throws {
        let train = try Self.dataset(seed: 11, n: 400), test = try Self.dataset(seed: 12, n: 400)
        func accuracy(_ predict: ([Double]) -> Int) -> Double {
            Double(
                (0..<test.count).filter { i in
                    predict((0..<test.dimension).map { Double(test.features[i * test.dimension + $0]) })
                        == test.labels[i]
                }.count) / Double(test.count)
        }
        let forest = try RandomForest.fit(
            train, trees: 25, learner: TreeLearner(maxDepth: 8, featuresPerSplit: 2), seed: 5)
        let single = try TreeLearner(maxDepth: 8).fit(train)
        let (af, at) = (accuracy(forest.predict), accuracy(single.predict))
        print("held-out accuracy: forest of 25 \(af), single tree \(at)")
        #expect(af > at)
        #expect(af > 0.7)
    }

    @Test("bad training input")
    func badInput() throws {
        #expect(throws: EDRMMError.self) { try ByteDataset(features: [], labels: [], dimension: 3, classes: 2) }
        #expect(throws: EDRMMError.self) {
            try ByteDataset(features: [1, 2, 3, 4], labels: [0, 0], dimension: 2, classes: 2)
        }  // single class
        #expect(throws: EDRMMError.self) {
            try ByteDataset(features: [1, 2, 3], labels: [0, 1], dimension: 2, classes: 2)
        }  // length mismatch
        let data = try Self.dataset(seed: 1)
        #expect(throws: EDRMMError.self) { try TreeLearner(maxDepth: 0).fit(data) }
        #expect(throws: EDRMMError.self) { try TreeLearner(featuresPerSplit: 99).fit(data) }
    }
}

private extension Int { var doubleValue: Double { Double(self) } }

@Suite struct TreeDescriptionTests {
    @Test func pathsNodeTemplatesAndText() throws {
        let rng = RandomSource(seed: 3)
        let (n, d) = (200, 6)
        let features = (0..<(n * d)).map { _ in UInt8(rng.integer(below: 256)) }
        let labels = (0..<n).map { i in Int(features[i * d]) > 128 ? (Int(features[i * d + 1]) > 100 ? 1 : 2) : 0 }
        let data = try ByteDataset(features: features, labels: labels, dimension: d, classes: 3)
        let tree = try TreeLearner(maxDepth: 4).fit(data, seed: 1)
        let means = tree.nodeMeans(data)
        #expect(means.count == tree.nodeCount)
        // The root's template is the mean of all inputs.
        for j in 0..<d {
            let mean = (0..<n).reduce(0.0) { $0 + Double(features[$1 * d + j]) } / Double(n)
            #expect(abs(means[0]![j] - mean) < 1e-9)
        }
        for i in 0..<n {
            let x = features[(i * d)..<((i + 1) * d)].map(Double.init)
            let path = tree.path(x)
            #expect(path.first == 0)
            #expect(path == path.sorted())  // pre-order: children come after their parent
            // The last node on the path is a leaf, the one `route` reaches.
            var leaves: [Int] = []
            func collect(_ t: DecisionTree, _ id: inout Int) {
                let mine = id
                id += 1
                switch t {
                case .leaf: leaves.append(mine)
                case let .axis(_, _, l, r), let .split(_, _, l, r): collect(l, &id); collect(r, &id)
                }
            }
            var id = 0
            collect(tree, &id)
            #expect(leaves.contains(path.last!))
        }
        let text = tree.text(maxDepth: 2)
        #expect(text.hasPrefix("x["))
        #expect(text.contains("yes: ") && text.contains("no:  "))
    }
}

@Suite struct RecursiveTwoMeansTests {
    /// Images from a two-level shared-mutation E-DRMM (four leaves, well separated): the
    /// unsupervised tree recovers the four leaves, and its descent makes the model's choices.
    @Test(arguments: [UInt64(1), 2, 3])
    func recoversTheGeneratingLeaves(seed: UInt64) throws {
        let rng = RandomSource(seed: seed)
        let d = 16
        let root = [Double](repeating: 100, count: d)
        let m1 = [(0..<d).map { $0 < 8 ? 60.0 : 0 }, (0..<d).map { $0 < 8 ? -60.0 : 0 }]
        let m2 = [(0..<d).map { $0 >= 8 ? 60.0 : 0 }, (0..<d).map { $0 >= 8 ? -60.0 : 0 }]
        var features: [UInt8] = [], labels: [Int] = []
        for _ in 0..<400 {
            let (a, b) = (rng.integer(below: 2), rng.integer(below: 2))
            for j in 0..<d {
                let v = root[j] + m1[a][j] + m2[b][j] + rng.gaussian(standardDeviation: 8)
                features.append(UInt8(max(0, min(255, v.rounded()))))
            }
            labels.append(2 * a + b)
        }
        let data = try ByteDataset(features: features, labels: labels, dimension: d, classes: 4)
        let tree = try RecursiveTwoMeans(maxDepth: 2, minNodeSize: 10).fit(data, seed: seed)
        #expect(tree.leaves.count == 4, "\(tree.nodes.map { ($0.parent, $0.depth, $0.labelCounts, exp($0.logPrior)) })")
        try tree.validate()  // children's priors sum to one
        var correct = 0
        for i in 0..<data.count {
            let x = features[(i * d)..<((i + 1) * d)].map(Double.init)
            if try tree.predict(x) == labels[i] { correct += 1 }
            // Greedy descent equals the exported decision tree (the model's split rule).
            #expect(try tree.descend(x).last == tree.exportDecisionTree().route(x).node)
        }
        #expect(Double(correct) / Double(data.count) > 0.97, "\(correct) of \(data.count)")
    }

    @Test func badOptionsAreTypedErrors() throws {
        let data = try ByteDataset(features: [0, 1, 2, 3], labels: [0, 1], dimension: 2, classes: 2)
        #expect(throws: EDRMMError.self) { try RecursiveTwoMeans(maxDepth: 0).fit(data, seed: 1) }
        #expect(throws: EDRMMError.self) { try RecursiveTwoMeans(minNodeSize: 1).fit(data, seed: 1) }
    }
}

@Suite struct ObliqueSplitTests {
    /// Classes separated by the diagonal x₀ − x₁: one oblique split does what a deep stack of
    /// axis-aligned ones approximates, and its gain equals a direct count.
    @Test func obliqueSplitsFindADiagonalBoundary() throws {
        let rng = RandomSource(seed: 8)
        let n = 400
        var features: [UInt8] = [], labels: [Int] = []
        for _ in 0..<n {
            let (a, b) = (rng.integer(below: 256), rng.integer(below: 256))
            features += [UInt8(a), UInt8(b)]
            labels.append(a > b ? 1 : 0)
        }
        let data = try ByteDataset(features: features, labels: labels, dimension: 2, classes: 2)
        func accuracy(_ t: DecisionTree) -> Double {
            Double(
                (0..<n).filter { i in
                    let counts = t.route([Double(features[2 * i]), Double(features[2 * i + 1])]).labelCounts
                    return (counts[1] > counts[0] ? 1 : 0) == labels[i]
                }.count) / Double(n)
        }
        let axisStump = try TreeLearner(maxDepth: 1).fit(data, seed: 1)
        var learner = TreeLearner(maxDepth: 1)
        learner.obliqueCandidates = 200
        learner.obliqueFeatures = 2
        let obliqueStump = try learner.fit(data, seed: 1)
        guard case let .split(w, t, _, _) = obliqueStump else {
            Issue.record("expected an oblique root, got \(obliqueStump)"); return
        }
        #expect(accuracy(obliqueStump) > 0.97)
        #expect(accuracy(axisStump) < 0.85)
        // The split's information gain, counted directly, beats the best axis-aligned split's.
        func gain(_ goesLeft: (Int) -> Bool) -> Double {
            func h(_ c: [Int]) -> Double {
                let s = Double(c.reduce(0, +));
                return c.reduce(0.0) { $1 == 0 ? $0 : $0 - Double($1) / s * log(Double($1) / s) }
            }
            var l = [0, 0], r = [0, 0]
            for i in 0..<n { if goesLeft(i) { l[labels[i]] += 1 } else { r[labels[i]] += 1 } }
            return h([l[0] + r[0], l[1] + r[1]]) - Double(l.reduce(0, +)) / Double(n) * h(l) - Double(r.reduce(0, +))
                / Double(n) * h(r)
        }
        let oblique = gain { i in w[0] * Double(features[2 * i]) + w[1] * Double(features[2 * i + 1]) >= t }
        guard case let .axis(f, th, _, _) = axisStump else { Issue.record("expected an axis-aligned root"); return }
        let axis = gain { i in Double(features[2 * i + f]) <= th }
        #expect(oblique > axis + 0.1)
        var bad = TreeLearner()
        bad.obliqueFeatures = 0
        #expect(throws: EDRMMError.self) { try bad.fit(data) }
    }
}

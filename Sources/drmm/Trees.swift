import Dispatch
import ArgumentParser
import Datasets
import EDRMM
import Foundation
import FactorGraph
import DRMM

/// Shared options of `drmm tree` and `drmm forest`.
struct TreeOptions: ParsableArguments {
    @Option(help: "MNIST directory (default: the project's Data/mnist, found next to the executable).") var data:
        String?
    @Option(help: "Maximum depth.") var maxDepth = 20
    @Option(help: "Minimum examples in a node to split it.") var minNodeSize = 2
    @Option(help: "Use only the first N training images (0: all).") var trainLimit = 0
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Random oblique candidate splits per node, besides the axis-aligned ones (0: axis-aligned only).")
    var oblique = 0
    @Option(help: "Features combined by each oblique candidate.") var obliqueFeatures = 3
    @Flag(help: "Break ties between equal splits by the lowest feature index instead of at random.")
    var lowestFeatureTies = false
    @Option(help: "Write results as JSON here.") var json: String?

    func learner(featuresPerSplit: Int? = nil) -> TreeLearner {
        var l = TreeLearner(maxDepth: maxDepth, minNodeSize: minNodeSize, featuresPerSplit: featuresPerSplit)
        l.obliqueCandidates = oblique
        l.randomTieBreak = !lowestFeatureTies
        l.obliqueFeatures = obliqueFeatures
        return l
    }

    func load() throws -> (train: ByteDataset, test: MNIST) {
        let mnist = try MNIST.load(directory: try data ?? DataOptions.defaultMNIST(), split: .train)
        let test = try MNIST.load(directory: try data ?? DataOptions.defaultMNIST(), split: .test)
        let n = trainLimit > 0 ? min(trainLimit, mnist.count) : mnist.count
        let d = mnist.rows * mnist.columns
        let train = try ByteDataset(
            features: Array(mnist.pixels[0..<(n * d)]), labels: mnist.labels[0..<n].map(Int.init), dimension: d,
            classes: 10)
        return (train, test)
    }

    /// Test error of `predict` over the test set, the images split between two workers.
    func testError(_ test: MNIST, _ predict: @escaping @Sendable ([Double]) -> Int) -> (error: Double, seconds: Double)
    {
        let start = Date()
        let d = test.rows * test.columns
        let workers = 2
        var wrong = [Int](repeating: 0, count: workers)
        wrong.withUnsafeMutableBufferPointer { buf in
            let out = UncheckedPointer(buf.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var count = 0
                for i in stride(from: w, to: test.count, by: workers) {
                    let x = test.pixels[(i * d)..<((i + 1) * d)].map(Double.init)
                    if predict(x) != Int(test.labels[i]) { count += 1 }
                }
                out.pointer[w] = count
            }
        }
        return (Double(wrong.reduce(0, +)) / Double(test.count), Date().timeIntervalSince(start))
    }

    func report(_ kind: String, fit: Double, predict: (error: Double, seconds: Double), extra: [String: Any]) throws {
        print(
            String(
                format: "%@: test error %.2f %% (%d images), fit %.2f s, predict %.2f s", kind, 100 * predict.error,
                10_000, fit, predict.seconds))
        if let json {
            var obj: [String: Any] = [
                "model": kind, "testError": predict.error, "fitSeconds": fit, "predictSeconds": predict.seconds,
                "maxDepth": maxDepth, "minNodeSize": minNodeSize, "seed": seed, "obliqueCandidates": oblique
            ]
            for (k, v) in extra { obj[k] = v }
            try writeJSONObject(obj, to: json)
        }
    }
}

struct Tree: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grow one decision tree (a relaxed E-DRMM) on MNIST by information gain and report its test error.",
        discussion:
            "Prints the top of the tree as text and, with --path-png, draws the path of one test digit: the digit, "
            + "then the template of every node it visits (the mean of the training digits reaching that node, the "
            + "hard-EM estimate), root to leaf."
    )
    @OptionGroup var options: TreeOptions
    @Option(help: "Print the tree down to this depth (0: do not print).") var printDepth = 3
    @Flag(
        help: ArgumentHelp(
            "Grow the tree generatively, without labels (recursive 2-means with the model's split rule); labels only "
                + "fill the leaf histograms.")
    ) var generative = false
    @Option(help: "Write the node templates along one test digit's path as PNG here.") var pathPng: String?
    @Option(help: "The test digit whose path --path-png draws.") var pathImage = 0

    func run() throws {
        let (train, test) = try options.load()
        FileHandle.standardError.write(Data("growing a tree on \(train.count) images…\n".utf8))
        let start = Date()
        if generative {
            let model = try RecursiveTwoMeans(maxDepth: options.maxDepth, minNodeSize: max(2, options.minNodeSize)).fit(
                train, seed: options.seed)
            let fit = Date().timeIntervalSince(start)
            print(
                "generative E-DRMM: \(model.nodes.count) nodes, \(model.leaves.count) leaves, σ² = "
                    + "\(model.noiseVariance)"
            )
            try options.report(
                "generative-tree", fit: fit, predict: options.testError(test) { (try? model.predict($0)) ?? -1 },
                extra: ["trainImages": train.count, "leaves": model.leaves.count])
            return
        }
        let tree = try options.learner().fit(train, seed: options.seed)
        let fit = Date().timeIntervalSince(start)
        if printDepth > 0 { print(tree.text(maxDepth: printDepth, imageWidth: test.columns)) }
        if let pathPng {
            let d = test.rows * test.columns
            guard (0..<test.count).contains(pathImage) else {
                throw ValidationError("--path-image \(pathImage) is not a test image index (0..<\(test.count))")
            }
            let x = test.pixels[(pathImage * d)..<((pathImage + 1) * d)].map(Double.init)
            let means = tree.nodeMeans(train)
            let path = tree.path(x)
            let tiles = [x] + path.compactMap { means[$0] }
            try PNGImage.grid(
                tiles, tileWidth: test.columns, tileHeight: test.rows, columns: min(tiles.count, 12), scale: 3
            ).write(to: pathPng)
            print(
                "test digit \(pathImage) (label \(test.labels[pathImage])) visits \(path.count) nodes; predicted "
                    + "\(tree.predict(x)); templates along the path in \(pathPng)"
            )
        }
        try options.report(
            "tree", fit: fit, predict: options.testError(test, tree.predict), extra: ["trainImages": train.count])
    }
}

struct Forest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Grow a random forest (bagged relaxed E-DRMMs with random feature subsets) on MNIST and report its test "
            + "error."
    )
    @OptionGroup var options: TreeOptions
    @Option(help: "Number of trees.") var trees = 100
    @Option(help: "Features tried per split (default: √784 = 28).") var featuresPerSplit = 28

    func run() throws {
        let (train, test) = try options.load()
        FileHandle.standardError.write(Data("growing \(trees) trees on \(train.count) images…\n".utf8))
        let start = Date()
        let forest = try RandomForest.fit(
            train, trees: trees, learner: options.learner(featuresPerSplit: featuresPerSplit), seed: options.seed)
        let fit = Date().timeIntervalSince(start)
        try options.report(
            "forest", fit: fit, predict: options.testError(test, forest.predict),
            extra: ["trees": trees, "featuresPerSplit": featuresPerSplit, "trainImages": train.count])
    }
}

/// A buffer pointer handed to workers that each write their own slot.
struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

import ArgumentParser
import Datasets
import Foundation
import FactorGraph
import GenerativeNetworks
import NumericalCore
import DRMM

struct Layerwise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Layer-wise training of a two-level generative model by the best latent marginal, next to stacked RBMs "
            + "and auto-encoders with a factorised or a deep (richer) encoder, with exact log-likelihoods.",
        discussion:
            "The data are MNIST digits reduced to size×size binary images (block average ≥ ½). Both models are a "
            + "sigmoid layer P(x|h) under an RBM prior on h; their log-likelihoods (nats per image) and the BLM "
            + "bound U_D of each bottom layer are exact (enumeration of h)."
    )
    @Option(help: "MNIST directory (default: the project's Data/mnist, found next to the executable).") var data:
        String?
    @Option(help: "Binary image side (divides 28).") var size = 4
    @Option(help: "Training images.") var train = 2000
    @Option(help: "Test images (the training images' successors in the training file).") var test = 1000
    @Option(help: "Hidden units of the bottom layer (≤ 12).") var hidden = 8
    @Option(help: "Hidden units of the top RBM.") var topHidden = 6
    @Option(help: "Training epochs of each layer.") var epochs = 200
    @Option(help: "Units of the deep encoder's own hidden layer (the richer inference model).") var encoderUnits = 32
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Write the results as JSON here.") var json: String?

    func validate() throws {
        guard size >= 1, 28 % size == 0 else { throw ValidationError("--size must divide 28, got \(size)") }
        guard train >= 1, test >= 1, train + test <= 60_000 else {
            throw ValidationError(
                "--train and --test must be at least 1 and together at most 60000, got \(train) and \(test)")
        }
        guard (1...12).contains(hidden) else { throw ValidationError("--hidden must be in 1...12, got \(hidden)") }
        guard (1...16).contains(topHidden) else {
            throw ValidationError("--top-hidden must be in 1...16, got \(topHidden)")
        }
        guard epochs >= 1, encoderUnits >= 1, encoderUnits <= 100_000 else {
            throw ValidationError("--epochs and --encoder-units must be at least 1 (units at most 100000)")
        }
    }

    func run() throws {
        let m = try MNIST.load(directory: try data ?? DataOptions.defaultMNIST(), split: .train)
        let trainSet = try m.blockBinarized(count: train, size: size)
        let testSet = try m.blockBinarized(count: test, offset: train, size: size)
        let start = Date()
        let blm = try LayerwiseTraining.blm(
            trainSet, hidden: hidden, topHidden: topHidden, epochs: epochs, rate: 0.05,
            topIterations: 3 * epochs, topRate: 0.5, seed: seed)
        let blmSeconds = Date().timeIntervalSince(start)
        let start2 = Date()
        let stacked = try LayerwiseTraining.stackedRBMs(
            trainSet, hidden: hidden, topHidden: topHidden, epochs: epochs, rate: 0.1, seed: seed)
        let stackedSeconds = Date().timeIntervalSince(start2)
        var models:
            [(
                name: String, key: String, model: TwoLevelModel, seconds: Double, autoEncoder: AutoEncoder?,
                criterion: AutoEncoder.Criterion?
            )] = [
                ("BLM layer-wise", "blm", blm, blmSeconds, nil, nil),
                ("stacked RBMs (CD-1)", "stackedRBMs", stacked, stackedSeconds, nil, nil)
            ]
        // Auto-encoders: the factorised encoder on the reconstruction criterion (plain gradient
        // ascent), then both encoders on the tighter mixture criterion with the BLM's optimiser.
        let variants: [(String, String, InferenceModel.Kind, AutoEncoder.Criterion, AutoEncoder.Step)] = [
            ("AE, factorised, reconstr.", "autoEncoder", .factorized, .reconstruction, .gradient(rate: 1.0)),
            ("AE, factorised, mixture", "autoEncoderMixture", .factorized, .mixture, .adam(rate: 0.05)),
            ("AE, deep encoder, mixture", "autoEncoderDeep", .deep(units: encoderUnits), .mixture, .adam(rate: 0.05))
        ]
        for (name, key, kind, criterion, step) in variants {
            let start = Date()
            let ae = try LayerwiseTraining.autoEncoder(
                trainSet, hidden: hidden, topHidden: topHidden, inference: kind, criterion: criterion,
                epochs: epochs, step: step, topIterations: 3 * epochs, topRate: 0.5, seed: seed)
            models.append((name, key, ae.model, Date().timeIntervalSince(start), ae.autoEncoder, criterion))
        }
        let entropy = BestLatentMarginal.dataEntropy(trainSet)
        print(
            "binary \(size)×\(size) MNIST, \(train) training / \(test) test images, h = \(hidden), top RBM hidden = "
                + "\(topHidden), seed \(seed)"
        )
        print("deep encoder: \(encoderUnits) units of its own; H(D) = \(String(format: "%.4f", entropy)) nats")
        print("model                        train LL   test LL    U_D(bottom)  AE criterion − H(D)   fit")
        var report: [String: Any] = [
            "size": size, "train": train, "test": test, "hidden": hidden, "topHidden": topHidden, "epochs": epochs,
            "seed": seed, "encoderUnits": encoderUnits, "dataEntropy": entropy
        ]
        for (name, key, model, secs, ae, criterion) in models {
            let tr = try model.logLikelihood(trainSet), te = try model.logLikelihood(testSet)
            let u = try BestLatentMarginal.bound(model.bottom, data: trainSet, iterations: 500, tolerance: 1e-9).bound
            var row = ["trainLogLikelihood": tr, "testLogLikelihood": te, "bound": u, "seconds": secs]
            var lower = "                    "
            if let ae, let criterion {
                let c = try ae.criterion(criterion, trainSet) - entropy
                row["criterionMinusEntropy"] = c
                lower = String(format: "   %8.4f          ", c)
            }
            print(
                name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(format: " %8.4f   %8.4f   %8.4f", tr, te, u) + lower
                    + String(format: "%6.1f s", secs))
            report[key] = row
        }
        print(String(format: "uniform: %.4f nats per image", -Double(size * size) * log(2.0)))
        if let json {
            try writeJSONObject(report, to: json)
        }
    }
}

struct Coupled: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "A sigmoid recognition network and its tied-transpose generator on binarised MNIST, trained by the "
            + "symmetric objective next to discriminative training.",
        discussion:
            "Reports recognition test error, the generative score −ln q(x | y) of the test images under the "
            + "generator's mean-field pass (nats per image; lower is better), and writes the generator's image for "
            + "every class (--png)."
    )
    @Option(help: "MNIST directory (default: the project's Data/mnist, found next to the executable).") var data:
        String?
    @Option(help: "Training images.") var train = 10000
    @Option(help: "Test images.") var test = 10000
    @Option(help: "Hidden layer sizes between the 784 pixels and the 10 labels.") var hidden = [200]
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Write the class images of both models as PNG here.") var png: String?
    @Option(
        help: ArgumentHelp(
            "Write 10 ancestral samples per class of each model as PNG to <prefix>-<objective>.png (pixel means "
                + "given the sampled hidden layer).")
    ) var samples: String?
    @Option(help: "Write the results as JSON here.") var json: String?

    func validate() throws {
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard train >= 1, test >= 1 else {
            throw ValidationError("--train and --test must be at least 1, got \(train) and \(test)")
        }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard !hidden.isEmpty, hidden.allSatisfy({ (1...100_000).contains($0) }) else {
            throw ValidationError("--hidden sizes must be in 1...100000, got \(hidden)")
        }
    }

    func run() throws {
        let m = try MNIST.load(directory: try data ?? DataOptions.defaultMNIST(), split: .train),
            t = try MNIST.load(directory: try data ?? DataOptions.defaultMNIST(), split: .test)
        let (xs, ys) = try m.thresholded(count: min(train, m.count)),
            (tx, ty) = try t.thresholded(count: min(test, t.count))
        let testX = try Matrix(rows: tx.count, columns: 784, elements: tx.flatMap { $0 })
        let testY = try CoupledSigmoidNetwork.oneHot(ty, classes: 10)
        var report: [String: Any] = [
            "train": xs.count, "test": tx.count, "hidden": hidden, "epochs": epochs, "seed": seed
        ]
        var tiles: [[Double]] = []
        print(
            "binarised MNIST, \(xs.count) training / \(tx.count) test images, layers \([784] + hidden + [10]), "
                + "\(epochs) epochs, seed \(seed)"
        )
        for objective in CoupledSigmoidNetwork.Objective.allCases {
            var net = try CoupledSigmoidNetwork(sizes: [784] + hidden + [10], seed: seed)
            let start = Date()
            try net.train(images: xs, labels: ys, objective: objective, epochs: epochs, rate: lr, seed: seed)
            let secs = Date().timeIntervalSince(start)
            let mu = try net.recognize(testX).last!
            var wrong = 0
            for r in 0..<tx.count {
                var best = 0
                for c in 1..<10 where mu[r, c] > mu[r, best] { best = c }
                if best != ty[r] { wrong += 1 }
            }
            let gen = try net.lossAndGradient(images: testX, targets: testY, objective: .symmetric).generation
            print(
                objective.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
                    + String(
                        format: "recognition test error %.2f %%, generative −ln q(x|y) %.1f nats per image, fit %.1f s",
                        100 * Double(wrong) / Double(tx.count), gen, secs))
            report[objective.rawValue] = [
                "testError": Double(wrong) / Double(tx.count), "generativeNLL": gen, "seconds": secs
            ]
            let nu = try net.generate(try CoupledSigmoidNetwork.oneHot(Array(0..<10), classes: 10))[0]
            for c in 0..<10 { tiles.append((0..<784).map { nu[c, $0] }) }
            if let samples {
                let rng = RandomSource(seed: seed &+ 100)
                let drawn = try net.sample(
                    try CoupledSigmoidNetwork.oneHot((0..<100).map { $0 / 10 }, classes: 10), rng: rng
                ).means
                let sampleTiles = (0..<100).map { r in (0..<784).map { drawn[r, $0] } }
                try PNGImage.grid(
                    sampleTiles, tileWidth: 28, tileHeight: 28, columns: 10, scale: 2, perTileScaling: false
                )
                .write(to: "\(samples)-\(objective.rawValue).png")
            }
        }
        if let png {
            try PNGImage.grid(tiles, tileWidth: 28, tileHeight: 28, columns: 10, scale: 2, perTileScaling: false).write(
                to: png)
        }
        if let json {
            try writeJSONObject(report, to: json)
        }
    }
}

import DRMM
import Foundation
import NumericalCore

/// Classification and reconstruction with a trained network.
public enum Evaluation {
    /// The error rate of `network` on `set` and its predicted classes (the max-sum class).
    ///
    /// With a `communicator` of several ranks, every batch's `workers` shards are split across
    /// the ranks and the predictions gathered, so that every rank returns the whole answer.
    public static func classify(
        _ network: RenderingNetwork<Float>, _ set: ImageSet, batchSize: Int = 100, workers: Int = 2,
        convolution: ConvolutionAlgorithm = .winograd, communicator: any Communicator = SingleProcess()
    ) throws -> (error: Double, predictions: [Int]) {
        guard set.shape == network.architecture.inputShape else {
            throw LearningError.invalidData(
                "images are \(set.shape), the model takes \(network.architecture.inputShape)")
        }
        let engine = DataParallelGradient(
            network: network, workers: workers, convolution: convolution, communicator: communicator)
        var predictions: [Int] = []
        var buffer: [Float] = []
        let b = max(1, batchSize)
        for s in stride(from: 0, to: set.count, by: b) {
            let labels = set.gather((s..<min(set.count, s + b)).map { $0 }[...], hideLabels: false, into: &buffer)
            var none: [Float]? = nil
            var p: [Int] = []
            _ = try engine.evaluate(
                network, images: buffer, labels: labels, objective: Objective(crossEntropy: 0), gradient: &none,
                predictions: &p)
            predictions += p
        }
        let wrong = zip(predictions, set.labels).filter { $0 != $1 }.count
        return (Double(wrong) / Double(set.count), predictions)
    }

    /// Top-down reconstructions of the first `count` images, rendered from their labels.
    public static func reconstruct(
        _ network: RenderingNetwork<Float>, _ set: ImageSet, count: Int, workers: Int = 2,
        convolution: ConvolutionAlgorithm = .winograd
    ) throws -> [[Float]] {
        let sub = set.prefix(count)
        let engine = DataParallelGradient(network: network, workers: workers, convolution: convolution)
        var buffer: [Float] = []
        let labels = sub.gather(Array(0..<sub.count)[...], hideLabels: false, into: &buffer)
        var none: [Float]? = nil
        var p: [Int] = []
        _ = try engine.evaluate(
            network, images: buffer, labels: labels, objective: Objective(crossEntropy: 0, reconstruction: 1),
            gradient: &none, predictions: &p)
        return engine.reconstructions(batch: sub.count)
    }

    /// `confusion[y][p]`: how many images of label `y` were classified as `p`.
    public static func confusion(predictions: [Int], labels: [Int], classes: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, y) in zip(predictions, labels) where (0..<classes).contains(p) && (0..<classes).contains(y) {
            m[y][p] += 1
        }
        return m
    }
}

extension Evaluation {
    /// The class scores (logits) of every image of `set`, `[N, K]`: the network's convnet
    /// forward pass (batch normalisation with its running statistics), `batchSize` images at a
    /// time.
    public static func logits(_ network: RenderingNetwork<Float>, _ set: ImageSet, batchSize: Int = 500) throws
        -> [Float]
    {
        guard set.shape == network.architecture.inputShape else {
            throw LearningError.invalidData(
                "images are \(set.shape), the model takes \(network.architecture.inputShape)")
        }
        let convnet = try ConvNet(trained: network)
        let d = set.imageSize, b = max(1, batchSize)
        var scores: [Float] = []
        scores.reserveCapacity(set.count * network.architecture.classes)
        for s in stride(from: 0, to: set.count, by: b) {
            let n = min(b, set.count - s)
            scores += try convnet.forward(Array(set.pixels[(s * d)..<((s + n) * d)]), count: n).scores
        }
        return scores
    }
}

import Datasets
import DRMM
import Foundation
import NumericalCore
@testable import DRMMLearning

enum Support {
    static let mnistDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data/mnist").path

    /// The first `n` MNIST training images (and the `m` test images after them).
    static func mnist(train n: Int, test m: Int) throws -> (ImageSet, ImageSet) {
        let all = try MNIST.load(directory: mnistDirectory, split: .train)
        let d = all.rows * all.columns
        let train = try ImageSet(
            bytes: Array(all.pixels[0..<(n * d)]), labels: all.labels[0..<n].map(Int.init), rows: 28, columns: 28)
        let test = try ImageSet(
            bytes: Array(all.pixels[(n * d)..<((n + m) * d)]), labels: all.labels[n..<(n + m)].map(Int.init), rows: 28,
            columns: 28)
        return (train, test)
    }

    /// A two-level toy architecture on 8×8 images (3 classes).
    static func toy(top: Architecture.Top) -> Architecture {
        Architecture(
            name: "toy-\(top.rawValue)", inputShape: [1, 8, 8],
            layers: [
                LayerSpec(channels: 3, kernel: 3, padding: .full, pool: 2),
                LayerSpec(channels: 4, kernel: 2, padding: .valid, pool: 2)
            ],
            classes: 3, top: top)
    }

    /// A network with Gaussian parameters (biases included) in Double.
    static func randomNetwork(_ a: Architecture, seed: UInt64, scale: Double = 0.6) throws -> RenderingNetwork<Double> {
        var net = try RenderingNetwork<Double>(architecture: a)
        let rng = RandomSource(seed: seed)
        for i in net.parameters.indices { net.parameters[i] = rng.gaussian(standardDeviation: scale) }
        return net
    }

    static func randomImages(_ n: Int, size: Int, seed: UInt64) -> [Double] {
        let rng = RandomSource(seed: seed)
        return (0..<(n * size)).map { _ in rng.uniform() }
    }
}

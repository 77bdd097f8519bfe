import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// One model, three passes: a network trained for a few steps, converted to a
/// `DeepRenderingMixtureModel` and to a Float `ConvNet`, gives the same class scores, switches
/// and routes from the exact Double inference, the convnet's forward pass and the training
/// pass's bottom-up, and the model's reconstruction is the training pass's.
@Suite("One DRMM from training to inference", .serialized)
struct OneModelTests {
    static func architecture(top: Architecture.Top, normalization: Architecture.Normalization) -> Architecture {
        Architecture(
            name: "one-\(top.rawValue)", inputShape: [1, 28, 28],
            layers: [
                LayerSpec(channels: 5, kernel: 5, padding: .same, pool: 2),
                LayerSpec(channels: 7, kernel: 3, padding: .valid, pool: 2, switchPrior: 0.4),
                LayerSpec(channels: 6, kernel: 3, padding: .full, pool: 1)
            ],
            classes: 10, top: top, normalization: normalization)
    }

    /// Two EG steps on 100 digits, with the reconstruction term (so the top-down pass trains).
    static func trained(_ a: Architecture) throws -> (RenderingNetwork<Float>, ImageSet) {
        let (train, test) = try Support.mnist(train: 100, test: 40)
        let configuration = TrainingConfiguration(
            epochs: 1, batchSize: 50, objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 3e-3), seed: 5, workers: 1)
        let trainer = try EGTrainer(
            network: RenderingNetwork<Float>(architecture: a, seed: 5), configuration: configuration, train: train)
        _ = try trainer.runEpoch()
        return (trainer.network, test)
    }

    static let cases: [(Architecture.Top, Architecture.Normalization)] = [
        (.dense, .none), (.meanPool, .none), (.meanPool, .batchFolded)
    ]

    @Test(
        "the Double model, the Float convnet and the training pass agree on scores, switches, routes, images",
        arguments: cases)
    func threePasses(top: Architecture.Top, normalization: Architecture.Normalization) throws {
        let (network, test) = try Self.trained(Self.architecture(top: top, normalization: normalization))
        let model = try DeepRenderingMixtureModel(trained: network)
        let convnet = try ConvNet(trained: network)
        let n = test.count, d = 784
        // The training pass at test time (running statistics), in Double, the images unlabelled so
        // it renders its own argmax class.
        let double = network.converted(to: Double.self)
        let pass = BatchPass(network: double)
        let images = test.pixels.map(Double.init)
        _ = double.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                pass.run(
                    parameters: p.baseAddress!, images: x.baseAddress!, labels: [Int](repeating: -1, count: n)[...],
                    count: n,
                    objective: Objective(crossEntropy: 1, reconstruction: 1), labeledTotal: 0, total: n, gradient: nil,
                    batchStatistics: false)
            }
        }
        let float = try convnet.forward(test.pixels, count: n)
        var compared = (routes: 0, floatRoutes: 0)
        for i in 0..<n {
            let r = try model.infer(Tensor(shape: [1, 28, 28], elements: Array(images[(i * d)..<((i + 1) * d)])))
            #expect(r.predictedClass == pass.predictions[i])
            for c in 1..<10 {
                let drmm =
                    (r.classScores[c] - r.classScores[0]) / model.noiseVariance
                    + log(model.classPrior[c] / model.classPrior[0])
                let training = log(pass.posteriors[i * 10 + c] / pass.posteriors[i * 10])
                let convnetScore = Double(float.scores[i * 10 + c] - float.scores[i * 10])
                #expect(
                    abs(drmm - training) <= 1e-8 * max(1, abs(drmm)),
                    "image \(i) class \(c): Double model against the training pass")
                #expect(
                    abs(drmm - convnetScore) <= 1e-4 * max(1, abs(drmm)),
                    "image \(i) class \(c): Float convnet against the Double model")
            }
            // Routes, level by level; windows whose two best responses tie to rounding are skipped.
            for (l, g) in model.geometry.enumerated() {
                let (hp, wp, p) = (g.pooled[1], g.pooled[2], g.pool)
                for k in 0..<g.pooled[0] {
                    for y in 0..<hp {
                        for x in 0..<wp {
                            let u = (k * hp + y) * wp + x, batched = ((k * n + i) * hp + y) * wp + x
                            let window = (0..<(p * p)).map { r.responses[l][k, y * p + $0 / p, x * p + $0 % p] }.sorted(
                                by: >)
                            let margin = p > 1 ? window[0] - window[1] : .infinity
                            let drmmRoute = MaxPooling<Double>.route(
                                unit: u, translation: r.nuisances.translations[l][u],
                                on: r.nuisances.switches[l][u], g)
                            if margin > 1e-9 * max(1, abs(window[0])), abs(window[0]) > 1e-9 {
                                compared.routes += 1
                                #expect(
                                    pass.routes[l][batched] == drmmRoute,
                                    "level \(l + 1) image \(i) unit \(u): training pass")
                            }
                            if margin > 1e-3 * max(1, abs(window[0])), abs(window[0]) > 1e-3 {
                                compared.floatRoutes += 1
                                #expect(
                                    float.routes[l][batched] == drmmRoute,
                                    "level \(l + 1) image \(i) unit \(u): Float convnet")
                            }
                        }
                    }
                }
            }
            // The model renders what the trainer renders.
            let reconstruction = try model.reconstruct(r)
            let trainer = pass.reconstruction(of: i, batch: n)
            let scale = max(1, trainer.map(abs).max() ?? 0)
            #expect(
                zip(reconstruction.elements, trainer).allSatisfy { abs($0 - $1) <= 1e-9 * scale },
                "image \(i) reconstruction")
        }
        #expect(compared.routes > 5000 && compared.floatRoutes > 4000, "\(compared)")
    }
}

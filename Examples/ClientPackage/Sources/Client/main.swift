import DRMM
import DRMMLearning
import Datasets
import Foundation
import NumericalCore

// The bundled digits: the library's `Data/mnist` unless another directory is given.
let directory =
    CommandLine.arguments.dropFirst().first
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../Data/mnist")
    .standardized.path
let (train, test) = try ImageSet.mnist(directory: directory, trainLimit: 1000, testLimit: 200)

// 1. A rendering model of one's own: three levels, a declared switch prior, a mean-pool top.
let architecture = Architecture(
    name: "client-3", inputShape: [1, 28, 28],
    layers: [
        LayerSpec(channels: 8, kernel: 5, padding: .same, pool: 2),
        LayerSpec(channels: 12, kernel: 3, padding: .valid, pool: 2, switchPrior: 0.4),
        LayerSpec(channels: 16, kernel: 3, padding: .full, pool: 2)
    ],
    classes: 10, top: .meanPool)

// 2. A few EG steps (cross-entropy and reconstruction), keeping the theorem's sign conditions.
var configuration = TrainingConfiguration(
    epochs: 1, batchSize: 50, objective: Objective(crossEntropy: 1, reconstruction: 0.5),
    optimizer: Optimizer(learningRate: 3e-3), seed: 1, workers: 2)
configuration.nonnegativeUpperWeights = true
let trainer = try EGTrainer(
    network: RenderingNetwork<Float>(architecture: architecture, seed: 1), configuration: configuration, train: train)
let epoch = try trainer.runEpoch()
print("trained \(train.count) images for \(train.count / configuration.batchSize) steps: loss \(epoch.loss.total)")

// 3. The trained network as a DRMM, and as a Float convnet.
let model = try DeepRenderingMixtureModel(trained: trainer.network)
let convnet = try ConvNet(trained: trainer.network)
print(
    "DRMM: \(model.layers.count) levels, switch priors "
        + "\(model.layers.map { ($0.switchPrior * 1000).rounded() / 1000 }), σ² = \(model.noiseVariance)"
)

// 4. A sample: a class, its nuisances, and an image rendered from them.
let sample = try model.sample(using: RandomSource(seed: 7))
print(
    "sampled class \(sample.class): \(sample.nuisances.switches.map { $0.filter { $0 }.count }) switches ON per level")

// 5. Bottom-up inference and top-down reconstruction of a test digit; the convnet agrees.
let digit = try Tensor(shape: [1, 28, 28], elements: test.pixels[0..<784].map(Double.init))
let inference = try model.infer(digit)
let reconstruction = try model.reconstruct(inference)
let forward = try convnet.forward(Array(test.pixels[0..<784]), count: 1)
let convnetClass = forward.scores.indices.max { forward.scores[$0] < forward.scores[$1] }!
let error = zip(reconstruction.elements, digit.elements).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 784
print(
    "test digit (label \(test.labels[0])): DRMM class \(inference.predictedClass), convnet class \(convnetClass), "
        + "reconstruction MSE \(error)"
)

// 6. The equivalence: on every test image the network's forward pass is exact max-sum in the DRMM.
let certificate = try NetworkCertificate.certify(trainer.network, on: test, workers: 2)
print(
    "certificate on \(certificate.imagesChecked) images: exact max-sum \(certificate.provesExactMaxSum), "
        + "predictions agreeing \(certificate.predictionsAgreeing), largest relative score difference "
        + "\(certificate.largestRelativeScoreDifference)"
)
guard certificate.provesExactMaxSum, inference.predictedClass == convnetClass else { exit(1) }

import DRMM
import Datasets
import Foundation
import NumericalCore
import Testing

@testable import DRMMLearning

/// Architectures as JSON files, and a colour architecture trained from a PNG folder.
@Suite("Architecture files and data from disk")
struct ArchitectureFileTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/Architectures").path

    @Test("every preset's file in Examples/Architectures decodes to the preset")
    func presetFiles() throws {
        for (name, preset) in Architecture.presets {
            #expect(try Architecture.read(path: Self.examples + "/\(name).json") == preset)
        }
    }

    @Test("optional keys take their defaults; bad files are refused with the file and the place named")
    func badFiles() throws {
        func file(_ text: String) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("arch-\(UUID().uuidString).json")
            try text.write(to: path, atomically: true, encoding: .utf8)
            return path.path
        }
        let minimal = try Architecture.read(
            path: try file(#"{"inputShape": [1, 8, 8], "layers": [{"channels": 4, "kernel": 3}], "classes": 3}"#))
        #expect(minimal.layers[0] == LayerSpec(channels: 4, kernel: 3, padding: .valid, pool: 1, switchPrior: 0.5))
        #expect(minimal.top == .dense && minimal.normalization == .none && minimal.name == "custom")
        let cases: [(String, [String])] = [
            (#"{"inputShape": [1, 8, 8], "layers": [{"kernel": 3}], "classes": 3}"#, ["channels", "layers[0]"]),
            (#"{"inputShape": [1, 8, 8], "layers": [{"channels": 4, "kernel": 9}], "classes": 3}"#, ["kernel 9×9"]),
            (
                #"{"inputShape": [1, 8, 8], "layers": [{"channels": 4, "kernel": 3, "padding": "wide"}], "#
                    + #""classes": 3}"#,
                ["padding"]
            ),
            (
                #"{"inputShape": [1, 8, 8], "layers": [{"channels": 4, "kernel": 3, "pool": 4}], "classes": 3}"#,
                ["pool 4"]
            ),
            (#"{"inputShape": [1, 8, 8], "layers": [], "classes": 3}"#, ["at least one level"]),
            ("[1, 2", ["JSON"])
        ]
        for (text, words) in cases {
            let path = try file(text)
            do {
                _ = try Architecture.read(path: path)
                Issue.record("accepted \(text)")
            } catch let e as LearningError {
                for w in words + [(path as NSString).lastPathComponent] { #expect("\(e)".contains(w), "\(e)") }
            }
        }
        #expect(throws: LearningError.self) { try Architecture.read(path: "/nonexistent/arch.json") }
    }

    /// 24 colour 32×32 images of two kinds (a red square left, a blue square right), written as
    /// a PNG folder and read back through the data-set loader.
    static func colourFolder() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("colour-\(UUID().uuidString)").path
        let rng = RandomSource(seed: 3)
        var pixels: [Float] = [], labels: [Int] = []
        for i in 0..<24 {
            let label = i % 2
            var image = [Float](repeating: 0, count: 3 * 32 * 32)
            let (x0, y0) = (label == 0 ? 4 : 18, 6 + rng.integer(below: 12))
            for y in y0..<(y0 + 8) {
                for x in x0..<(x0 + 8) { image[(label == 0 ? 0 : 2) * 1024 + y * 32 + x] = 1 }
            }
            for k in image.indices { image[k] = min(1, image[k] + Float(rng.integer(below: 40)) / 255) }
            pixels += image
            labels.append(label)
        }
        let images = try LabeledImages(
            shape: [3, 32, 32], pixels: pixels.map { ($0 * 255).rounded() / 255 }, labels: labels,
            classNames: ["a-red", "b-blue"], source: "synthetic")
        try ImageFolder.write(images, to: root)
        // The folder lists class by class, each class's images in their order.
        let byClass = images.labels.indices.sorted { (images.labels[$0], $0) < (images.labels[$1], $1) }
        #expect(try DataSource.load(root).train.pixels == images.subset(byClass).pixels)
        return root
    }

    @Test("an architecture file with 3 input channels trains on a colour PNG folder, and converts exactly")
    func colourTraining() throws {
        var architecture = try Architecture.read(path: Self.examples + "/colour-32.json")
        architecture.normalization = .none
        let (train, test) = try ImageSet.load(data: try Self.colourFolder(), testFraction: 0.25, splitSeed: 2)
        #expect(train.shape == [3, 32, 32] && train.count == 18 && test.count == 6)
        try architecture.check(train, named: "training")
        let configuration = TrainingConfiguration(
            epochs: 4, batchSize: 6, objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 1e-2), seed: 1, workers: 1)
        let trainer = try EGTrainer(
            network: RenderingNetwork<Float>(architecture: architecture, seed: 1), configuration: configuration,
            train: train)
        let before = trainer.network.parameters
        for _ in 0..<4 { _ = try trainer.runEpoch() }
        let losses = trainer.history.map(\.loss.crossEntropy)
        #expect(losses.allSatisfy(\.isFinite) && losses.last! < losses.first!, "\(losses)")
        #expect(trainer.network.parameters != before)
        let model = try DeepRenderingMixtureModel(trained: trainer.network)
        let convnet = try ConvNet(trained: trainer.network)
        let net = try convnet.forward(test.pixels, count: test.count).scores
        for i in 0..<test.count {
            let x = Array(test.pixels[(i * 3072)..<((i + 1) * 3072)]).map(Double.init)
            let r = try model.infer(Tensor(shape: [3, 32, 32], elements: x))
            for c in 1..<10 {
                let drmm =
                    (r.classScores[c] - r.classScores[0]) / model.noiseVariance
                    + log(model.classPrior[c] / model.classPrior[0])
                let convnetScore = Double(net[i * 10 + c] - net[i * 10])
                #expect(abs(drmm - convnetScore) <= 1e-4 * max(1, abs(drmm)), "image \(i) class \(c)")
            }
        }
    }
}

import DRMM
import Datasets
import Foundation
import NumericalCore
import Testing

@testable import DRMMLearning

/// PyTorch state dicts in and out, without PyTorch: a network written by PyTorch
/// (`Scripts/make-pytorch-fixture.py`) with its logits on ten images, and export/import round trips.
@Suite("PyTorch state dicts")
struct PyTorchInteropTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    struct Expected: Decodable {
        let images: [Float]
        let logits: [Float]
    }

    @Test("a network saved by PyTorch (conv biases before batch norm folded) gives PyTorch's logits to 1e-4")
    func importFromPyTorch() throws {
        let path = Self.fixtures + "/pytorch-tiny.safetensors"
        let network = try PyTorchStateDict.importNetwork(try SafeTensors.read(path: path), source: path)
        #expect(network.architecture.inputShape == [2, 8, 8] && network.architecture.classes == 4)
        let e = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/pytorch-tiny.json")))
        let set = try ImageSet(shape: [2, 8, 8], pixels: e.images, labels: [Int](repeating: 0, count: 10))
        let logits = try Evaluation.logits(network, set)
        #expect(logits.count == e.logits.count)
        for (a, b) in zip(logits, e.logits) { #expect(abs(a - b) <= 1e-4, "\(a) against PyTorch's \(b)") }
        // The folded DRMM classifies the same way.
        let model = try DeepRenderingMixtureModel(trained: network)
        for i in 0..<10 {
            let x = e.images[(i * 128)..<((i + 1) * 128)].map(Double.init)
            let predicted = try model.infer(Tensor(shape: [2, 8, 8], elements: x)).predictedClass
            let row = e.logits[(i * 4)..<((i + 1) * 4)]
            #expect(predicted == row.firstIndex(of: row.max()!)! - i * 4)
        }
    }

    @Test(
        "export then import gives the same parameters, for every top and normalisation",
        arguments: [
            (Architecture.Top.dense, Architecture.Normalization.none), (.meanPool, .batch), (.meanPool, .batchFolded)
        ])
    func roundTrip(top: Architecture.Top, normalization: Architecture.Normalization) throws {
        let architecture = Architecture(
            name: "rt", inputShape: [3, 9, 9],
            layers: [
                LayerSpec(channels: 4, kernel: 3, padding: .valid, pool: 1),
                LayerSpec(channels: 6, kernel: 2, padding: .full, pool: 2)
            ], classes: 3, top: top, normalization: normalization)
        var network = try RenderingNetwork<Float>(architecture: architecture, seed: 4)
        if normalization.isBatch {  // running statistics other than 0 and 1
            for l in network.layout.statistics.indices {
                let s = network.layout.statistics[l], o = s.count / 2
                for i in 0..<o {
                    network.parameters[s.lowerBound + i] = Float(i) * 0.1 - 0.2
                    network.parameters[s.lowerBound + o + i] = 0.5 + Float(i) * 0.25
                }
            }
        }
        let bytes = SafeTensors.bytes(try PyTorchStateDict.export(network))
        let back = try PyTorchStateDict.importNetwork(try SafeTensors.parse(bytes, path: "rt"), source: "rt")
        #expect(back.architecture == architecture)
        #expect(back.parameters == network.parameters)
        let names = try SafeTensors.parse(bytes, path: "rt").tensors.keys.sorted()
        let expected =
            normalization.isBatch
            ? [
                "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight",
                "3.weight", "4.bias", "4.num_batches_tracked", "4.running_mean", "4.running_var", "4.weight",
                "9.bias", "9.weight"
            ]
            : ["0.bias", "0.weight", "2.bias", "2.weight", "6.bias", "6.weight"]
        #expect(names == expected, "\(names)")
    }

    @Test("a missing or misshapen tensor, or no architecture, is refused by name")
    func refusals() throws {
        let network = try RenderingNetwork<Float>(architecture: .rfm, seed: 1)
        var file = try PyTorchStateDict.export(network)
        file.tensors["0.weight"] = try NumPyArray(float32: [1, 2], shape: [2])
        #expect { try PyTorchStateDict.importNetwork(file, source: "f") } throws: { "\($0)".contains("0.weight") }
        file.tensors["0.weight"] = nil
        #expect { try PyTorchStateDict.importNetwork(file, source: "f") } throws: {
            "\($0)".contains("no tensor 0.weight")
        }
        file.metadata = [:]
        #expect { try PyTorchStateDict.importNetwork(file, source: "f") } throws: { "\($0)".contains("architecture") }
    }
}

import DRMM
import Datasets
import Foundation
import NumericalCore

/// A trained network as the state dict of the PyTorch `nn.Sequential` of the same architecture,
/// and back. `Examples/PyTorch/drmm_torch.py` builds that module from an architecture file:
///
/// - per level `ℓ`: `Conv2d(C_in, C_ℓ, K, padding=pad, bias=not normalised)`, then
///   `BatchNorm2d(C_ℓ, eps=1e-5)` for a normalised level (its `weight` is `γ`, its `bias` the
///   level's bias `b`, its running statistics ours), `ReLU()`, and `MaxPool2d(p)` when `p > 1`;
/// - the top: `AdaptiveAvgPool2d(1), Flatten(), Linear(C_L, K)` for a mean-pool top, or
///   `Flatten(), Linear(C_L·H·W, K)` for a dense one.
///
/// Tensor names are the module indices PyTorch gives them (`0.weight`, `1.running_mean`, …).
/// Max-pooling before or after the bias and the ReLU gives the same map (both are monotone per
/// channel), so the module computes exactly the network's class scores.
public enum PyTorchStateDict {
    /// Where each of a level's tensors sits in the `nn.Sequential`.
    struct LevelModules {
        var convolution: Int
        var normalization: Int?
    }

    /// The module index of every level's convolution (and normalisation), and of the final `Linear`.
    static func modules(_ architecture: Architecture) -> (levels: [LevelModules], linear: Int) {
        var index = 0
        var levels: [LevelModules] = []
        for spec in architecture.layers {
            let conv = index
            index += 1
            var norm: Int? = nil
            if architecture.normalization.isBatch {
                norm = index
                index += 1
            }
            index += 1  // ReLU
            if spec.pool > 1 { index += 1 }
            levels.append(LevelModules(convolution: conv, normalization: norm))
        }
        index += architecture.top == .meanPool ? 2 : 1  // (AdaptiveAvgPool2d,) Flatten
        return (levels, index)
    }

    /// The network's parameters under the module's names, and its architecture as JSON in the
    /// metadata (`drmm_architecture`), so that the file is enough to import it again.
    public static func export(_ network: RenderingNetwork<Float>) throws -> SafeTensors.File {
        let (levels, linear) = modules(network.architecture)
        let p = network.parameters, layout = network.layout
        var tensors: [String: NumPyArray] = [:]
        func put(_ name: String, _ range: Range<Int>, _ shape: [Int]) throws {
            tensors[name] = try NumPyArray(float32: Array(p[range]), shape: shape)
        }
        for (l, g) in network.geometry.enumerated() {
            let (o, c, k) = (g.convolved[0], g.input[0], g.kernel)
            let conv = levels[l].convolution
            try put("\(conv).weight", layout.filters[l], [o, c, k, k])
            if let norm = levels[l].normalization {
                try put("\(norm).weight", layout.scales[l], [o])
                try put("\(norm).bias", layout.biases[l], [o])
                let stats = layout.statistics[l]
                try put("\(norm).running_mean", stats.lowerBound..<(stats.lowerBound + o), [o])
                try put("\(norm).running_var", (stats.lowerBound + o)..<stats.upperBound, [o])
                tensors["\(norm).num_batches_tracked"] = try NumPyArray(int64: [0], shape: [])
            } else {
                try put("\(conv).bias", layout.biases[l], [o])
            }
        }
        try put("\(linear).weight", layout.classTemplates, [network.architecture.classes, layout.templateLength])
        try put("\(linear).bias", layout.classBias, [network.architecture.classes])
        let json = try JSONEncoder().encode(network.architecture)
        return SafeTensors.File(
            tensors: tensors, metadata: ["format": "pt", "drmm_architecture": String(decoding: json, as: UTF8.self)])
    }

    /// The network whose module has these tensors. `architecture` defaults to the one the file
    /// carries in its metadata. A convolution with a bias followed by batch normalisation is
    /// folded exactly: the bias moves into the running mean. Every tensor the module needs must be
    /// present with its shape; errors name the tensor.
    public static func importNetwork(_ file: SafeTensors.File, architecture given: Architecture? = nil, source: String)
        throws -> RenderingNetwork<Float>
    {
        let architecture = try given ?? embeddedArchitecture(file, source: source)
        var network = try RenderingNetwork<Float>(architecture: architecture)
        let (levels, linear) = modules(architecture)
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = file.tensors[name] else {
                throw LearningError.invalidData("\(source): no tensor \(name) (expected shape \(shape))")
            }
            guard t.shape == shape, t.elementType == .float32 || t.elementType == .float64 else {
                throw LearningError.invalidData(
                    "\(source): tensor \(name) is \(t.elementType.rawValue) \(t.shape), expected float \(shape)")
            }
            let values = t.floats()
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw LearningError.invalidData("\(source): tensor \(name) has \(values[bad]) at \(bad)")
            }
            return values
        }
        let layout = network.layout
        func set(_ range: Range<Int>, _ values: [Float]) { network.parameters.replaceSubrange(range, with: values) }
        for (l, g) in network.geometry.enumerated() {
            let (o, c, k) = (g.convolved[0], g.input[0], g.kernel)
            let conv = levels[l].convolution
            set(layout.filters[l], try tensor("\(conv).weight", [o, c, k, k]))
            guard let norm = levels[l].normalization else {
                set(layout.biases[l], try tensor("\(conv).bias", [o]))
                continue
            }
            var mean = try tensor("\(norm).running_mean", [o])
            if file.tensors["\(conv).bias"] != nil {
                // BN(S + c) = γ (S − (m − c)) / σ + β.
                mean = zip(mean, try tensor("\(conv).bias", [o])).map { $0 - $1 }
            }
            let variance = try tensor("\(norm).running_var", [o])
            guard variance.allSatisfy({ $0 >= 0 }) else {
                throw LearningError.invalidData("\(source): tensor \(norm).running_var has a negative entry")
            }
            set(layout.scales[l], try tensor("\(norm).weight", [o]))
            set(layout.biases[l], try tensor("\(norm).bias", [o]))
            set(layout.statistics[l], mean + variance)
        }
        set(layout.classTemplates, try tensor("\(linear).weight", [architecture.classes, layout.templateLength]))
        set(layout.classBias, try tensor("\(linear).bias", [architecture.classes]))
        try network.validate()
        return network
    }

    /// The architecture a file exported here carries in its metadata.
    static func embeddedArchitecture(_ file: SafeTensors.File, source: String) throws -> Architecture {
        guard let json = file.metadata["drmm_architecture"] else {
            throw LearningError.invalidData(
                "\(source) carries no drmm_architecture metadata; give the architecture (a JSON file)")
        }
        do { return try JSONDecoder().decode(Architecture.self, from: Data(json.utf8)) } catch {
            throw LearningError.invalidData("\(source): drmm_architecture: \(Architecture.describe(error))")
        }
    }
}

extension Checkpoint {
    /// A checkpoint holding `network` and nothing trained here yet (epoch 0, no history): what
    /// ``Evaluation``, `drmm evaluate`, `drmm verify` and `--init-from` read.
    public init(network: RenderingNetwork<Float>, configuration: TrainingConfiguration = TrainingConfiguration()) {
        self.init(
            architecture: network.architecture, configuration: configuration, parameters: network.parameters,
            optimizerState: OptimizerState(parameterCount: network.parameters.count), epoch: 0, labeledIndices: [],
            history: [], switchRates: [Double](repeating: 0.5, count: network.architecture.layers.count))
    }
}

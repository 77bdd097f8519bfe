import Foundation
import FactorGraph
import DRMM
import NumericalCore

/// Everything needed to resume training bit-identically or to evaluate: architecture,
/// configuration, parameters, optimiser moments, completed epochs, the labelled subset and
/// the metrics so far. Stored as JSON; Float arrays as base64 of their little-endian bits
/// (exact and compact).
public struct Checkpoint: Codable, Sendable {
    /// The format tag every checkpoint file starts with.
    public static let formatName = CheckpointSchema.formatName(version: CheckpointSchema.current)
    /// The file's format tag.
    public var format = Checkpoint.formatName
    /// The trained model's shape.
    public var architecture: Architecture
    /// How it was trained (a resumed run continues with it).
    public var configuration: TrainingConfiguration
    /// The network's parameters, laid out as ``RenderingNetwork/Layout`` says.
    public var parameters: [Float]
    /// The optimiser's moments and step count.
    public var optimizerState: OptimizerState
    /// Epochs completed.
    public var epoch: Int
    /// The training images whose labels the run uses.
    public var labeledIndices: [Int]
    /// One record per completed epoch.
    public var history: [EpochMetrics]
    /// How often each level's switches were ON in the last epoch.
    public var switchRates: [Double]
    /// The weight-averaged teacher's parameters, when the configuration has a teacher
    /// (``MeanTeacher``).
    public var teacherParameters: [Float]?

    enum CodingKeys: String, CodingKey {
        case format, architecture, configuration, parameters, optimizerState, epoch, labeledIndices, history,
            switchRates, teacherParameters
    }

    /// A checkpoint of a run after `epoch` epochs.
    public init(
        architecture: Architecture, configuration: TrainingConfiguration, parameters: [Float],
        optimizerState: OptimizerState,
        epoch: Int, labeledIndices: [Int], history: [EpochMetrics], switchRates: [Double],
        teacherParameters: [Float]? = nil
    ) {
        self.architecture = architecture
        self.configuration = configuration
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.epoch = epoch
        self.labeledIndices = labeledIndices
        self.history = history
        self.switchRates = switchRates
        self.teacherParameters = teacherParameters
    }

    /// Reads a checkpoint, its Float arrays from base64.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        architecture = try c.decode(Architecture.self, forKey: .architecture)
        configuration = try c.decode(TrainingConfiguration.self, forKey: .configuration)
        parameters = try FloatCoding.decode(c.decode(String.self, forKey: .parameters))
        optimizerState = try c.decode(OptimizerState.self, forKey: .optimizerState)
        epoch = try c.decode(Int.self, forKey: .epoch)
        labeledIndices = try c.decode([Int].self, forKey: .labeledIndices)
        history = try c.decode([EpochMetrics].self, forKey: .history)
        switchRates = try c.decode([Double].self, forKey: .switchRates)
        teacherParameters = try c.decodeIfPresent(String.self, forKey: .teacherParameters).map(FloatCoding.decode)
    }

    /// Writes the checkpoint, its Float arrays as base64.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(FloatCoding.encode(parameters), forKey: .parameters)
        try c.encode(optimizerState, forKey: .optimizerState)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(labeledIndices, forKey: .labeledIndices)
        try c.encode(history, forKey: .history)
        try c.encode(switchRates, forKey: .switchRates)
        try c.encodeIfPresent(teacherParameters.map(FloatCoding.encode), forKey: .teacherParameters)
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        try writeAtomically(bytes: [UInt8](data), to: path)
    }

    /// Reads and checks a checkpoint whole (``problem(limits:)``) before anything is built from
    /// it; every failure names the path.
    public static func read(from path: String, limits: ResourceLimits = .standard) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LearningError.checkpoint(path: path, reason: "cannot be read")
        }
        return try decode(data, path: path, limits: limits)
    }

    /// ``decode(_:)`` and ``problem(limits:)``, each failure naming `path`.
    static func decode(_ data: Data, path: String, limits: ResourceLimits) throws -> Checkpoint {
        let c: Checkpoint
        do { c = try decode(data) } catch {
            throw LearningError.checkpoint(path: path, reason: "is not a valid checkpoint (\(error))")
        }
        if let reason = c.problem(limits: limits) { throw LearningError.checkpoint(path: path, reason: reason) }
        return c
    }

    /// A checkpoint from its JSON, of this version or, through `CheckpointSchema`'s migration,
    /// an earlier one.
    public static func decode(_ data: Data) throws -> Checkpoint {
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LearningError.invalidData("is not a JSON object")
        }
        if object["format"] as? String == formatName { return try JSONDecoder().decode(Checkpoint.self, from: data) }
        try CheckpointSchema.migrate(&object)
        return try JSONDecoder().decode(Checkpoint.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// The largest optimiser step count a checkpoint may carry (far beyond any run, far below
    /// where `step += 1` or the bias correction's `β^step` would misbehave).
    public static let maximumStep = 1 << 40

    /// What is wrong with the checkpoint as a whole, `nil` when nothing is: the format, the
    /// architecture (against `limits`, before any network is built from it), every count
    /// against the architecture, and every field's range.
    public func problem(limits: ResourceLimits = .standard) -> String? {
        guard format == Self.formatName else { return "has format \(format), expected \(Self.formatName)" }
        let geometry: [LayerGeometry]
        do { geometry = try architecture.geometry(limits: limits) } catch {
            return "describes an invalid architecture: \(error)"
        }
        let layout = RenderingNetwork<Float>.layout(architecture: architecture, geometry: geometry)
        guard parameters.count == layout.count else {
            return "has \(parameters.count) parameters, architecture \(architecture.name) needs \(layout.count)"
        }
        guard optimizerState.first.count == parameters.count, optimizerState.second.count == parameters.count else {
            return "optimiser state does not match the parameters"
        }
        guard (0...Self.maximumStep).contains(optimizerState.step) else {
            return "optimiser step \(optimizerState.step) is outside 0...\(Self.maximumStep)"
        }
        do { try configuration.validate(trainingImages: Int.max, limits: limits) } catch {
            return "has an invalid configuration: \(error)"
        }
        guard (0...configuration.totalEpochs).contains(epoch) else {
            return "says \(epoch) epochs are done, the configuration has \(configuration.totalEpochs)"
        }
        guard history.count == epoch, history.enumerated().allSatisfy({ $0.element.epoch == $0.offset + 1 }) else {
            return
                "has \(history.count) epochs of history (numbered \(history.prefix(5).map(\.epoch))…) for \(epoch) "
                + "completed epochs"
        }
        guard switchRates.count == geometry.count else {
            return "has \(switchRates.count) switch rates for \(geometry.count) levels"
        }
        if let bad = switchRates.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            return "switch rate of level \(bad + 1) is \(switchRates[bad]), not a rate in [0, 1]"
        }
        if configuration.labels > 0 && labeledIndices.count != configuration.labels {
            return "lists \(labeledIndices.count) labelled images, the configuration asks for \(configuration.labels)"
        }
        if let bad = labeledIndices.firstIndex(where: { $0 < 0 }) {
            return "labelled index \(bad) is \(labeledIndices[bad])"
        }
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) { return "parameter \(bad) is \(parameters[bad])" }
        return teacherMismatch
    }

    /// What is wrong with the teacher's parameters for the configuration and the parameters,
    /// `nil` when nothing is.
    var teacherMismatch: String? {
        if let t = teacherParameters, t.count != parameters.count {
            return "has \(t.count) teacher parameters for \(parameters.count) parameters"
        }
        guard configuration.extensions.meanTeacher == nil || teacherParameters != nil else {
            return "has no teacher parameters for the teacher its configuration asks for"
        }
        return nil
    }

    /// The trained network.
    public func network() throws -> RenderingNetwork<Float> {
        var net = try RenderingNetwork<Float>(architecture: architecture)
        net.parameters = parameters
        try net.validate()
        return net
    }

    /// The weight-averaged teacher, `nil` when the run had none.
    public func teacherNetwork() throws -> RenderingNetwork<Float>? {
        guard let teacherParameters else { return nil }
        var net = try RenderingNetwork<Float>(architecture: architecture)
        net.parameters = teacherParameters
        try net.validate()
        return net
    }
}

extension OptimizerState {
    enum CodingKeys: String, CodingKey { case step, first, second }

    /// Reads the state, its moments from base64.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        first = try FloatCoding.decode(c.decode(String.self, forKey: .first))
        second = try FloatCoding.decode(c.decode(String.self, forKey: .second))
    }

    /// Writes the state, its moments as base64.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(FloatCoding.encode(first), forKey: .first)
        try c.encode(FloatCoding.encode(second), forKey: .second)
    }
}

/// `[Float]` ⇄ base64 of little-endian IEEE-754 bits.
enum FloatCoding {
    static func encode(_ a: [Float]) -> String {
        var bytes = [UInt8](repeating: 0, count: 4 * a.count)
        for (i, v) in a.enumerated() {
            let b = v.bitPattern.littleEndian
            bytes[4 * i] = UInt8(b & 0xFF); bytes[4 * i + 1] = UInt8((b >> 8) & 0xFF)
            bytes[4 * i + 2] = UInt8((b >> 16) & 0xFF); bytes[4 * i + 3] = UInt8(b >> 24)
        }
        return Data(bytes).base64EncodedString()
    }

    static func decode(_ s: String) throws -> [Float] {
        guard let data = Data(base64Encoded: s), data.count % 4 == 0 else {
            throw LearningError.invalidData("a float array is not base64 of 4-byte values")
        }
        let b = [UInt8](data)
        return (0..<(b.count / 4)).map { i in
            Float(
                bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(
                    b[4 * i + 3]) << 24)
        }
    }
}

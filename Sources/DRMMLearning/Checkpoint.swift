import Foundation
import FactorGraph

/// Everything needed to resume training bit-identically or to evaluate: architecture,
/// configuration, parameters, optimiser moments, completed epochs, the labelled subset and
/// the metrics so far. Stored as JSON; Float arrays as base64 of their little-endian bits
/// (exact and compact).
public struct Checkpoint: Codable, Sendable {
    public static let formatName = "drmm-checkpoint-1"
    public var format = Checkpoint.formatName
    public var architecture: Architecture
    public var configuration: TrainingConfiguration
    public var parameters: [Float]
    public var optimizerState: OptimizerState
    public var epoch: Int
    public var labelledIndices: [Int]
    public var history: [EpochMetrics]
    public var switchRates: [Double]
    /// The weight-averaged teacher's parameters, when the configuration has a teacher
    /// (``TrainingConfiguration/teacherDecay``).
    public var teacherParameters: [Float]?

    enum CodingKeys: String, CodingKey {
        case format, architecture, configuration, parameters, optimizerState, epoch, labelledIndices, history, switchRates, teacherParameters
    }

    public init(architecture: Architecture, configuration: TrainingConfiguration, parameters: [Float], optimizerState: OptimizerState,
                epoch: Int, labelledIndices: [Int], history: [EpochMetrics], switchRates: [Double], teacherParameters: [Float]? = nil) {
        self.architecture = architecture
        self.configuration = configuration
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.epoch = epoch
        self.labelledIndices = labelledIndices
        self.history = history
        self.switchRates = switchRates
        self.teacherParameters = teacherParameters
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        architecture = try c.decode(Architecture.self, forKey: .architecture)
        configuration = try c.decode(TrainingConfiguration.self, forKey: .configuration)
        parameters = try FloatCoding.decode(c.decode(String.self, forKey: .parameters))
        optimizerState = try c.decode(OptimizerState.self, forKey: .optimizerState)
        epoch = try c.decode(Int.self, forKey: .epoch)
        labelledIndices = try c.decode([Int].self, forKey: .labelledIndices)
        history = try c.decode([EpochMetrics].self, forKey: .history)
        switchRates = try c.decode([Double].self, forKey: .switchRates)
        teacherParameters = try c.decodeIfPresent(String.self, forKey: .teacherParameters).map(FloatCoding.decode)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(FloatCoding.encode(parameters), forKey: .parameters)
        try c.encode(optimizerState, forKey: .optimizerState)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(labelledIndices, forKey: .labelledIndices)
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

    /// Reads and checks a checkpoint; every failure names the path.
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LearningError.checkpoint(path: path, reason: "cannot be read")
        }
        let c: Checkpoint
        do { c = try JSONDecoder().decode(Checkpoint.self, from: data) } catch {
            throw LearningError.checkpoint(path: path, reason: "is not a valid checkpoint (\(error))")
        }
        guard c.format == formatName else { throw LearningError.checkpoint(path: path, reason: "has format \(c.format), expected \(formatName)") }
        let net: RenderingNetwork<Float>
        do { net = try RenderingNetwork<Float>(architecture: c.architecture) } catch {
            throw LearningError.checkpoint(path: path, reason: "describes an invalid architecture: \(error)")
        }
        guard c.parameters.count == net.parameters.count else {
            throw LearningError.checkpoint(path: path, reason: "has \(c.parameters.count) parameters, architecture \(c.architecture.name) needs \(net.parameters.count)")
        }
        guard c.optimizerState.first.count == c.parameters.count, c.optimizerState.second.count == c.parameters.count else {
            throw LearningError.checkpoint(path: path, reason: "optimiser state does not match the parameters")
        }
        if let reason = c.teacherMismatch { throw LearningError.checkpoint(path: path, reason: reason) }
        return c
    }

    /// What is wrong with the teacher's parameters for the configuration and the parameters,
    /// `nil` when nothing is.
    var teacherMismatch: String? {
        if let t = teacherParameters, t.count != parameters.count {
            return "has \(t.count) teacher parameters for \(parameters.count) parameters"
        }
        guard configuration.teacherDecay == 0 || teacherParameters != nil else {
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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        first = try FloatCoding.decode(c.decode(String.self, forKey: .first))
        second = try FloatCoding.decode(c.decode(String.self, forKey: .second))
    }

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
            Float(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
        }
    }
}

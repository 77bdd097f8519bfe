import DRMM
import FactorGraph
import Foundation
import NumericalCore

/// A training run's directory and everything a run leaves in it: `checkpoint.json` after every
/// epoch, `metrics.jsonl` (one line per epoch, never ahead of the checkpoint), `results.json`,
/// and PNGs of the class templates, reconstructions, samples and the test-error curve. Every
/// file is written atomically, so a run killed at any moment leaves files that read.
public struct TrainingRun: Sendable {
    /// How a run's network starts.
    public enum Start: Sendable, Equatable {
        /// Random parameters drawn with the configuration's seed.
        case fresh(RenderingNetwork<Float>.Initialization)
        /// This run's own checkpoint, continued bit-identically.
        case resume
        /// The parameters of another run's checkpoint, trained afresh with this configuration.
        case initialize(from: String)
    }

    /// The run's directory.
    public let directory: String
    /// `directory/checkpoint.json`.
    public var checkpointPath: String { "\(directory)/checkpoint.json" }
    /// `directory/metrics.jsonl`.
    public var metricsPath: String { "\(directory)/metrics.jsonl" }

    /// A run writing into `directory`, created if it does not exist and `create` is true (the
    /// ranks of a job other than rank 0 write nothing and pass false).
    public init(directory: String, create: Bool = true) throws {
        if create { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        self.directory = directory
    }

    /// The trainer of this run. Resuming reads the run's checkpoint, which must hold the same
    /// architecture and, but for the execution options, the same configuration; an execution
    /// option not given (`nil` in `workers` or `convolution`) is the checkpoint's, and a given
    /// one that differs continues the run up to rounding, which `note` says. A resumed run's
    /// metrics are rewritten from its checkpoint (a run killed between the two left them one
    /// epoch apart).
    ///
    /// Over the ranks of a `communicator`, rank 0 alone reads checkpoints (and hands them to
    /// the others) and writes files; `workers` counts the shards of all ranks, so a run resumes
    /// on any number of ranks with the same shards bit-identically.
    public func trainer(
        architecture: Architecture, configuration: TrainingConfiguration, workers: Int?,
        convolution: ConvolutionAlgorithm?, start: Start, train: ImageSet,
        limits: ResourceLimits = .standard, communicator: any Communicator = SingleProcess()
    ) throws -> (trainer: EGTrainer, note: String?) {
        var config = configuration
        switch start {
        case let .fresh(initialization):
            let network = try RenderingNetwork<Float>(
                architecture: architecture, seed: config.seed, initialization: initialization)
            return (
                try EGTrainer(network: network, configuration: config, train: train, communicator: communicator), nil
            )
        case let .initialize(from: path):
            guard path != checkpointPath else {
                throw LearningError.invalidOption(
                    "the checkpoint to start from is the one this run writes; resume instead, or write elsewhere")
            }
            let c = try Checkpoint.read(from: path, limits: limits, communicator: communicator)
            guard c.architecture == architecture else {
                throw LearningError.checkpoint(
                    path: path, reason: "is a \(c.architecture.name) model, not \(architecture.name)")
            }
            return (
                try EGTrainer(
                    network: c.network(), configuration: config, train: train, communicator: communicator), nil
            )
        case .resume:
            let c = try Checkpoint.read(from: checkpointPath, limits: limits, communicator: communicator)
            guard c.architecture == architecture else {
                throw LearningError.checkpoint(
                    path: checkpointPath, reason: "is a \(c.architecture.name) model, not \(architecture.name)")
            }
            config.workers = workers ?? c.configuration.workers
            config.convolution = convolution ?? c.configuration.convolution
            let trainer: EGTrainer
            do {
                trainer = try EGTrainer(resuming: c, train: train, configuration: config, communicator: communicator)
            } catch let
                LearningError.checkpoint(_, reason)
            {
                throw LearningError.checkpoint(path: checkpointPath, reason: reason)
            }
            if communicator.isRoot { try writeMetrics(trainer.history) }
            let same = config.workers == c.configuration.workers && config.convolution == c.configuration.convolution
            let note =
                same
                ? nil
                : """
                resuming with \(config.workers) worker(s) and \(config.convolution.rawValue) convolutions; \
                the checkpoint was written with \(c.configuration.workers) and \
                \(c.configuration.convolution.rawValue). The run continues the same training up to \
                rounding, not bit-identically.
                """
            return (trainer, note)
        }
    }

    /// After an epoch: the checkpoint first, then the metrics, so that the metrics are never
    /// ahead of the checkpoint.
    public func record(_ trainer: EGTrainer) throws {
        try trainer.checkpoint().write(to: checkpointPath)
        try writeMetrics(trainer.history)
    }

    /// `metrics.jsonl`: one JSON object per epoch.
    public func writeMetrics(_ history: [EpochMetrics]) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let lines = try history.map { String(decoding: try e.encode($0), as: UTF8.self) }
        try writeAtomically(lines.joined(separator: "\n") + "\n", to: metricsPath)
    }

    /// `results.json`.
    public func writeResults(_ results: RunResults) throws {
        try Self.writeJSON(results, to: "\(directory)/results.json")
    }

    /// `value` as sorted, pretty JSON, atomically.
    public static func writeJSON<V: Encodable>(_ value: V, to path: String, pretty: Bool = true) throws {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        try writeAtomically(String(decoding: try e.encode(value), as: UTF8.self), to: path)
    }

    /// The run's pictures: `templates.png` (every class template rendered to pixels with the
    /// expected translations), `reconstructions.png` (ten test digits over their top-down
    /// reconstructions), `samples.png` (four samples a class, switches at the measured rates)
    /// and `error-curve.png` (test error against the epoch, when there is one).
    public func writePictures(_ trainer: EGTrainer, test: ImageSet) throws {
        let net = trainer.network
        let (c, h, w) = (net.architecture.inputShape[0], net.architecture.inputShape[1], net.architecture.inputShape[2])
        let classes = net.architecture.classes
        let templates = try (0..<classes).map {
            try Generation.render(net, class: $0, nuisances: .expectedTranslation).map(Double.init)
        }
        try PNGImage.grid(templates, tileWidth: w, tileHeight: h, channels: c, columns: templates.count, scale: 3)
            .write(
                to: "\(directory)/templates.png")
        let k = min(10, test.count)
        let recon = try trainer.reconstructions(of: test, count: k)
        let d = c * h * w
        let originals = (0..<k).map { i in test.pixels[(i * d)..<((i + 1) * d)].map(Double.init) }
        try PNGImage.grid(
            originals + recon.map { $0.map(Double.init) }, tileWidth: w, tileHeight: h, channels: c, columns: k,
            scale: 3
        )
        .write(to: "\(directory)/reconstructions.png")
        let rng = RandomSource(seed: trainer.configuration.seed &+ 77)
        var samples: [[Double]] = []
        for c in 0..<classes {
            for _ in 0..<4 {
                samples.append(
                    try Generation.render(
                        net, class: c, nuisances: .sampled(switchRates: trainer.switchRates, rng: rng)
                    ).map(Double.init))
            }
        }
        try PNGImage.grid(samples, tileWidth: w, tileHeight: h, channels: c, columns: classes, scale: 2).write(
            to: "\(directory)/samples.png")
        let curve = trainer.history.compactMap { m in m.testError.map { (x: Double(m.epoch), y: 100 * $0) } }
        if !curve.isEmpty {
            let top = max(2, (curve.map(\.y).max() ?? 2).rounded(.up))
            try LinePlot.render([curve], yRange: 0...top).write(to: "\(directory)/error-curve.png")
        }
    }
}

/// What a run writes to `results.json`: its settings, final and best test errors, speed, peak
/// memory and the whole history.
public struct RunResults: Codable, Sendable {
    /// The architecture's name.
    public var model: String
    /// The training mode.
    public var mode: String
    /// Labeled training images.
    public var labels: Int
    /// Epochs of the run (both phases of `pretrain`).
    public var epochs: Int
    /// The run's seed.
    public var seed: UInt64
    /// Data-parallel workers.
    public var workers: Int
    /// OpenBLAS threads while training.
    public var blasThreads: Int
    /// Training images available.
    public var trainImages: Int
    /// Test images evaluated.
    public var testImages: Int
    /// The last evaluated test error.
    public var testError: Double?
    /// The lowest evaluated test error.
    public var bestTestError: Double?
    /// The weight-averaged teacher's (``MeanTeacher``).
    public var teacherTestError: Double?
    /// The teacher's lowest test error.
    public var bestTeacherTestError: Double?
    /// The first epoch whose test error was at most 1.5 %.
    public var epochsTo1_5Percent: Int?
    /// Wall-clock seconds of this invocation (a resumed run counts only its own).
    public var wallSecondsThisRun: Double
    /// Seconds spent training, over every epoch of the history.
    public var trainingSeconds: Double
    /// Mean training throughput over the epochs.
    public var meanImagesPerSecond: Double
    /// Peak resident memory of the process.
    public var peakResidentMegabytes: Double
    /// `xavier`, `he`, `from checkpoint` or `from <path>`.
    public var initialization: String
    /// The run's configuration.
    public var configuration: TrainingConfiguration
    /// Every epoch's metrics.
    public var history: [EpochMetrics]

    /// The results of `trainer`'s run so far, on `trainImages` training and `testImages` test
    /// images, `seconds` of wall clock in this invocation.
    public init(_ trainer: EGTrainer, trainImages: Int, testImages: Int, seconds: Double, initialization: String) {
        let c = trainer.configuration, history = trainer.history
        let errors = history.compactMap(\.testError), teacherErrors = history.compactMap(\.teacherTestError)
        (model, mode, labels, epochs, seed) = (
            trainer.network.architecture.name, c.mode.rawValue, trainer.labeledIndices.count,
            c.totalEpochs, c.seed
        )
        (workers, blasThreads, self.trainImages, self.testImages) = (
            c.workers, BLASInfo.threadCount, trainImages, testImages
        )
        (testError, bestTestError, teacherTestError, bestTeacherTestError) = (
            errors.last, errors.min(), teacherErrors.last, teacherErrors.min()
        )
        epochsTo1_5Percent = history.first { ($0.testError ?? 1) <= 0.015 }?.epoch
        (wallSecondsThisRun, trainingSeconds) = (seconds, history.map(\.seconds).reduce(0, +))
        meanImagesPerSecond = history.map(\.imagesPerSecond).reduce(0, +) / Double(max(1, history.count))
        peakResidentMegabytes = Double(Self.peakResidentBytes()) / 1_048_576
        (self.initialization, configuration, self.history) = (initialization, c, history)
    }

    /// Peak resident memory of this process, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

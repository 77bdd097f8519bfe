import Foundation
import NumericalCore

/// One epoch's record: loss terms (means over the epoch's steps), accuracy on the labelled
/// images seen, test error, speed, and how often each level's switches were ON.
public struct EpochMetrics: Codable, Equatable, Sendable {
    /// The epoch, counted from 1.
    public var epoch: Int
    /// `"supervised"`, `"semi"`, `"unsupervised"`, or the phase of `pretrain`.
    public var phase: String
    /// The epoch's learning rate (after the schedule).
    public var learningRate: Double
    /// Mean loss terms over the epoch's steps.
    public var loss: LossTerms
    /// Accuracy on the labelled training images seen (`nil` without labels).
    public var trainAccuracy: Double?
    /// Test error after the epoch (`nil` without a test set).
    public var testError: Double?
    /// The test error of the weight-averaged teacher (``MeanTeacher``),
    /// when there is one.
    public var teacherTestError: Double?
    /// Wall-clock seconds of the epoch.
    public var seconds: Double
    /// Training throughput over the epoch.
    public var imagesPerSecond: Double
    /// Per level, the fraction of switches ON.
    public var switchRates: [Double]
}

/// What the progress callback sees after every step.
public struct TrainingProgress: Sendable {
    /// The epoch, counted from 1.
    public var epoch: Int
    /// Epochs in the run (both phases of `pretrain`).
    public var totalEpochs: Int
    /// Steps done in this epoch.
    public var step: Int
    /// Steps in this epoch.
    public var steps: Int
    /// The current phase, as in ``EpochMetrics/phase``.
    public var phase: String
    /// Mean loss terms of the epoch so far.
    public var loss: LossTerms
    /// Training throughput so far.
    public var imagesPerSecond: Double
    /// Seconds since the epoch began.
    public var secondsElapsed: Double
}

/// The EG algorithm (spec §4.3): generalised EM whose G-step is one optimiser step along the
/// hand-written gradient of the DRMM objective, with the E-step's latent variables (switches,
/// translations, rendered class) held fixed. Data-parallel over `workers` cores and
/// deterministic given the seed and the worker count; every epoch's batches are drawn from
/// a generator seeded by `(seed, epoch)`, so a run resumed from a checkpoint is bit-identical
/// to one that never stopped.
///
/// Given a ``Communicator`` of several ranks (processes, possibly on other machines), the
/// `workers` shards of every batch are split across the ranks: every rank draws the same
/// batches, runs its shards, and the step's gradient is summed over the ranks in one
/// reduction, after which every rank takes the same optimiser step. The run depends on the
/// seed and `workers` alone, not on how the shards are spread: two ranks of one shard each
/// reproduce one process of two workers bit for bit (see ``Communicator`` for more ranks).
public final class EGTrainer {
    public internal(set) var network: RenderingNetwork<Float>
    /// The weight-averaged teacher (``MeanTeacher``): the student's
    /// architecture with the average of its parameters; `nil` without one.
    public internal(set) var teacher: RenderingNetwork<Float>?
    /// How the network is trained.
    public let configuration: TrainingConfiguration
    public private(set) var optimizerState: OptimizerState
    public private(set) var completedEpochs = 0
    public private(set) var history: [EpochMetrics] = []
    /// `p(a = ON)` per level as measured in the last epoch (used to sample from the model).
    public private(set) var switchRates: [Double]
    /// The labelled training images (`N_L` of them; all images when `labels` is 0).
    public let labeledIndices: [Int]
    let train: ImageSet
    let engine: DataParallelGradient<Float>
    /// The ranks of the job (one process by default).
    public let communicator: any Communicator
    /// The shards of every batch (of `configuration.workers`) that this rank runs.
    public var shards: Range<Int> { engine.mine }
    var batchPixels: [Float] = []
    var augmentationScratch: [Float] = []

    /// A trainer of `network` on `train`; throws if the configuration does not fit the data or
    /// the network has a non-finite parameter.
    ///
    /// With a `communicator` of several ranks, every rank must hold the same training set and
    /// configuration (checked: a rank that differs makes every rank throw), `workers` counts the
    /// shards of all ranks together (at least one per rank), and every rank starts from rank
    /// 0's `network`.
    public init(
        network: RenderingNetwork<Float>, configuration: TrainingConfiguration, train: ImageSet,
        communicator: any Communicator = SingleProcess()
    ) throws {
        try configuration.validate(trainingImages: train.count)
        guard configuration.workers >= communicator.size else {
            throw LearningError.invalidOption(
                "\(configuration.workers) shard(s) cannot be spread over \(communicator.size) ranks; give at least one "
                    + "worker per rank")
        }
        try network.validate()
        guard train.shape == network.architecture.inputShape else {
            throw LearningError.invalidData(
                "training images are \(train.shape), the model takes \(network.architecture.inputShape)")
        }
        for e in configuration.extensions.active { try e.validate(network: network, imageShape: train.shape) }
        let classes = network.architecture.classes
        if let bad = train.labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw LearningError.invalidData(
                "training label \(bad) is \(train.labels[bad]); the model has \(classes) classes")
        }
        var network = network
        if communicator.size > 1 {
            try communicator.requireAgreement(
                on: try Self.fingerprint(configuration, network.architecture, train), what: "the training run")
            try communicator.broadcast(&network.parameters, from: 0)
        }
        if configuration.nonnegativeUpperWeights { network.projectOntoNonnegativeUpperWeights() }
        self.network = network
        teacher = configuration.extensions.meanTeacher != nil ? network : nil
        self.configuration = configuration
        self.train = train
        optimizerState = OptimizerState(parameterCount: network.parameters.count)
        switchRates = [Double](repeating: 0.5, count: network.geometry.count)
        labeledIndices =
            configuration.labels == 0
            ? Array(0..<train.count)
            : try train.balancedSubset(configuration.labels, classes: classes, seed: configuration.seed ^ 0x5EED_1ABE1)
        self.communicator = communicator
        engine = DataParallelGradient(
            network: network, workers: configuration.workers, convolution: configuration.convolution,
            communicator: communicator)
    }

    /// Resumes from a checkpoint (same training set, same configuration).
    ///
    /// `configuration`, when given, replaces the checkpoint's; it may differ from it only in the
    /// execution options (`workers`, `convolution`), which change the rounding and nothing else.
    public convenience init(
        resuming c: Checkpoint, train: ImageSet, configuration: TrainingConfiguration? = nil,
        communicator: any Communicator = SingleProcess()
    ) throws {
        if let reason = c.problem() { throw LearningError.checkpoint(path: "", reason: reason) }
        var net = try RenderingNetwork<Float>(architecture: c.architecture)
        net.parameters = c.parameters
        if let configuration {
            var training = configuration  // everything but the execution options must match
            (training.workers, training.convolution) = (c.configuration.workers, c.configuration.convolution)
            guard training == c.configuration else {
                throw LearningError.checkpoint(
                    path: "",
                    reason:
                        "was written with other training options; only the workers and the convolution algorithm may "
                        + "change on resume"
                )
            }
        }
        try self.init(
            network: net, configuration: configuration ?? c.configuration, train: train, communicator: communicator)
        guard labeledIndices == c.labeledIndices else {
            throw LearningError.checkpoint(
                path: "", reason: "was trained on another labelled subset (different training set or seed)")
        }
        if let reason = c.teacherMismatch { throw LearningError.checkpoint(path: "", reason: reason) }
        if teacher != nil, let t = c.teacherParameters { teacher?.parameters = t }
        optimizerState = c.optimizerState
        completedEpochs = c.epoch
        history = c.history
        switchRates = c.switchRates
    }

    /// The phase of epoch `e` (0-based): its mode, objective, and position within the phase.
    func phase(ofEpoch e: Int) -> (mode: TrainingConfiguration.Mode, objective: Objective, index: Int, length: Int) {
        let c = configuration
        switch c.mode {
        case .pretrain:
            return e < c.pretrainEpochs
                ? (.unsupervised, c.pretrainObjective, e, c.pretrainEpochs)
                : (.supervised, c.objective, e - c.pretrainEpochs, c.epochs)
        default:
            return (c.mode, c.objective, e, c.epochs)
        }
    }

    /// The batches of epoch `e`: image indices and whether their labels are hidden.
    func batches(ofEpoch e: Int, mode: TrainingConfiguration.Mode) -> [(indices: [Int], labeled: Int)] {
        let rng = RandomSource(seed: configuration.seed ^ (UInt64(e + 1) &* 0x9E37_79B9_7F4A_7C15))
        let b = configuration.batchSize
        switch mode {
        case .supervised:
            var order = labeledIndices
            rng.shuffle(&order)
            return stride(from: 0, to: order.count, by: b).map { s in
                let chunk = Array(order[s..<min(order.count, s + b)]); return (chunk, chunk.count)
            }
        case .unsupervised, .pretrain:
            var order = Array(0..<train.count)
            rng.shuffle(&order)
            return stride(from: 0, to: order.count, by: b).map { (Array(order[$0..<min(order.count, $0 + b)]), 0) }
        case .semi:
            var order = Array(0..<train.count)
            rng.shuffle(&order)
            let half = b / 2, labelledPerStep = b - half
            var stream: [Int] = []
            var result: [(indices: [Int], labeled: Int)] = []
            for s in stride(from: 0, to: order.count, by: half) {
                while stream.count < labelledPerStep {
                    var perm = labeledIndices
                    rng.shuffle(&perm)
                    stream += perm
                }
                let l = stream.prefix(labelledPerStep)
                stream.removeFirst(labelledPerStep)
                result.append((Array(l) + order[s..<min(order.count, s + half)], labelledPerStep))
            }
            return result
        }
    }

    /// Runs the next epoch; evaluates on `test` afterwards when given.
    @discardableResult
    public func runEpoch(test: ImageSet? = nil, progress: ((TrainingProgress) -> Void)? = nil) throws -> EpochMetrics {
        let e = completedEpochs
        let total = configuration.totalEpochs
        guard e < total else { throw LearningError.invalidOption("all \(total) epochs are done") }
        let ph = phase(ofEpoch: e)
        if configuration.mode == .pretrain && e == configuration.pretrainEpochs {
            optimizerState = OptimizerState(parameterCount: network.parameters.count)  // fresh moments for fine-tuning
        }
        let rate = configuration.optimizer.rate(epoch: ph.index, of: ph.length)
        let plan = batches(ofEpoch: e, mode: ph.mode)
        let streams = EpochStreams(seed: configuration.seed, epoch: e)
        let extensions = configuration.extensions.active
        let start = Date()
        var sum = LossTerms(), images = 0
        var on = [Int](repeating: 0, count: network.geometry.count)
        let perImageUnits = network.geometry.map { $0.pooled.reduce(1, *) }
        let decayed = network.layout.filters + [network.layout.classTemplates]
        for (index, batch) in plan.enumerated() {
            // A rank of a distributed step reads only its own rows, unless an extension
            // transforms or infers on the whole batch first.
            let whole =
                !engine.distributed || configuration.extensions.augmentation != nil
                || configuration.extensions.pseudoLabels != nil
            var labels =
                whole
                ? train.gather(batch.indices[...], hideLabels: false, into: &batchPixels)
                : train.gather(batch.indices[...], rows: engine.localRows(batch.indices.count), into: &batchPixels)
            var step = TrainingStep(
                epoch: e, stepInPhase: ph.index * plan.count + index,
                pretraining: configuration.mode == .pretrain && e < configuration.pretrainEpochs,
                objective: ph.objective, images: [], labeled: batch.labeled, truth: labels, targets: nil,
                streams: streams)
            swap(&step.images, &batchPixels)
            for i in batch.labeled..<labels.count { labels[i] = -1 }
            for x in extensions { try x.prepare(&step, self) }
            var gradient: [Float]? = []
            var predictions: [Int] = []
            var terms = try engine.evaluate(
                network, images: step.images, labels: labels, objective: step.objective,
                gradient: &gradient, predictions: &predictions, pseudoTargets: step.targets)
            swap(&step.images, &batchPixels)
            guard terms.total.isFinite, let g = gradient else {
                throw LearningError.diverged("epoch \(e + 1), step \(index + 1): the loss is \(terms.total)")
            }
            optimizerState.apply(
                configuration.optimizer, rate: rate, parameters: &network.parameters, gradient: g, decayed: decayed)
            if configuration.nonnegativeUpperWeights { network.projectOntoNonnegativeUpperWeights() }
            if network.architecture.normalization.isBatch { updateRunningStatistics(engine.batchStatistics) }
            for x in extensions { x.update(step, terms: &terms, self) }
            sum = sum + terms
            images += labels.count
            for (l, c) in engine.switchesOn.enumerated() { on[l] += c }
            if let progress {
                let secs = Date().timeIntervalSince(start)
                progress(
                    TrainingProgress(
                        epoch: e + 1, totalEpochs: total, step: index + 1, steps: plan.count,
                        phase: phaseName(ph.mode), loss: mean(sum, steps: index + 1),
                        imagesPerSecond: Double(images) / max(secs, 1e-9), secondsElapsed: secs))
            }
        }
        if let bad = network.parameters.firstIndex(where: { !$0.isFinite }) {
            throw LearningError.diverged(
                "epoch \(e + 1): parameter \(bad)\(network.describe(index: bad)) is \(network.parameters[bad])")
        }
        for x in extensions { try x.finishEpoch(e, self) }
        let seconds = Date().timeIntervalSince(start)
        switchRates = zip(on, perImageUnits).map { Double($0) / Double(max(1, images * $1)) }
        var m = EpochMetrics(
            epoch: e + 1, phase: phaseName(ph.mode), learningRate: rate, loss: mean(sum, steps: plan.count),
            trainAccuracy: sum.labeled > 0 ? Double(sum.correct) / Double(sum.labeled) : nil,
            testError: nil, seconds: seconds, imagesPerSecond: Double(images) / max(seconds, 1e-9),
            switchRates: switchRates)
        if let test {
            m.testError = try evaluate(test).error
            if let teacher {
                m.teacherTestError = try Evaluation.classify(
                    teacher, test, workers: configuration.workers, convolution: configuration.convolution,
                    communicator: communicator
                ).error
            }
        }
        completedEpochs += 1
        history.append(m)
        return m
    }

    private func phaseName(_ m: TrainingConfiguration.Mode) -> String { m.rawValue }

    /// Momentum of the running batch-normalisation statistics: `r ← (1 − α) r + α b`.
    public static let statisticsMomentum: Float = 0.1

    private func updateRunningStatistics(_ batch: [[Float]]) {
        let a = Self.statisticsMomentum
        for (l, range) in network.layout.statistics.enumerated() {
            for (i, j) in range.enumerated() {
                network.parameters[j] = (1 - a) * network.parameters[j] + a * batch[l][i]
            }
        }
    }

    private func mean(_ s: LossTerms, steps: Int) -> LossTerms {
        var m = s
        let k = Double(max(1, steps))
        m.crossEntropy /= k; m.reconstruction /= k; m.classPosterior /= k; m.nonnegativity /= k; m.classBalance /= k;
        m.pseudoLabel /= k; m.total /= k
        return m
    }

    /// Test error and predictions of the current network on `set`.
    public func evaluate(_ set: ImageSet, batchSize: Int = 100) throws -> (error: Double, predictions: [Int]) {
        try Evaluation.classify(
            network, set, batchSize: batchSize, workers: configuration.workers, convolution: configuration.convolution,
            communicator: communicator)
    }

    /// Reconstructions `Î` of the first `count` images of `set` (class: the label).
    public func reconstructions(of set: ImageSet, count: Int) throws -> [[Float]] {
        try Evaluation.reconstruct(
            network, set, count: count, workers: configuration.workers, convolution: configuration.convolution)
    }

    /// The state to write to disk.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            architecture: network.architecture, configuration: configuration, parameters: network.parameters,
            optimizerState: optimizerState, epoch: completedEpochs, labeledIndices: labeledIndices,
            history: history, switchRates: switchRates, teacherParameters: teacher?.parameters)
    }
}

extension EGTrainer {
    /// The values a distributed step sums over the ranks in its one reduction for `network`:
    /// the gradient, the seven loss terms, four counts and the ON switches of every level (two
    /// values each), and the batch-normalisation statistics (two per channel of every level).
    public static func reducedValuesPerStep(_ network: RenderingNetwork<Float>) -> Int {
        network.parameters.count + 7 + 2 * (4 + network.geometry.count)
            + network.layout.statistics.reduce(0) { $0 + $1.count }
    }

    /// What every rank of a distributed run must agree on: the configuration and architecture
    /// (as sorted JSON) and a 64-bit checksum of the training images and labels.
    static func fingerprint(_ c: TrainingConfiguration, _ a: Architecture, _ train: ImageSet) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        var h = Checksum()
        for x in train.pixels { h.add(UInt64(x.bitPattern)) }
        for y in train.labels { h.add(UInt64(bitPattern: Int64(y))) }
        return String(decoding: try e.encode(c), as: UTF8.self) + "\n"
            + String(decoding: try e.encode(a), as: UTF8.self)
            + "\n\(train.count) images \(train.shape), checksum \(h.hex)"
    }
}

import NumericalCore

/// A training technique beyond the paper's EG, run by ``EGTrainer`` at three points: before a
/// step's gradient (``prepare(_:_:)``: the step's objective, targets and images), after the
/// optimiser's update (``update(_:terms:_:)``), and at the end of an epoch (``finishEpoch(_:_:)``).
/// Every hook does nothing unless an extension says otherwise, so the trainer's own loop is the
/// paper's EG and reads as it.
protocol TrainingExtension: Sendable {
    /// Throws if a setting is out of range for this network and data.
    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws
    /// Before the gradient of a step.
    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws
    /// After the optimiser has updated the network.
    func update(_ step: TrainingStep, terms: inout LossTerms, _ trainer: EGTrainer)
    /// At the end of epoch `e` (0-based), before any evaluation.
    func finishEpoch(_ e: Int, _ trainer: EGTrainer) throws
}

extension TrainingExtension {
    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {}
    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws {}
    func update(_ step: TrainingStep, terms: inout LossTerms, _ trainer: EGTrainer) {}
    func finishEpoch(_ e: Int, _ trainer: EGTrainer) throws {}
}

/// One step as the extensions see it.
struct TrainingStep {
    /// The epoch (0-based) and the step's index within its phase (for schedules).
    let epoch: Int, stepInPhase: Int
    /// Whether the step belongs to the unsupervised first phase of `pretrain`.
    let pretraining: Bool
    /// The step's objective: the phase's, then as the extensions change it.
    var objective: Objective
    /// The images `[N, C, H, W]`; the first `labeled` carry their labels.
    var images: [Float]
    let labeled: Int
    /// The true labels of the batch (the unlabelled images' too: counted, never trained on).
    let truth: [Int]
    /// Pseudo-label targets `[N, K]`, when an extension sets them.
    var targets: [Float]?
    /// Random streams of the epoch, seeded by `(seed, epoch)` and shared by its steps.
    let streams: EpochStreams
}

/// The random streams of one epoch, created on first use from the run's seed, the epoch and a
/// stream's own salt, and drawn in step order: a resumed run draws what it would have drawn.
final class EpochStreams: @unchecked Sendable {
    private let seed: UInt64, epoch: Int
    private var streams: [UInt64: RandomSource] = [:]

    init(seed: UInt64, epoch: Int) { (self.seed, self.epoch) = (seed, epoch) }

    /// The stream of `salt` whose epoch multiplier is `multiplier`.
    func stream(salt: UInt64, multiplier: UInt64) -> RandomSource {
        if let s = streams[salt] { return s }
        let s = RandomSource(seed: seed ^ salt ^ (UInt64(epoch + 1) &* multiplier))
        streams[salt] = s
        return s
    }
}

/// The techniques beyond the paper that a run uses, each `nil` when off. They run in the
/// order listed: the class balance and pseudo-labels set their terms, the pseudo-label
/// targets come from the images as drawn, the augmentations then move the images, and the
/// ramp-up scales the class-posterior terms last.
public struct TrainingExtensions: Codable, Equatable, Sendable {
    /// The class-balance term `α_B·KL(q̄ ‖ U)`.
    public var classBalance: ClassBalance?
    /// The pseudo-label term `α_PL·L_PL` of confident unlabelled images.
    public var pseudoLabels: PseudoLabels?
    /// Random translations, rotations and scalings of the training images.
    public var augmentation: Augmentation?
    /// The ramp-up of the class-posterior terms.
    public var rampUp: RampUp?
    /// A weight-averaged teacher.
    public var meanTeacher: MeanTeacher?
    /// Batch-normalisation statistics recomputed at the end of every epoch.
    public var recalibration: Recalibration?

    /// No extension: the paper's EG.
    public init() {}

    /// The extensions that are on, in the order they run.
    var active: [any TrainingExtension] {
        let all: [(any TrainingExtension)?] = [
            classBalance, pseudoLabels, augmentation, rampUp, meanTeacher, recalibration
        ]
        return all.compactMap { $0 }
    }
}

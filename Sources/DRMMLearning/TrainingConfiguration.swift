import NumericalCore
import Foundation

/// What to train and how: the mode (which images carry labels), the objective, the
/// optimiser, the batch and the seed.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// Which images carry labels, and when.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Labelled images only (the first `labels` of a class-balanced draw, or all).
        case supervised
        /// Every step: half a batch of labelled images and half of unlabelled ones (spec §4.5).
        case semi
        /// No labels: the class rendered top-down is the current argmax (spec §4.6 step 1).
        case unsupervised
        /// `pretrainEpochs` unsupervised, then `epochs` supervised on the labelled images (spec §4.6).
        case pretrain
    }

    /// Supervised, semi-supervised, unsupervised, or pre-training then fine-tuning.
    public var mode: Mode
    /// `N_L`; 0 means every training image is labelled (supervised and pretrain only).
    public var labels: Int
    /// Epochs to train (the fine-tuning epochs of `pretrain`).
    public var epochs: Int
    /// Unsupervised epochs before fine-tuning (mode `pretrain`).
    public var pretrainEpochs: Int
    /// Images per step.
    public var batchSize: Int
    /// The weights of the objective's terms.
    public var objective: Objective
    /// The objective of the unsupervised phase of `pretrain` (reconstruction and
    /// nonnegativity only).
    public var pretrainObjective: Objective
    /// The G-step's optimiser.
    public var optimizer: Optimizer
    /// Seeds every draw of the run: initial batches, labelled subset, augmentations.
    public var seed: UInt64
    /// Data-parallel shards (one per core). Results are deterministic given this and `seed`.
    public var workers: Int
    /// How the convolutions are computed. The choice changes rounding only, but a resumed run
    /// keeps it so that it stays bit-identical.
    public var convolution: ConvolutionAlgorithm
    /// Steps over which the weights of the terms on the class posterior (`α_KL`, `α_B`) ramp up
    /// from near 0 to their value, by `exp(−5 (1 − t/T)²)` (0: no ramp). The labels alone shape
    /// the classifier at first, and the unlabelled images' own predictions count more as it
    /// learns. Counted within a phase, so a pre-training phase does not use it up.
    public var rampUpSteps: Int = 0
    /// The largest random shift, in pixels along either axis, applied to every training image
    /// of a step (0: none; `RandomTranslation`). Data augmentation, not in the paper. The shifts
    /// are drawn from a generator seeded by `(seed, epoch)`, so a resumed run stays bit-identical.
    public var translation: Int = 0
    /// The largest random rotation, in degrees either way, and relative change of size applied
    /// to every training image of a step before its translation (0: none; `RandomDeformation`).
    /// Data augmentation, not in the paper; drawn, like the shifts, from a generator seeded by
    /// `(seed, epoch)`.
    public var rotation: Double = 0
    /// The largest relative change of size (see ``rotation``).
    public var scaling: Double = 0
    /// Batches of training images, as they are (no translations or deformations), from which
    /// the running statistics of batch normalisation are recomputed at the end of every epoch
    /// with the epoch's final parameters (0: keep the running averages; at most one epoch's
    /// worth). The running averages trail the parameters by the last few dozen steps and come
    /// from the augmented images; early in a run, while the parameters move fast, they can be
    /// far from the statistics the network now produces on unmoved digits, and the test error
    /// measured with them says little. The images are drawn from a generator seeded by
    /// `(seed, epoch)`, so a resumed run stays bit-identical. Needs batch normalisation.
    public var recalibrationBatches: Int = 0
    /// The decay `α` of a weight-averaged teacher (a mean teacher; Tarvainen and Valpola, 2017;
    /// not in the paper), 0 for none. After every step the teacher's parameters `θ'`, running
    /// statistics included, follow the student's `θ`: `θ' ← α_t θ' + (1 − α_t) θ` with
    /// `α_t = min(α, 1 − 1/t)` at the optimiser's step `t` (counted from 1; afresh, with the
    /// teacher, where the optimiser starts afresh: a fine-tuning phase), so the teacher is the
    /// plain mean of the student's iterates until that mean's weight reaches `α`, and an
    /// exponential average after. The pseudo-label targets come from the teacher, and every
    /// evaluation measures both. In `[0, 1)`.
    public var teacherDecay: Double = 0
    /// Keeps everything the theorem's condition E2 needs nonnegative: after every step (and at
    /// the start) the filters of levels ℓ ≥ 2, the class templates and the batch-normalisation
    /// scales `γ` (which fold into the filters) are projected onto `[0, ∞)`. A network trained
    /// so is exactly max-sum inference in the DRMM it folds into (``NetworkCertificate``).
    public var nonnegativeUpperWeights = false

    /// The factor of the class-posterior weights at step `t` of a phase.
    public func rampUpFactor(step t: Int) -> Double {
        guard rampUpSteps > 0, t < rampUpSteps else { return 1 }
        let r = 1 - Double(t) / Double(rampUpSteps)
        return exp(-5 * r * r)
    }

    /// A configuration (supervised cross-entropy with Adam by default); ``validate(trainingImages:limits:)``
    /// checks it against the data.
    public init(mode: Mode = .supervised, labels: Int = 0, epochs: Int = 10, pretrainEpochs: Int = 0, batchSize: Int = 100,
                objective: Objective = .supervised, pretrainObjective: Objective = Objective(crossEntropy: 0, reconstruction: 1),
                optimizer: Optimizer = Optimizer(), seed: UInt64 = 1, workers: Int = 2,
                convolution: ConvolutionAlgorithm = .winograd) {
        self.mode = mode
        self.labels = labels
        self.epochs = epochs
        self.pretrainEpochs = pretrainEpochs
        self.batchSize = batchSize
        self.objective = objective
        self.pretrainObjective = pretrainObjective
        self.optimizer = optimizer
        self.seed = seed
        self.workers = workers
        self.convolution = convolution
    }

    /// Checks the options against a training set of `n` images.
    public func validate(trainingImages n: Int, limits: ResourceLimits = .standard) throws {
        guard epochs >= 0, pretrainEpochs >= 0 else { throw LearningError.invalidOption("epochs must be non-negative") }
        guard batchSize >= 2 else { throw LearningError.invalidOption("batch size must be at least 2, got \(batchSize)") }
        guard rampUpSteps >= 0 else { throw LearningError.invalidOption("the ramp-up must be a non-negative number of steps, got \(rampUpSteps)") }
        guard recalibrationBatches >= 0 else {
            throw LearningError.invalidOption("the recalibration must be a non-negative number of batches, got \(recalibrationBatches)")
        }
        guard teacherDecay >= 0 && teacherDecay < 1 else {
            throw LearningError.invalidOption("the teacher's decay must be in [0, 1), got \(teacherDecay)")
        }
        _ = try RandomTranslation(maximumShift: translation)
        _ = try RandomDeformation(maximumRotation: rotation, maximumScaling: scaling)
        guard workers >= 1 else { throw LearningError.invalidOption("workers must be at least 1, got \(workers)") }
        guard workers <= limits.workers else {
            throw LearningError.invalidOption("\(workers) workers is above the limit of \(limits.workers) (raise it with --limit workers=N)")
        }
        guard batchSize <= limits.images else { throw LearningError.invalidOption("batch size \(batchSize) is above the image limit \(limits.images)") }
        guard epochs <= 1_000_000, pretrainEpochs <= 1_000_000 else { throw LearningError.invalidOption("at most 1,000,000 epochs per phase, got \(epochs) and \(pretrainEpochs)") }
        guard labels >= 0 else { throw LearningError.invalidOption("the number of labels must be non-negative, got \(labels)") }
        guard labels <= n else { throw LearningError.invalidOption("asked for \(labels) labelled images, the training set has \(n)") }
        if mode == .semi && labels == 0 { throw LearningError.invalidOption("semi-supervised training needs --labels N > 0") }
        if mode == .pretrain && pretrainEpochs == 0 { throw LearningError.invalidOption("mode pretrain needs --pretrain-epochs > 0") }
        for (name, o) in [("objective", objective), ("pretraining objective", pretrainObjective)] {
            for (term, w) in [("cross-entropy", o.crossEntropy), ("reconstruction", o.reconstruction),
                              ("class-posterior", o.classPosterior), ("nonnegativity", o.nonnegativity),
                              ("class-balance", o.classBalance), ("pseudo-label", o.pseudoLabel)] where !(w >= 0 && w.isFinite) {
                throw LearningError.invalidOption("\(name): the \(term) weight must be a non-negative number, got \(w)")
            }
            guard o.pseudoLabelThreshold >= 0 && o.pseudoLabelThreshold <= 1 else {
                throw LearningError.invalidOption("\(name): the pseudo-label threshold is a class posterior in [0, 1], got \(o.pseudoLabelThreshold)")
            }
            guard o.pseudoLabelTemperature >= 0 && o.pseudoLabelTemperature.isFinite else {
                throw LearningError.invalidOption("\(name): the pseudo-label temperature must be a non-negative number, got \(o.pseudoLabelTemperature)")
            }
        }
        try optimizer.validate()
    }

    /// All epochs of the run.
    public var totalEpochs: Int { (mode == .pretrain ? pretrainEpochs : 0) + epochs }
}

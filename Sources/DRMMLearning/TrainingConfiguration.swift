import NumericalCore
import Foundation

/// What to train and how, as the paper's EG has it: the mode (which images carry labels), the
/// objective, the optimiser, the batch and the seed. What goes beyond the paper — augmentations,
/// pseudo-labels, a mean teacher, recalibrated statistics, a ramp-up, class balance — is in
/// ``extensions``, each off unless set.
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
    /// Keeps everything the theorem's condition E2 needs nonnegative: after every step (and at
    /// the start) the filters of levels ℓ ≥ 2, the class templates and the batch-normalisation
    /// scales `γ` (which fold into the filters) are projected onto `[0, ∞)`. A network trained
    /// so is exactly max-sum inference in the DRMM it folds into (``NetworkCertificate``).
    public var nonnegativeUpperWeights = false

    /// The techniques beyond the paper that the run uses (none by default).
    public var extensions = TrainingExtensions()

    /// A configuration (supervised cross-entropy with Adam by default); ``validate(trainingImages:limits:)``
    /// checks it against the data.
    public init(
        mode: Mode = .supervised, labels: Int = 0, epochs: Int = 10, pretrainEpochs: Int = 0, batchSize: Int = 100,
        objective: Objective = .supervised,
        pretrainObjective: Objective = Objective(crossEntropy: 0, reconstruction: 1),
        optimizer: Optimizer = Optimizer(), seed: UInt64 = 1, workers: Int = 2,
        convolution: ConvolutionAlgorithm = .winograd
    ) {
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
        guard batchSize >= 2 else {
            throw LearningError.invalidOption("batch size must be at least 2, got \(batchSize)")
        }
        guard workers >= 1 else { throw LearningError.invalidOption("workers must be at least 1, got \(workers)") }
        guard workers <= limits.workers else {
            throw LearningError.invalidOption(
                "\(workers) workers is above the limit of \(limits.workers) (raise it with --limit workers=N)")
        }
        guard batchSize <= limits.images else {
            throw LearningError.invalidOption("batch size \(batchSize) is above the image limit \(limits.images)")
        }
        guard epochs <= 1_000_000, pretrainEpochs <= 1_000_000 else {
            throw LearningError.invalidOption("at most 1,000,000 epochs per phase, got \(epochs) and \(pretrainEpochs)")
        }
        guard labels >= 0 else {
            throw LearningError.invalidOption("the number of labels must be non-negative, got \(labels)")
        }
        guard labels <= n else {
            throw LearningError.invalidOption("asked for \(labels) labelled images, the training set has \(n)")
        }
        if mode == .semi && labels == 0 {
            throw LearningError.invalidOption("semi-supervised training needs --labels N > 0")
        }
        if mode == .pretrain && pretrainEpochs == 0 {
            throw LearningError.invalidOption("mode pretrain needs --pretrain-epochs > 0")
        }
        for (name, o) in [("objective", objective), ("pretraining objective", pretrainObjective)] {
            for (term, w) in [
                ("cross-entropy", o.crossEntropy), ("reconstruction", o.reconstruction),
                ("class-posterior", o.classPosterior), ("nonnegativity", o.nonnegativity)
            ] where !(w >= 0 && w.isFinite) {
                throw LearningError.invalidOption("\(name): the \(term) weight must be a non-negative number, got \(w)")
            }
            guard o.classBalance == 0, o.pseudoLabel == 0 else {
                throw LearningError.invalidOption(
                    "\(name): the class-balance and pseudo-label terms are set by extensions.classBalance and "
                        + "extensions.pseudoLabels"
                )
            }
        }
        try optimizer.validate()
    }

    /// All epochs of the run.
    public var totalEpochs: Int { (mode == .pretrain ? pretrainEpochs : 0) + epochs }
}

/// The terms of the DRMM learning objective (spec §4.4) and their weights:
///
/// `L = α_CE·L_CE + α_RC·L_RC + α_KL·L_KL + α_NN·L_NN + α_B·L_B + α_PL·L_PL`, where
/// - `L_CE = −(1/N_L) Σ_{labelled} ln q(c_n | I_n)`, with `q` the softmax of the class scores;
/// - `L_RC = (1/(N·D)) Σ_n ‖I_n − Î_n‖²`, the image-level reconstruction of the top-down pass
///   (the Gaussian complete-data negative log-likelihood up to constants);
/// - `L_KL = ±(1/N) Σ_n KL(q(·|I_n) ‖ U)`, the class-posterior term against the uniform prior,
///   with its sign an option (see ``ClassPosteriorSign``);
/// - `L_NN = Σ_ℓ mean(ReLU(−z̃⁽ˡ⁾)²)`, the NN-DRMM's nonnegativity penalty on the top-down
///   signal of every level before the switch and translation masks. (Unpooling by repetition
///   does not change a mean, so it is taken on the pooled signal `z⁽ˡ⁾` itself.)
/// - `L_B = KL(q̄ ‖ U) = Σ_c q̄_c ln(C q̄_c)`, with `q̄ = (1/N) Σ_n q(·|I_n)` the batch's mean
///   class posterior: a class-balance term. It is not in the paper. Entropy minimisation alone
///   is content to send a whole cluster of unlabelled images to a neighbouring class; this term
///   keeps the batch's predicted class frequencies near the uniform prior, as in the
///   mutual-information objectives of discriminative clustering (RIM, IMSAT), where
///   `L_KL + L_B` (entropy-minimisation sign) is minus the mutual information between image and
///   class, estimated on the batch.
/// - `L_PL = −(1/N) Σ_{unlabelled n, q(ĉ_n | I_n) ≥ τ} Σ_c t_nc ln q(c | Ĩ_n)`, a pseudo-label
///   term, not in the paper either. `q(· | I_n)` is the class posterior the current model infers
///   for the unlabelled image `I_n` as it is (max-sum, running normalisation statistics, no
///   gradient) and `ĉ_n` its most probable class; an image takes part when `q(ĉ_n | I_n)`
///   reaches the threshold `τ`. `Ĩ_n` is the image the step trains on, `I_n` moved by its random
///   translation and, if asked, rotation and scaling (``Augmentation``). The target
///   `t_n` is the posterior sharpened by a temperature `T`: `t_nc ∝ q(c | I_n)^{1/T}`, which
///   at `T = 0` (the default) is the one-hot `ĉ_n`, a hard pseudo-label, and at `T = 1` the
///   posterior itself. The class is a latent variable that a nuisance must not change; this
///   term asks the network to give the moved image the class of the unmoved one — the
///   pseudo-labelling of FixMatch (`T = 0`) or, with soft targets, the consistency of UDA and
///   the Π-model. Without any augmentation it is plain self-training.
public struct Objective: Codable, Equatable, Sendable {
    /// The sign of the class-posterior term.
    public enum ClassPosteriorSign: String, Codable, Sendable, CaseIterable {
        /// `−KL(q ‖ U) = H(q) − ln C` is *added*: entropy minimisation, which makes predictions
        /// on unlabelled images confident. This is what the authors' code optimises (spec §4.4).
        case entropyMinimisation
        /// `+KL(q ‖ U)`: the textbook ELBO regulariser, which pulls `q` toward the prior.
        case klToPrior
    }

    /// `α_CE`, the weight of the labelled images' cross-entropy.
    public var crossEntropy: Double
    /// `α_RC`, the weight of the reconstruction error `‖I − Î‖²`.
    public var reconstruction: Double
    /// `α_KL`, the weight of the term on the class posterior of every image.
    public var classPosterior: Double
    /// Which way the class-posterior term pulls.
    public var classPosteriorSign: ClassPosteriorSign
    /// `α_NN`, the weight of the penalty on negative intermediate templates.
    public var nonnegativity: Double
    /// `α_B`, the weight of the class-balance term: set for each step by the ``ClassBalance``
    /// extension (0 in the paper's objective, and not stored with it).
    public var classBalance: Double = 0
    /// `α_PL`, the weight of the pseudo-label term: set for each step by the ``PseudoLabels``
    /// extension (0 in the paper's objective, and not stored with it).
    public var pseudoLabel: Double = 0

    private enum CodingKeys: String, CodingKey {
        case crossEntropy, reconstruction, classPosterior, classPosteriorSign, nonnegativity
    }

    /// An objective with these weights (cross-entropy alone by default). A training
    /// configuration takes the paper's terms only; `classBalance` and `pseudoLabel` are for a
    /// pass run by hand, and a run sets them through its ``TrainingExtensions``.
    public init(
        crossEntropy: Double = 1, reconstruction: Double = 0, classPosterior: Double = 0,
        classPosteriorSign: ClassPosteriorSign = .entropyMinimisation, nonnegativity: Double = 0,
        classBalance: Double = 0, pseudoLabel: Double = 0
    ) {
        self.crossEntropy = crossEntropy
        self.reconstruction = reconstruction
        self.classPosterior = classPosterior
        self.classPosteriorSign = classPosteriorSign
        self.nonnegativity = nonnegativity
        self.classBalance = classBalance
        self.pseudoLabel = pseudoLabel
    }

    /// The objective with the weights of the terms on the class posterior (`α_KL`, `α_B`)
    /// multiplied by `factor` (a ramp-up). The pseudo-label term is not ramped: its threshold
    /// keeps it silent until the model is confident.
    public func scalingClassPosteriorTerms(by factor: Double) -> Objective {
        var o = self
        o.classPosterior *= factor
        o.classBalance *= factor
        return o
    }

    /// Whether the top-down (reconstruction) pass contributes.
    public var needsTopDown: Bool { reconstruction != 0 || nonnegativity != 0 }

    /// Supervised: cross-entropy only (the authors' `is_sup` runs).
    public static let supervised = Objective()
}

/// The value of each term on a batch (unweighted), and the weighted total.
public struct LossTerms: Codable, Equatable, Sendable {
    /// Cross-entropy of the labelled images.
    public var crossEntropy = 0.0
    /// Mean squared reconstruction error per pixel.
    public var reconstruction = 0.0
    /// The class-posterior term.
    public var classPosterior = 0.0
    /// Mean squared negative part of the intermediate templates.
    public var nonnegativity = 0.0
    /// `KL(q̄ ‖ U)` of the batch's mean class posterior (reported whatever its weight).
    public var classBalance = 0.0
    /// `L_PL`, over the images that had a pseudo-label.
    public var pseudoLabel = 0.0
    /// The weighted sum the G-step descends.
    public var total = 0.0
    /// Images whose argmax class equals their label, among the labelled ones.
    public var correct = 0
    /// Labelled images in the batch.
    public var labeled = 0
    /// Unlabelled images that had a pseudo-label, and those of them whose pseudo-label (the
    /// most probable class of a soft target) is their true class (the training set knows it;
    /// training never reads it).
    public var pseudoLabeled = 0
    /// Pseudo-labelled images whose pseudo-label is their true class.
    public var pseudoLabeledCorrectly = 0

    /// All terms zero.
    public init() {}

    static func + (a: LossTerms, b: LossTerms) -> LossTerms {
        var s = LossTerms()
        s.crossEntropy = a.crossEntropy + b.crossEntropy
        s.reconstruction = a.reconstruction + b.reconstruction
        s.classPosterior = a.classPosterior + b.classPosterior
        s.nonnegativity = a.nonnegativity + b.nonnegativity
        s.classBalance = a.classBalance + b.classBalance
        s.pseudoLabel = a.pseudoLabel + b.pseudoLabel
        s.total = a.total + b.total
        s.correct = a.correct + b.correct
        s.labeled = a.labeled + b.labeled
        s.pseudoLabeled = a.pseudoLabeled + b.pseudoLabeled
        s.pseudoLabeledCorrectly = a.pseudoLabeledCorrectly + b.pseudoLabeledCorrectly
        return s
    }
}

/// The pseudo-label term `α_PL·L_PL` of ``Objective`` (not in the paper): every unlabelled
/// image whose inferred class reaches the posterior `threshold` is trained toward that class
/// (sharpened by `temperature`), inferred from the image as drawn — before any augmentation —
/// by the mean teacher when there is one, by the network otherwise. Off in the unsupervised
/// first phase of `pretrain`.
public struct PseudoLabels: TrainingExtension, Codable, Equatable, Sendable {
    /// `α_PL`.
    public var weight: Double
    /// `τ`, the class posterior an unlabelled image's inferred class needs to serve as its
    /// pseudo-label.
    public var threshold: Double
    /// `T`, the temperature that sharpens the posterior into the target: 0 for the one-hot
    /// class, 1 for the posterior itself.
    public var temperature: Double

    /// Pseudo-labels of weight `weight` where the posterior reaches `threshold`, sharpened by
    /// `temperature`.
    public init(weight: Double, threshold: Double = 0.95, temperature: Double = 0) {
        (self.weight, self.threshold, self.temperature) = (weight, threshold, temperature)
    }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        guard weight >= 0, weight.isFinite else {
            throw LearningError.invalidOption("the pseudo-label weight must be a non-negative number, got \(weight)")
        }
        guard threshold >= 0 && threshold <= 1 else {
            throw LearningError.invalidOption(
                "the pseudo-label threshold is a class posterior in [0, 1], got \(threshold)")
        }
        guard temperature >= 0 && temperature.isFinite else {
            throw LearningError.invalidOption(
                "the pseudo-label temperature must be a non-negative number, got \(temperature)")
        }
    }

    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws {
        guard !step.pretraining, weight > 0, step.labeled < step.truth.count else { return }
        step.objective.pseudoLabel = weight
        step.targets = try trainer.pseudoTargets(
            step.images, from: step.labeled, threshold: threshold, temperature: temperature)
    }

    func update(_ step: TrainingStep, terms: inout LossTerms, _ trainer: EGTrainer) {
        guard let targets = step.targets else { return }
        terms.pseudoLabeledCorrectly =
            EGTrainer.targetClasses(targets, classes: trainer.network.architecture.classes)
            .enumerated().filter { $0.element >= 0 && $0.element == step.truth[$0.offset] }.count
    }
}

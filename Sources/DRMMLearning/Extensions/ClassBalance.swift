/// The class-balance term `α_B·KL(q̄ ‖ U)` of ``Objective`` (not in the paper): it keeps the
/// batch's mean class posterior near the uniform prior, so that entropy minimisation cannot send
/// a cluster of unlabelled images to a neighbouring class. Off in the unsupervised first phase
/// of `pretrain`.
public struct ClassBalance: TrainingExtension, Codable, Equatable, Sendable {
    /// `α_B`.
    public var weight: Double

    /// The term with weight `weight` (≥ 0).
    public init(weight: Double) { self.weight = weight }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        guard weight >= 0, weight.isFinite else {
            throw LearningError.invalidOption("the class-balance weight must be a non-negative number, got \(weight)")
        }
    }

    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws {
        if !step.pretraining { step.objective.classBalance = weight }
    }
}

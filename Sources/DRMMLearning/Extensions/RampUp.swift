import Foundation

/// The weights of the terms on the class posterior (`α_KL`, `α_B`) ramped up from near 0 over
/// the first `steps` steps of a phase by `exp(−5 (1 − t/T)²)` (not in the paper): the labels
/// alone shape the classifier at first, and the unlabelled images' own predictions count more
/// as it learns. Counted within a phase, so a pre-training phase does not use it up.
public struct RampUp: TrainingExtension, Codable, Equatable, Sendable {
    /// `T`, the steps of the ramp.
    public var steps: Int

    /// A ramp over `steps` steps.
    public init(steps: Int) { self.steps = steps }

    /// The factor of the class-posterior weights at step `t` of a phase.
    public func factor(step t: Int) -> Double {
        guard steps > 0, t < steps else { return 1 }
        let r = 1 - Double(t) / Double(steps)
        return exp(-5 * r * r)
    }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        guard steps >= 0 else {
            throw LearningError.invalidOption("the ramp-up must be a non-negative number of steps, got \(steps)")
        }
    }

    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws {
        let f = factor(step: step.stepInPhase)
        if f != 1 { step.objective = step.objective.scalingClassPosteriorTerms(by: f) }
    }
}

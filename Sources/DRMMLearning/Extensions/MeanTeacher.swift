/// A weight-averaged teacher (a mean teacher; Tarvainen and Valpola, 2017; not in the paper).
/// After every step the teacher's parameters `θ'`, running statistics included, follow the
/// student's `θ`: `θ' ← α_t θ' + (1 − α_t) θ` with `α_t = min(α, 1 − 1/t)` at the optimiser's
/// step `t` (counted from 1; afresh, with the teacher, where the optimiser starts afresh: a
/// fine-tuning phase), so the teacher is the plain mean of the student's iterates until that
/// mean's weight reaches `α`, and an exponential average after. The pseudo-label targets come
/// from the teacher, and every evaluation measures both.
public struct MeanTeacher: TrainingExtension, Codable, Equatable, Sendable {
    /// `α`, in (0, 1).
    public var decay: Double

    /// A teacher of decay `decay`.
    public init(decay: Double) { self.decay = decay }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        guard decay > 0 && decay < 1 else {
            throw LearningError.invalidOption("the teacher's decay must be in (0, 1), got \(decay)")
        }
    }

    func update(_ step: TrainingStep, terms: inout LossTerms, _ trainer: EGTrainer) {
        trainer.updateTeacher(decay: decay)
    }
}

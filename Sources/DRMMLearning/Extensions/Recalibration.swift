/// The running statistics of batch normalisation recomputed at the end of every epoch, with
/// the epoch's final parameters, from `batches` batches of training images as they are (no
/// augmentation): each level's statistics are the mean over those batches of the batches' own
/// (per data-parallel shard, as training normalises). The running averages trail the
/// parameters by the last few dozen steps and come from augmented images; early in a run they
/// can be far from what the network now produces on unmoved digits. The images are drawn from
/// a generator seeded by `(seed, epoch)`, so a resumed run stays bit-identical; the teacher's
/// statistics are recomputed under its own parameters.
public struct Recalibration: TrainingExtension, Codable, Equatable, Sendable {
    /// Batches of the batch size (at most one epoch's worth).
    public var batches: Int

    /// Recalibration from `batches` batches.
    public init(batches: Int) { self.batches = batches }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        guard batches >= 1 else {
            throw LearningError.invalidOption("the recalibration must be a positive number of batches, got \(batches)")
        }
        guard network.architecture.normalization.isBatch else {
            throw LearningError.invalidOption(
                "recalibrating the running statistics needs batch normalisation; \(network.architecture.name) has none")
        }
    }

    func finishEpoch(_ e: Int, _ trainer: EGTrainer) throws {
        try trainer.recalibrateStatistics(epoch: e, batches: batches)
    }
}

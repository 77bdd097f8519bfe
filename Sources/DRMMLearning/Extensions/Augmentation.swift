/// Random deformations then translations of every training image of a step (data
/// augmentation; the paper's MNIST rows were trained without it). The draws come from streams
/// seeded by `(seed, epoch)`, so a resumed run stays bit-identical.
public struct Augmentation: TrainingExtension, Codable, Equatable, Sendable {
    /// The largest shift, in pixels along either axis (``RandomTranslation``).
    public var translation: Int
    /// The largest rotation, in degrees either way (``RandomDeformation``).
    public var rotation: Double
    /// The largest relative change of size (``RandomDeformation``).
    public var scaling: Double

    /// Shifts of up to `translation` pixels after rotations of up to `rotation` degrees and
    /// scalings of up to `scaling`.
    public init(translation: Int = 0, rotation: Double = 0, scaling: Double = 0) {
        (self.translation, self.rotation, self.scaling) = (translation, rotation, scaling)
    }

    func validate(network: RenderingNetwork<Float>, imageShape: [Int]) throws {
        _ = try RandomTranslation(maximumShift: translation)
        _ = try RandomDeformation(maximumRotation: rotation, maximumScaling: scaling)
        guard translation < min(imageShape[1], imageShape[2]) else {
            throw LearningError.invalidOption(
                "a translation of \(translation) pixels would shift \(imageShape[1])×\(imageShape[2]) images out of "
                    + "the frame"
            )
        }
    }

    func prepare(_ step: inout TrainingStep, _ trainer: EGTrainer) throws {
        let shape = trainer.network.architecture.inputShape
        try RandomDeformation(maximumRotation: rotation, maximumScaling: scaling)
            .apply(
                to: &step.images, scratch: &trainer.augmentationScratch, channels: shape[0], height: shape[1],
                width: shape[2],
                random: step.streams.stream(salt: 0xDEF0_4A11, multiplier: 0x94D0_49BB_1331_11EB))
        try RandomTranslation(maximumShift: translation)
            .apply(
                to: &step.images, scratch: &trainer.augmentationScratch, channels: shape[0], height: shape[1],
                width: shape[2],
                random: step.streams.stream(salt: 0x7A4E_5A7E, multiplier: 0xBF58_476D_1CE4_E5B9))
    }
}

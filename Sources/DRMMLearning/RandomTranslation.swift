import NumericalCore

/// Random translations of training images: each image of a batch is shifted by its own
/// `(dx, dy)`, drawn uniformly from `{−m, …, m}²`, and the pixels shifted in from outside
/// the frame are 0 (background).
///
/// In the DRMM a translation is a nuisance variable `t` (spec §2.5): the model renders a
/// class template at any position. Shifting the training images draws new images from the
/// same class under other values of that nuisance, which the max-pooling the model's
/// inference performs is only partly invariant to. This is data augmentation; the paper's
/// MNIST rows were trained without it.
public struct RandomTranslation: Sendable, Equatable {
    /// The largest shift `m`, in pixels, along either axis.
    public let maximumShift: Int

    /// Shifts of at most `maximumShift` pixels; throws if it is negative.
    public init(maximumShift: Int) throws {
        guard maximumShift >= 0 else {
            throw LearningError.invalidOption(
                "the translation must be a non-negative number of pixels, got \(maximumShift)")
        }
        self.maximumShift = maximumShift
    }

    /// Shifts `image` (`channels × height × width`, row-major) by `dx` columns right and `dy`
    /// rows down into `output`, filling the uncovered pixels with 0. Both buffers hold
    /// `channels·height·width` values (the callers' invariant).
    static func shift(
        _ image: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
        channels: Int, height: Int, width: Int, dx: Int, dy: Int
    ) {
        assert(image.count == channels * height * width && output.count == image.count)
        output.update(repeating: 0)
        let x0 = max(0, dx), x1 = min(width, width + dx)  // destination columns that have a source
        let y0 = max(0, dy), y1 = min(height, height + dy)
        guard x0 < x1, y0 < y1 else { return }
        for c in 0..<channels {
            let plane = c * height * width
            for y in y0..<y1 {
                let to = plane + y * width, from = plane + (y - dy) * width
                for x in x0..<x1 { output[to + x] = image[from + x - dx] }
            }
        }
    }

    /// Shifts each of the `pixels.count / (channels·height·width)` images in `pixels` in
    /// place, by shifts drawn from `random` (two draws per image: `dx`, then `dy`).
    /// `scratch` is reused between calls. Throws if `pixels` is not a whole number of images.
    public func apply(
        to pixels: inout [Float], scratch: inout [Float], channels: Int, height: Int, width: Int,
        random: RandomSource
    ) throws {
        guard maximumShift > 0 else {
            _ = try ImageAugmentation.imageLength(of: pixels, channels: channels, height: height, width: width)
            return
        }
        let span = 2 * maximumShift + 1
        try ImageAugmentation.transformEach(
            &pixels, scratch: &scratch, channels: channels, height: height, width: width
        ) { image, output in
            let dx = random.integer(below: span) - maximumShift
            let dy = random.integer(below: span) - maximumShift
            if dx == 0 && dy == 0 { return false }
            Self.shift(image, into: output, channels: channels, height: height, width: width, dx: dx, dy: dy)
            return true
        }
    }
}

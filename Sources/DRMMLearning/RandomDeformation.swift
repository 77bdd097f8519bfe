import Foundation
import NumericalCore

/// Random rotations and scalings of training images about their centre: each image of a batch
/// is turned by its own angle `θ`, drawn uniformly from `[−r, r]` degrees, and magnified by its
/// own factor `s`, drawn uniformly from `[1 − σ, 1 + σ]`, with bilinear interpolation and 0
/// (background) outside the frame.
///
/// The DRMM renders a class under translations and switch patterns (spec §2.5); a digit's slant
/// and size are variation it can only absorb in its templates and switches. Turning and scaling
/// the training images, as ``RandomTranslation`` shifts them, shows the model more of that
/// variation than the labelled images hold. This is data augmentation; the paper's MNIST rows
/// were trained without it.
public struct RandomDeformation: Sendable, Equatable {
    /// The largest rotation `r`, in degrees, either way.
    public let maximumRotation: Double
    /// The largest relative change of size `σ`: the factor is drawn from `[1 − σ, 1 + σ]`.
    public let maximumScaling: Double

    /// A deformation of at most `maximumRotation` degrees and `maximumScaling` relative size;
    /// throws outside `[0, 180]` and `[0, 1)`.
    public init(maximumRotation: Double, maximumScaling: Double) throws {
        guard maximumRotation >= 0 && maximumRotation <= 180 else {
            throw LearningError.invalidOption("the rotation must be between 0 and 180 degrees, got \(maximumRotation)")
        }
        guard maximumScaling >= 0 && maximumScaling < 1 else {
            throw LearningError.invalidOption(
                "the scaling must be in [0, 1) (a factor between 1 − s and 1 + s), got \(maximumScaling)")
        }
        self.maximumRotation = maximumRotation
        self.maximumScaling = maximumScaling
    }

    /// Whether it changes nothing.
    public var isIdentity: Bool { maximumRotation == 0 && maximumScaling == 0 }

    /// Turns `image` (`channels × height × width`, row-major) by `degrees` (counter-clockwise as
    /// displayed, rows running down) and magnifies it by `scale` about its centre
    /// `((width − 1)/2, (height − 1)/2)`, into `output`: output pixel `q` takes the bilinear
    /// interpolation of `image` at `c + (1/s) R(−θ)(q − c)`, pixels outside the frame counting
    /// as 0. Both buffers hold `channels·height·width` values (the callers' invariant).
    static func warp(
        _ image: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
        channels: Int, height: Int, width: Int, degrees: Double, scale: Double
    ) {
        assert(image.count == channels * height * width && output.count == image.count && scale > 0)
        let theta = degrees * Double.pi / 180
        // Source position of output pixel (x, y): u = cx + a(x − cx) + b(y − cy), v = cy − b(x − cx) + a(y − cy),
        // the inverse of a counter-clockwise turn on screen (y down) followed by the scaling.
        let a = cos(theta) / scale, b = -sin(theta) / scale
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let plane = height * width
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let u = cx + a * dx + b * dy, v = cy - b * dx + a * dy
                let i = Int(u.rounded(.down)), j = Int(v.rounded(.down))
                let fu = Float(u - Double(i)), fv = Float(v - Double(j))
                let w00 = (1 - fu) * (1 - fv), w10 = fu * (1 - fv), w01 = (1 - fu) * fv, w11 = fu * fv
                let in0 = j >= 0 && j < height, in1 = j + 1 >= 0 && j + 1 < height
                let il = i >= 0 && i < width, ir = i + 1 >= 0 && i + 1 < width
                for c in 0..<channels {
                    let p = c * plane
                    var s: Float = 0
                    if in0 && il { s += w00 * image[p + j * width + i] }
                    if in0 && ir { s += w10 * image[p + j * width + i + 1] }
                    if in1 && il { s += w01 * image[p + (j + 1) * width + i] }
                    if in1 && ir { s += w11 * image[p + (j + 1) * width + i + 1] }
                    output[p + y * width + x] = s
                }
            }
        }
    }

    /// Deforms each of the `pixels.count / (channels·height·width)` images in `pixels` in
    /// place, by an angle and a factor drawn from `random` (two draws per image: the angle,
    /// then the factor). `scratch` is reused between calls. Throws if `pixels` is not a whole
    /// number of images.
    public func apply(
        to pixels: inout [Float], scratch: inout [Float], channels: Int, height: Int, width: Int,
        random: RandomSource
    ) throws {
        guard !isIdentity else {
            _ = try ImageAugmentation.imageLength(of: pixels, channels: channels, height: height, width: width)
            return
        }
        try ImageAugmentation.transformEach(
            &pixels, scratch: &scratch, channels: channels, height: height, width: width
        ) { image, output in
            let degrees = random.uniform(-maximumRotation, maximumRotation)
            let scale = random.uniform(1 - maximumScaling, 1 + maximumScaling)
            Self.warp(
                image, into: output, channels: channels, height: height, width: width, degrees: degrees, scale: scale)
            return true
        }
    }
}

/// The loop the random augmentations (``RandomTranslation``, ``RandomDeformation``) share: each
/// image of a batch in turn, transformed into a scratch image and copied back.
enum ImageAugmentation {
    /// `channels·height·width`, after checking that `pixels` holds a whole number of such images.
    static func imageLength(of pixels: [Float], channels: Int, height: Int, width: Int) throws -> Int {
        let d = channels * height * width
        guard channels >= 1, height >= 1, width >= 1, pixels.count % d == 0 else {
            throw LearningError.invalidData(
                "\(pixels.count) pixel values are not a whole number of \(channels)×\(height)×\(width) images")
        }
        return d
    }

    /// Calls `transform(image, output)` on each of the `pixels.count / (channels·height·width)`
    /// images of `pixels`, in order; where it returns `true` (it wrote `output`), the image is
    /// replaced by `output`. `scratch` is reused between calls. Throws if `pixels` is not a
    /// whole number of images.
    static func transformEach(
        _ pixels: inout [Float], scratch: inout [Float], channels: Int, height: Int, width: Int,
        _ transform: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Bool
    ) throws {
        let d = try imageLength(of: pixels, channels: channels, height: height, width: width)
        if scratch.count != d { scratch = [Float](repeating: 0, count: d) }
        pixels.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                for n in 0..<(p.count / d) {
                    let image = UnsafeMutableBufferPointer(rebasing: p[(n * d)..<((n + 1) * d)])
                    if transform(UnsafeBufferPointer(image), s) { _ = image.update(fromContentsOf: s) }
                }
            }
        }
    }
}

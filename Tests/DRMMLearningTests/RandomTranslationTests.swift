import NumericalCore
import Testing
@testable import DRMMLearning

/// Random translations of training images, against the definition written out pixel by pixel.
struct RandomTranslationTests {
    /// `out[c, y, x] = in[c, y − dy, x − dx]` where that pixel exists, else 0.
    static func naiveShift(_ image: [Float], channels: Int, height: Int, width: Int, dx: Int, dy: Int) -> [Float] {
        var out = [Float](repeating: 0, count: image.count)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let sy = y - dy, sx = x - dx
                    if sy >= 0 && sy < height && sx >= 0 && sx < width {
                        out[(c * height + y) * width + x] = image[(c * height + sy) * width + sx]
                    }
                }
            }
        }
        return out
    }

    @Test func everyShiftMatchesItsDefinition() {
        let (channels, height, width) = (2, 5, 7)
        let image = (0..<(channels * height * width)).map { Float($0 + 1) }
        for dy in -6...6 {
            for dx in -8...8 {
                var out = [Float](repeating: .nan, count: image.count)
                image.withUnsafeBufferPointer { p in
                    out.withUnsafeMutableBufferPointer { o in
                        RandomTranslation.shift(
                            p, into: o, channels: channels, height: height, width: width, dx: dx, dy: dy)
                    }
                }
                #expect(
                    out == Self.naiveShift(image, channels: channels, height: height, width: width, dx: dx, dy: dy),
                    "dx \(dx), dy \(dy)")
            }
        }
    }

    /// Each image of a batch is shifted by its own draw from `{−m, …, m}²`, and every shift occurs.
    @Test func batchesAreShiftedWithinTheBound() throws {
        let (channels, height, width, m, count) = (1, 9, 9, 2, 400)
        // Each image a distinct pattern with every pixel nonzero, so that its shift can be read back.
        let images = (0..<count).map { n in (0..<(height * width)).map { Float(1 + ($0 * 7 + n) % 97) } }
        var batch = images.flatMap { $0 }
        var scratch: [Float] = []
        try RandomTranslation(maximumShift: m).apply(
            to: &batch, scratch: &scratch, channels: channels, height: height, width: width,
            random: RandomSource(seed: 4))
        var seen = Set<[Int]>()
        for n in 0..<count {
            let shifted = Array(batch[(n * height * width)..<((n + 1) * height * width)])
            let found = (-m...m).flatMap { dy in (-m...m).map { dx in [dx, dy] } }.filter {
                Self.naiveShift(images[n], channels: channels, height: height, width: width, dx: $0[0], dy: $0[1])
                    == shifted
            }
            #expect(found.count == 1, "image \(n) is not a shift of itself within ±\(m)")
            seen.formUnion(found)
        }
        #expect(seen.count == 25, "the \(count) images took \(seen.count) of the 25 shifts")
        // No shift at all leaves the batch untouched.
        var same = images.flatMap { $0 }
        try RandomTranslation(maximumShift: 0).apply(
            to: &same, scratch: &scratch, channels: channels, height: height, width: width,
            random: RandomSource(seed: 4))
        #expect(same == images.flatMap { $0 })
        // A negative bound, and a buffer that is not a whole number of images, are typed errors.
        #expect(throws: LearningError.self) { try RandomTranslation(maximumShift: -1) }
        var ragged = [Float](repeating: 1, count: height * width + 3)
        #expect(throws: LearningError.self) {
            try RandomTranslation(maximumShift: 1).apply(
                to: &ragged, scratch: &scratch, channels: channels, height: height, width: width,
                random: RandomSource(seed: 4))
        }
    }
}

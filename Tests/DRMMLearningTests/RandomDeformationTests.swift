import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// Random rotations and scalings of training images: exact where the geometry is exact (the
/// identity, quarter turns), and bilinear interpolation reproducing an affine ramp elsewhere.
struct RandomDeformationTests {
    static func warp(_ image: [Float], channels: Int, height: Int, width: Int, degrees: Double, scale: Double)
        -> [Float]
    {
        var out = [Float](repeating: .nan, count: image.count)
        image.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                RandomDeformation.warp(
                    p, into: o, channels: channels, height: height, width: width, degrees: degrees, scale: scale)
            }
        }
        return out
    }

    @Test func noTurnAndUnitScaleIsTheIdentity() {
        let image = (0..<(2 * 5 * 7)).map { Float($0 % 11) / 10 }
        #expect(Self.warp(image, channels: 2, height: 5, width: 7, degrees: 0, scale: 1) == image)
    }

    /// A quarter turn of a square image moves every pixel onto another (counter-clockwise as
    /// displayed: the top row becomes the left column, read upwards).
    @Test func quarterTurnsPermuteThePixels() {
        let (n, channels) = (6, 2)
        let image = (0..<(channels * n * n)).map { Float($0 + 1) }
        let turned = Self.warp(image, channels: channels, height: n, width: n, degrees: 90, scale: 1)
        let back = Self.warp(image, channels: channels, height: n, width: n, degrees: -90, scale: 1)
        for c in 0..<channels {
            for y in 0..<n {
                for x in 0..<n {
                    // Counter-clockwise: the pixel at (x, y) came from (n − 1 − y, x).
                    let ccw = image[(c * n + x) * n + (n - 1 - y)]
                    let cw = image[(c * n + (n - 1 - x)) * n + y]
                    #expect(abs(turned[(c * n + y) * n + x] - ccw) < 1e-4, "(\(x), \(y)) channel \(c)")
                    #expect(abs(back[(c * n + y) * n + x] - cw) < 1e-4, "(\(x), \(y)) channel \(c)")
                }
            }
        }
    }

    /// Bilinear interpolation is exact on an affine function of position, so wherever the source
    /// point and its four neighbours lie in the frame, the warped ramp is the ramp at the source
    /// point, computed here from the turn and scale directly; outside the frame it is 0.
    @Test(arguments: [(17.0, 1.0), (-25.0, 1.15), (40.0, 0.8), (0.0, 1.2)])
    func anAffineRampIsResampledExactly(degrees: Double, scale: Double) {
        let (height, width) = (11, 14)
        let ramp = { (u: Double, v: Double) in 0.3 * u - 0.7 * v + 2 }
        var image: [Float] = []
        for y in 0..<height { for x in 0..<width { image.append(Float(ramp(Double(x), Double(y)))) } }
        let out = Self.warp(image, channels: 1, height: height, width: width, degrees: degrees, scale: scale)
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        let t = degrees * .pi / 180
        var inside = 0, outside = 0
        for y in 0..<height {
            for x in 0..<width {
                // Undo the scaling, then the counter-clockwise turn (on screen, rows running down).
                let (dx, dy) = ((Double(x) - cx) / scale, (Double(y) - cy) / scale)
                let u = cx + cos(t) * dx - sin(t) * dy, v = cy + sin(t) * dx + cos(t) * dy
                if u >= 0 && u <= Double(width - 1) - 1e-9 && v >= 0 && v <= Double(height - 1) - 1e-9 {
                    inside += 1
                    #expect(abs(Double(out[y * width + x]) - ramp(u, v)) < 1e-4, "(\(x), \(y)) from (\(u), \(v))")
                } else if u <= -1 || u >= Double(width) || v <= -1 || v >= Double(height) {
                    outside += 1
                    #expect(out[y * width + x] == 0, "(\(x), \(y)) from (\(u), \(v)) is outside the frame")
                }
            }
        }
        #expect(inside > height * width / 2)
        if scale < 1 || degrees != 0 { #expect(outside > 0) }
    }

    /// Each image of a batch gets its own angle and factor, within the bounds: every image's
    /// warp is one of the identity-free draws, replayed from the same generator.
    @Test func batchesAreDeformedByTheirOwnDraws() throws {
        let (h, w) = (9, 9)
        let d = h * w
        let images = (0..<(20 * d)).map { Float(($0 * 7) % 13) / 12 }
        var pixels = images, scratch: [Float] = []
        let deformation = try RandomDeformation(maximumRotation: 20, maximumScaling: 0.1)
        try deformation.apply(
            to: &pixels, scratch: &scratch, channels: 1, height: h, width: w, random: RandomSource(seed: 5))
        let replay = RandomSource(seed: 5)
        var distinct = Set<[Float]>()
        for n in 0..<20 {
            let degrees = replay.uniform(-20, 20), scale = replay.uniform(0.9, 1.1)
            #expect(abs(degrees) <= 20 && abs(scale - 1) <= 0.1)
            let one = Array(images[(n * d)..<((n + 1) * d)])
            #expect(
                Array(pixels[(n * d)..<((n + 1) * d)])
                    == Self.warp(one, channels: 1, height: h, width: w, degrees: degrees, scale: scale))
            distinct.insert(Array(pixels[(n * d)..<((n + 1) * d)]))
        }
        #expect(distinct.count == 20)
        // No deformation leaves the batch alone, and draws nothing.
        var same = images
        let source = RandomSource(seed: 6)
        try RandomDeformation(maximumRotation: 0, maximumScaling: 0).apply(
            to: &same, scratch: &scratch, channels: 1, height: h, width: w, random: source)
        #expect(same == images && source.next() == RandomSource(seed: 6).next())
    }

    @Test func badBoundsAndBuffersAreTypedErrors() throws {
        for (r, s) in [(-1.0, 0.0), (181, 0), (.nan, 0), (10, -0.1), (10, 1), (10, .nan)] {
            #expect(throws: LearningError.self) { try RandomDeformation(maximumRotation: r, maximumScaling: s) }
        }
        var ragged = [Float](repeating: 0, count: 10), scratch: [Float] = []
        #expect(throws: LearningError.self) {
            try RandomDeformation(maximumRotation: 10, maximumScaling: 0).apply(
                to: &ragged, scratch: &scratch, channels: 1, height: 3, width: 3,
                random: RandomSource(seed: 1))
        }
    }
}

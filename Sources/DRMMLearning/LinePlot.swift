import DRMM
import Foundation

/// A small raster line plot (white background, axes with ticks, one or more polylines in
/// gray levels), for learning curves written as PNG without a plotting library.
public enum LinePlot {
    /// Plots each series (y against x) into a `width × height` image; y runs from `yRange`.
    public static func render(
        _ series: [[(x: Double, y: Double)]], yRange: ClosedRange<Double>, width: Int = 480, height: Int = 320
    ) throws -> PNGImage {
        var px = [UInt8](repeating: 255, count: width * height)
        let (left, right, topM, bottom) = (30, 10, 10, 25)
        let xs = series.flatMap { $0.map(\.x) }
        let (x0, x1) = (xs.min() ?? 0, max((xs.max() ?? 1), (xs.min() ?? 0) + 1))
        func X(_ x: Double) -> Int { left + Int(((x - x0) / (x1 - x0)) * Double(width - left - right - 1)) }
        func Y(_ y: Double) -> Int {
            let t =
                (min(max(y, yRange.lowerBound), yRange.upperBound) - yRange.lowerBound)
                / max(1e-12, yRange.upperBound - yRange.lowerBound)
            return height - bottom - Int(t * Double(height - topM - bottom - 1))
        }
        func plot(_ x: Int, _ y: Int, _ v: UInt8) {
            if x >= 0, x < width, y >= 0, y < height { px[y * width + x] = min(px[y * width + x], v) }
        }
        func line(_ a: (Int, Int), _ b: (Int, Int), _ v: UInt8) {
            let n = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
            for s in 0...n { plot(a.0 + (b.0 - a.0) * s / n, a.1 + (b.1 - a.1) * s / n, v) }
        }
        line((left, height - bottom), (width - right, height - bottom), 0)
        line((left, topM), (left, height - bottom), 0)
        for k in 0...10 {  // ten y ticks and light grid lines
            let y = height - bottom - k * (height - topM - bottom - 1) / 10
            line((left - 4, y), (left, y), 0)
            line((left + 1, y), (width - right, y), 225)
        }
        for x in Set(xs) { let px = X(x); line((px, height - bottom), (px, height - bottom + 4), 0) }
        // Tick labels: y at 0, half and full range; x at the first and last point.
        func text(_ s: String, right: Int, top: Int) {
            var x = right - 4 * s.count
            for ch in s {
                if let rows = glyphs[ch] {
                    for (r, bits) in rows.enumerated() {
                        for c in 0..<3 where bits & (4 >> c) != 0 { plot(x + c, top + r, 0) }
                    }
                }
                x += 4
            }
        }
        for y in [yRange.lowerBound, (yRange.lowerBound + yRange.upperBound) / 2, yRange.upperBound] {
            text(label(y), right: left - 6, top: Y(y) - 2)
        }
        text(label(x0), right: X(x0) + 6, top: height - bottom + 7)
        text(label(xs.max() ?? x1), right: X(xs.max() ?? x1) + 2, top: height - bottom + 7)
        for (k, s) in series.enumerated() {
            let shade = UInt8(max(0, 60 * k))
            for (a, b) in zip(s, s.dropFirst()) { line((X(a.x), Y(a.y)), (X(b.x), Y(b.y)), shade) }
            for p in s { for dx in -1...1 { for dy in -1...1 { plot(X(p.x) + dx, Y(p.y) + dy, shade) } } }
        }
        return try PNGImage(width: width, height: height, pixels: px)
    }

    static func label(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
    }

    /// A 3×5 pixel font for tick labels.
    static let glyphs: [Character: [Int]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0]
    ]
}

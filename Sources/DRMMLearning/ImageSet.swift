import NumericalCore
import DRMM

/// Images and labels ready for training: `[N, C, H, W]` Float pixels in [0, 1].
public struct ImageSet: Sendable {
    /// `[C, H, W]` of every image.
    public let shape: [Int]
    /// The images, `[N, C, H, W]`.
    public let pixels: [Float]
    /// The label of every image.
    public let labels: [Int]
    /// `N`, the number of images.
    public var count: Int { labels.count }
    /// `C·H·W`, the values per image.
    public var imageSize: Int { shape.reduce(1, *) }

    /// A set of images; throws if it is empty, the sizes disagree or a pixel is not finite.
    public init(shape: [Int], pixels: [Float], labels: [Int]) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else {
            throw LearningError.invalidData("image shape must be [channels, height, width], got \(shape)")
        }
        guard !labels.isEmpty else { throw LearningError.invalidData("the image set is empty") }
        guard pixels.count == labels.count * shape.reduce(1, *) else {
            throw LearningError.invalidData(
                "\(labels.count) labels but \(pixels.count) pixel values (images of shape \(shape) need "
                    + "\(labels.count * shape.reduce(1, *)))"
            )
        }
        if let bad = pixels.firstIndex(where: { !$0.isFinite }) {
            throw LearningError.invalidData(
                "pixel \(bad % shape.reduce(1, *)) of image \(bad / shape.reduce(1, *)) is \(pixels[bad])")
        }
        self.shape = shape
        self.pixels = pixels
        self.labels = labels
    }

    /// Gray levels 0…255 (one channel), scaled to [0, 1].
    public init(bytes: [UInt8], labels: [Int], rows: Int, columns: Int) throws {
        try self.init(shape: [1, rows, columns], pixels: bytes.map { Float($0) / 255 }, labels: labels)
    }

    /// The first `n` images.
    public func prefix(_ n: Int) -> ImageSet {
        let m = max(0, min(n, count))
        // Same shape, a prefix of valid data: cannot fail.
        return ImageSet(unchecked: shape, pixels: Array(pixels[0..<(m * imageSize)]), labels: Array(labels[0..<m]))
    }

    init(unchecked shape: [Int], pixels: [Float], labels: [Int]) {
        self.shape = shape; self.pixels = pixels; self.labels = labels
    }

    /// The pixels of `indices`, stacked, and their labels (−1 where `hideLabels`).
    func gather(_ indices: ArraySlice<Int>, hideLabels: Bool, into buffer: inout [Float]) -> [Int] {
        let d = imageSize
        buffer.removeAll(keepingCapacity: true)
        for i in indices { buffer.append(contentsOf: pixels[(i * d)..<((i + 1) * d)]) }
        return indices.map { hideLabels ? -1 : labels[$0] }
    }

    /// The labels of `indices` (all of them) and, into `buffer` sized for all, the pixels of
    /// only the images at positions `rows` of `indices`; the other images' pixels are left as
    /// they were (a rank of a distributed step reads only its own rows).
    func gather(_ indices: ArraySlice<Int>, rows: Range<Int>, into buffer: inout [Float]) -> [Int] {
        let d = imageSize, n = indices.count
        if buffer.count != n * d { buffer = [Float](repeating: 0, count: n * d) }
        buffer.withUnsafeMutableBufferPointer { b in
            pixels.withUnsafeBufferPointer { p in
                for r in rows {
                    let i = indices[indices.startIndex + r]
                    (b.baseAddress! + r * d).update(from: p.baseAddress! + i * d, count: d)
                }
            }
        }
        return indices.map { labels[$0] }
    }

    /// A class-balanced labelled subset of `n` images (⌊n/K⌋ per class, the remainder to the
    /// first classes), drawn with `seed`. Throws if a class has too few images.
    public func balancedSubset(_ n: Int, classes: Int, seed: UInt64) throws -> [Int] {
        guard n >= 1 else { throw LearningError.invalidOption("the number of labels must be at least 1, got \(n)") }
        guard n <= count else {
            throw LearningError.invalidOption("asked for \(n) labelled images, the training set has \(count)")
        }
        let rng = RandomSource(seed: seed)
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, y) in labels.enumerated() where y >= 0 && y < classes { byClass[y].append(i) }
        var chosen: [Int] = []
        for c in 0..<classes {
            let want = n / classes + (c < n % classes ? 1 : 0)
            guard byClass[c].count >= want else {
                throw LearningError.invalidOption(
                    "class \(c) has \(byClass[c].count) images, \(want) labelled ones were asked for")
            }
            var pool = byClass[c]
            rng.shuffle(&pool)
            chosen += pool.prefix(want)
        }
        return chosen.sorted()
    }
}

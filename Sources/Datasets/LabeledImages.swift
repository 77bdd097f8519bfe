import NumericalCore

/// Labelled images as a data set file gives them: `count` images of shape `[C, H, W]`
/// (channel-major), pixel values scaled to `[0, 1]` when the file stores bytes, and one class
/// index `0..<classes` per image.
public struct LabeledImages: Sendable, Equatable {
    /// `[channels, height, width]` of every image.
    public let shape: [Int]
    /// `count × C·H·W` values, image after image.
    public let pixels: [Float]
    /// The class of every image.
    public let labels: [Int]
    /// The names of the classes, where the source has them (an image folder's subfolders).
    public let classNames: [String]?

    /// The number of images.
    public var count: Int { labels.count }
    /// `C·H·W`.
    public var imageSize: Int { shape.reduce(1, *) }
    /// One more than the largest label (at least the number of class names).
    public var classes: Int { max((labels.max() ?? -1) + 1, classNames?.count ?? 0) }

    /// Images of `shape` from `pixels` and `labels`; throws if the counts disagree, a label is
    /// negative or a value is not finite. `source` names the data in errors.
    public init(shape: [Int], pixels: [Float], labels: [Int], classNames: [String]? = nil, source: String) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else {
            throw DatasetError.malformed(path: source, reason: "image shape must be [C, H, W], got \(shape)")
        }
        guard pixels.count == labels.count * shape.reduce(1, *) else {
            throw DatasetError.mismatch(
                "\(source): \(labels.count) labels but \(pixels.count) values (images of shape \(shape))")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw DatasetError.malformed(path: source, reason: "label of image \(bad) is \(labels[bad])")
        }
        if let bad = pixels.firstIndex(where: { !$0.isFinite }) {
            throw DatasetError.malformed(
                path: source, reason: "value \(bad) (image \(bad / shape.reduce(1, *))) is \(pixels[bad])")
        }
        self.init(unchecked: shape, pixels: pixels, labels: labels, classNames: classNames)
    }

    /// Images already known to be consistent (a subset of checked images, a checked file).
    init(unchecked shape: [Int], pixels: [Float], labels: [Int], classNames: [String]?) {
        self.shape = shape
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let d = imageSize
        var values = [Float]()
        values.reserveCapacity(indices.count * d)
        for i in indices { values += pixels[(i * d)..<((i + 1) * d)] }
        return LabeledImages(
            unchecked: shape, pixels: values, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// The first `n` images (all if `n` is nil or larger).
    public func prefix(_ n: Int?) -> LabeledImages {
        guard let n, n < count else { return self }
        return subset(Array(0..<n))
    }

    /// A random split: `testFraction` of the images (rounded, at least one of each part when
    /// there are two or more images) go to the test part, drawn with `seed`; both keep the
    /// original order.
    public func split(testFraction: Double, seed: UInt64) throws -> (train: LabeledImages, test: LabeledImages) {
        guard testFraction > 0, testFraction < 1 else {
            throw DatasetError.mismatch("the test fraction must be in (0, 1), got \(testFraction)")
        }
        guard count >= 2 else { throw DatasetError.mismatch("cannot split \(count) image(s) in two") }
        let nTest = min(count - 1, max(1, Int((Double(count) * testFraction).rounded())))
        let rng = RandomSource(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.integer(below: i + 1)) }
        let test = Set(order.prefix(nTest))
        return (
            subset((0..<count).filter { !test.contains($0) }),
            subset((0..<count).filter { test.contains($0) })
        )
    }
}

import Foundation
import NumericalCore

/// The CIFAR-10 (and CIFAR-100-style one-label) binary batches: records of one label byte
/// followed by 3 × 32 × 32 bytes, the red, green and blue planes row-major.
public enum CIFAR10 {
    /// Bytes per record: the label and a 3 × 32 × 32 image.
    public static let recordSize = 1 + 3 * 32 * 32

    /// The class names of CIFAR-10, by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
    ]

    /// Reads one batch file (`data_batch_1.bin`, `test_batch.bin`, …); its size must be a whole
    /// number of records, and every label below `classes`.
    public static func read(path: String, classes: Int = 10, limits: ResourceLimits = .standard) throws
        -> LabeledImages
    {
        let bytes = try readBoundedFile(path, limit: limits.dataBytes)
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw DatasetError.malformed(
                path: path, reason: "\(bytes.count) bytes is not a whole number of \(recordSize)-byte records")
        }
        let n = bytes.count / recordSize
        try limits.limited(path: path) { _ = try limits.check(n, limit: \.images, what: "the batch's images") }
        var labels = [Int](repeating: 0, count: n)
        var pixels = [Float](repeating: 0, count: n * (recordSize - 1))
        for i in 0..<n {
            let label = Int(bytes[i * recordSize])
            guard label < classes else {
                throw DatasetError.malformed(path: path, reason: "record \(i) has label \(label), not below \(classes)")
            }
            labels[i] = label
            for k in 0..<(recordSize - 1) {
                pixels[i * (recordSize - 1) + k] = Float(bytes[i * recordSize + 1 + k]) / 255
            }
        }
        return try LabeledImages(
            shape: [3, 32, 32], pixels: pixels, labels: labels, classNames: classes == 10 ? classNames : nil,
            source: path)
    }

    /// Writes `images` (3 × 32 × 32, values in [0, 1], labels below 256) as one batch file.
    public static func bytes(_ images: LabeledImages) throws -> [UInt8] {
        guard images.shape == [3, 32, 32], images.labels.allSatisfy({ $0 < 256 }) else {
            throw DatasetError.mismatch("a CIFAR batch holds 3×32×32 images with labels below 256")
        }
        var out = [UInt8]()
        out.reserveCapacity(images.count * recordSize)
        for i in 0..<images.count {
            out.append(UInt8(images.labels[i]))
            for k in 0..<(recordSize - 1) {
                let v = images.pixels[i * (recordSize - 1) + k]
                out.append(UInt8((min(max(v, 0), 1) * 255).rounded()))
            }
        }
        return out
    }
}

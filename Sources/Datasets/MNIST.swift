import Foundation

/// The MNIST digits in their original IDX files (gzip or plain).
///
/// IDX: a big-endian magic `0x0000_08_0D` (unsigned bytes, `D` dimensions: 0x803 for images,
/// 0x801 for labels), the `D` sizes as big-endian 32-bit integers, then the data.
public struct MNIST: Sendable {
    /// `count × rows × columns` gray levels, 0…255, row-major per image.
    public let pixels: [UInt8]
    /// The digit of every image, 0…9.
    public let labels: [UInt8]
    /// Image height.
    public let rows: Int
    /// Image width.
    public let columns: Int

    /// The number of images.
    public var count: Int { labels.count }

    /// Image `i` as Float values in [0, 1].
    public func image(_ i: Int) -> [Float] {
        let d = rows * columns
        return pixels[(i * d)..<((i + 1) * d)].map { Float($0) / 255 }
    }

    /// The 60,000 training or the 10,000 test digits.
    public enum Split: String, Sendable { case train, test }

    /// The default location inside the project (`Data/mnist`).
    public static let defaultDirectory = "Data/mnist"

    /// Loads a split from `directory` (files `train-images-idx3-ubyte[.gz]` etc.).
    public static func load(directory: String = defaultDirectory, split: Split) throws -> MNIST {
        let prefix = split == .train ? "train" : "t10k"
        func find(_ name: String) throws -> String {
            for candidate in ["\(directory)/\(name).gz", "\(directory)/\(name)"]
            where FileManager.default.fileExists(atPath: candidate) {
                return candidate
            }
            throw DatasetError.unreadable(path: "\(directory)/\(name)[.gz]", reason: "no such file")
        }
        return try load(
            images: try find("\(prefix)-images-idx3-ubyte"), labels: try find("\(prefix)-labels-idx1-ubyte"))
    }

    /// Loads an image file and a label file, checking magic numbers, sizes and that they agree.
    public static func load(images imagePath: String, labels labelPath: String) throws -> MNIST {
        let (imageDims, imageData) = try readIDX(imagePath, expectedDimensions: 3)
        let (labelDims, labelData) = try readIDX(labelPath, expectedDimensions: 1)
        guard imageDims[0] == labelDims[0] else {
            throw DatasetError.mismatch(
                "\(imagePath) has \(imageDims[0]) images but \(labelPath) has \(labelDims[0]) labels")
        }
        if let bad = labelData.firstIndex(where: { $0 > 9 }) {
            throw DatasetError.malformed(path: labelPath, reason: "label \(bad) is \(labelData[bad]), not a digit 0–9")
        }
        return MNIST(pixels: imageData, labels: labelData, rows: imageDims[1], columns: imageDims[2])
    }

    static func readIDX(_ path: String, expectedDimensions: Int) throws -> (dims: [Int], data: [UInt8]) {
        let bytes = try readPossiblyGzipped(path)
        guard bytes.count >= 4 else {
            throw DatasetError.malformed(path: path, reason: "truncated header (\(bytes.count) bytes)")
        }
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08 else {
            throw DatasetError.malformed(
                path: path,
                reason: String(
                    format: "wrong magic 0x%02X%02X%02X%02X (expected 0x000008%02X, unsigned bytes)", bytes[0],
                    bytes[1], bytes[2], bytes[3], expectedDimensions))
        }
        guard Int(bytes[3]) == expectedDimensions else {
            throw DatasetError.malformed(
                path: path,
                reason:
                    "has \(bytes[3]) dimensions, expected \(expectedDimensions) (magic 0x0000080\(expectedDimensions))")
        }
        let header = 4 + 4 * expectedDimensions
        guard bytes.count >= header else {
            throw DatasetError.malformed(path: path, reason: "truncated header (\(bytes.count) bytes)")
        }
        var dims: [Int] = []
        for d in 0..<expectedDimensions {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        // Each size is below 2^32, but their product can overflow: checked before it is compared.
        guard
            let expected = dims.reduce(
                Optional(1),
                { p, d in
                    p.flatMap { $0.multipliedReportingOverflow(by: d) }.flatMap { $0.overflow ? nil : $0.partialValue }
                })
        else {
            throw DatasetError.malformed(
                path: path,
                reason: "header promises \(dims) bytes of data, more than 2^63; the file has \(bytes.count - header)")
        }
        guard bytes.count - header == expected else {
            throw DatasetError.malformed(
                path: path,
                reason: "header promises \(dims) = \(expected) bytes of data, the file has \(bytes.count - header)"
                    + (bytes.count - header < expected ? " (truncated)" : ""))
        }
        return (dims, Array(bytes[header...]))
    }
}

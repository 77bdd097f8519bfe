import Foundation
import NumericalCore

/// A labelled image data set on disk, recognised by what its path is:
///
/// - a folder with MNIST's IDX files (`train-images-idx3-ubyte[.gz]`, `t10k-…`): both splits;
/// - a folder with CIFAR-10 binary batches (`data_batch_*.bin`, `test_batch.bin`), or one
///   `.bin` batch;
/// - a NumPy `.npz` archive with `images` and `labels` (or `x` and `y`), or with `x_train`,
///   `y_train`, `x_test`, `y_test` for both splits; a folder with `images.npy` and
///   `labels.npy`. Images are `[N, H, W]` or `[N, C, H, W]`, unsigned bytes (scaled to
///   `[0, 1]`) or floats (kept as they are); labels integers;
/// - a folder with `train/` and `test/` image folders, or an image folder itself: one
///   subfolder of PNG images per class.
public enum DataSource {
    /// The images a path gives: the training part, and the test part where the source has one.
    public struct Splits: Sendable {
        /// The training images (all of them, for a source without a test part).
        public var train: LabeledImages
        /// The test images, if the source has them.
        public var test: LabeledImages?
    }

    /// Loads the data set at `path`; every size is checked against `limits` before allocation,
    /// and errors name the file and the record.
    public static func load(_ path: String, limits: ResourceLimits = .standard) throws -> Splits {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError.unreadable(path: path, reason: "no such file or folder")
        }
        if !isDirectory.boolValue {
            if path.hasSuffix(".npz") { return try numPyArchive(path, limits: limits) }
            if path.hasSuffix(".bin") { return Splits(train: try CIFAR10.read(path: path, limits: limits)) }
            throw DatasetError.malformed(
                path: path,
                reason: "not a data set this library reads (a .npz archive, a CIFAR .bin batch, or a folder)")
        }
        let names = Set((try? fm.contentsOfDirectory(atPath: path)) ?? [])
        func has(_ name: String) -> Bool { names.contains(name) || names.contains(name + ".gz") }
        if has("train-images-idx3-ubyte") {
            let train = try MNIST.load(directory: path, split: .train).labeledImages()
            let test =
                has("t10k-images-idx3-ubyte")
                ? try MNIST.load(directory: path, split: .test).labeledImages() : nil
            return Splits(train: train, test: test)
        }
        if names.contains("test_batch.bin") || names.contains("data_batch_1.bin") {
            return try cifarFolder(path, names: names, limits: limits)
        }
        if names.contains("images.npy") && names.contains("labels.npy") {
            let images = try NumPyArray.read(path: path + "/images.npy", limits: limits)
            let labels = try NumPyArray.read(path: path + "/labels.npy", limits: limits)
            return Splits(train: try labeledImages(images: images, labels: labels, source: path))
        }
        if names.contains("train") && names.contains("test") {
            return Splits(
                train: try ImageFolder.read(path: path + "/train", limits: limits),
                test: try ImageFolder.read(path: path + "/test", limits: limits))
        }
        return Splits(train: try ImageFolder.read(path: path, limits: limits))
    }

    private static func cifarFolder(_ path: String, names: Set<String>, limits: ResourceLimits) throws -> Splits {
        let batches = names.filter { $0.hasPrefix("data_batch_") && $0.hasSuffix(".bin") }.sorted()
        var parts = try batches.map { try CIFAR10.read(path: path + "/" + $0, limits: limits) }
        let test =
            names.contains("test_batch.bin") ? try CIFAR10.read(path: path + "/test_batch.bin", limits: limits) : nil
        if parts.isEmpty, let test { parts = [test] }
        let train = try LabeledImages(
            shape: [3, 32, 32], pixels: parts.flatMap(\.pixels), labels: parts.flatMap(\.labels),
            classNames: CIFAR10.classNames, source: path)
        return Splits(train: train, test: batches.isEmpty ? nil : test)
    }

    private static func numPyArchive(_ path: String, limits: ResourceLimits) throws -> Splits {
        let arrays = try NumPyArchive.read(path: path, limits: limits)
        func pair(_ x: String, _ y: String) throws -> LabeledImages? {
            guard let images = arrays[x], let labels = arrays[y] else { return nil }
            return try labeledImages(images: images, labels: labels, source: "\(path)[\(x), \(y)]")
        }
        if let train = try pair("x_train", "y_train") {
            return Splits(train: train, test: try pair("x_test", "y_test"))
        }
        if let all = try pair("images", "labels") ?? pair("x", "y") { return Splits(train: all) }
        throw DatasetError.malformed(
            path: path,
            reason: "has arrays \(arrays.keys.sorted()); expected images and labels, x and y, or x_train, y_train, "
                + "x_test and y_test")
    }

    /// Images `[N, H, W]` or `[N, C, H, W]` (bytes scaled to [0, 1], floats as they are) and
    /// labels `[N]`.
    public static func labeledImages(images: NumPyArray, labels: NumPyArray, source: String) throws -> LabeledImages {
        let shape: [Int]
        switch images.shape.count {
        case 3: shape = [1, images.shape[1], images.shape[2]]
        case 4: shape = Array(images.shape[1...])
        default:
            throw DatasetError.malformed(
                path: source, reason: "images must be [N, H, W] or [N, C, H, W], got shape \(images.shape)")
        }
        guard labels.shape == [images.shape[0]] else {
            throw DatasetError.mismatch("\(source): \(images.shape[0]) images but labels of shape \(labels.shape)")
        }
        var pixels = images.floats()
        if images.elementType == .uint8 { for i in pixels.indices { pixels[i] /= 255 } }
        return try LabeledImages(
            shape: shape, pixels: pixels, labels: try labels.integers(path: source), source: source)
    }
}

extension MNIST {
    /// The digits as ``LabeledImages`` (`[1, rows, columns]`, values in [0, 1]).
    public func labeledImages() -> LabeledImages {
        // MNIST.load checked the sizes and the labels; bytes / 255 are finite.
        LabeledImages(
            unchecked: [1, rows, columns], pixels: pixels.map { Float($0) / 255 }, labels: labels.map(Int.init),
            classNames: nil)
    }
}

extension DataSource.Splits {
    /// Splits of `train` and, optionally, `test`.
    public init(train: LabeledImages) { self.init(train: train, test: nil) }
}

import Datasets
import Foundation
import NumericalCore

extension ImageSet {
    /// MNIST digits as an image set (`[1, 28, 28]`, gray levels scaled to [0, 1]), the first
    /// `limit` of them when a limit is given.
    public init(_ mnist: MNIST, limit: Int? = nil) throws {
        let m = mnist.prefix(limit)
        try self.init(bytes: m.pixels, labels: m.labels.map(Int.init), rows: m.rows, columns: m.columns)
    }

    /// The training and test splits of MNIST in `directory` (the project's `Data/mnist` by
    /// default), each cut to its first images when a limit is given.
    public static func mnist(
        directory: String = MNIST.defaultDirectory, trainLimit: Int? = nil,
        testLimit: Int? = nil
    ) throws -> (train: ImageSet, test: ImageSet) {
        (
            try ImageSet(MNIST.load(directory: directory, split: .train), limit: trainLimit),
            try ImageSet(MNIST.load(directory: directory, split: .test), limit: testLimit)
        )
    }
}

extension ImageSet {
    /// Images read by the Datasets module (`LabeledImages`) as an image set.
    public init(_ images: LabeledImages) throws {
        try self.init(shape: images.shape, pixels: images.pixels, labels: images.labels)
    }

    /// The training and test images of the data set at `data` (any source `DataSource`
    /// reads). The test images come from `testData` when it is given, else from a random
    /// `testFraction` of the training part drawn with `splitSeed`, else from the source's own
    /// test part; each part is cut to its first images when a limit is given.
    public static func load(
        data: String, testData: String? = nil, testFraction: Double? = nil, splitSeed: UInt64 = 1,
        trainLimit: Int? = nil, testLimit: Int? = nil, limits: ResourceLimits = .standard
    ) throws -> (train: ImageSet, test: ImageSet) {
        guard testData == nil || testFraction == nil else {
            throw LearningError.invalidOption("a test data set and a test fraction exclude each other; give one")
        }
        let source = try DataSource.load(data, limits: limits)
        var train = source.train
        let test: LabeledImages
        if let testData {
            let other = try DataSource.load(testData, limits: limits)
            test = other.test ?? other.train
        } else if let testFraction {
            (train, test) = try source.train.split(testFraction: testFraction, seed: splitSeed)
        } else if let own = source.test {
            test = own
        } else {
            throw LearningError.invalidData(
                "\(data) has no test part: give a test data set, or a fraction of it to hold out")
        }
        guard test.shape == train.shape else {
            throw LearningError.invalidData("the test images are \(test.shape), the training images \(train.shape)")
        }
        return (try ImageSet(train.prefix(trainLimit)), try ImageSet(test.prefix(testLimit)))
    }
}

extension Architecture {
    /// Reads an architecture from a JSON file (the form checkpoints carry, `Examples/Architectures/`
    /// has one per preset) and checks that its levels chain within `limits`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> Architecture {
        let bytes: [UInt8]
        do { bytes = try readBoundedFile(path, limit: 1 << 20) } catch let e as DatasetError {
            throw LearningError.invalidData("architecture \(e)")
        }
        let architecture: Architecture
        do { architecture = try JSONDecoder().decode(Architecture.self, from: Data(bytes)) } catch {
            throw LearningError.invalidData("architecture \(path): \(Self.describe(error))")
        }
        do { _ = try architecture.geometry(limits: limits) } catch {
            throw LearningError.invalidData("architecture \(path): \(error)")
        }
        return architecture
    }

    /// Throws unless `images` fit the architecture: the input shape, and labels below the
    /// number of classes.
    public func check(_ images: ImageSet, named name: String) throws {
        guard images.shape == inputShape else {
            throw LearningError.invalidData(
                "\(name) images are \(images.shape) ([C, H, W]); architecture \(self.name) takes \(inputShape)")
        }
        if let bad = images.labels.firstIndex(where: { $0 >= classes }) {
            throw LearningError.invalidData(
                "\(name) image \(bad) has label \(images.labels[bad]); architecture \(self.name) has \(classes) classes"
            )
        }
    }

    /// A decoding error as one line: what is missing or wrong, and where in the JSON.
    static func describe(_ error: Error) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error as? DecodingError {
        case let .keyNotFound(key, c)?: return "missing \"\(key.stringValue)\"\(at(c.codingPath))"
        case let .typeMismatch(_, c)?: return "\(c.debugDescription)\(at(c.codingPath))"
        case let .valueNotFound(_, c)?: return "\(c.debugDescription)\(at(c.codingPath))"
        case let .dataCorrupted(c)?: return "\(c.debugDescription)\(at(c.codingPath))"
        default: return "\(error)"
        }
    }
}

import Datasets

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

import ArgumentParser
import DRMMLearning
import Datasets
import Foundation
import NumericalCore

/// Where the images come from: `--data` (any source the library reads), and the test images
/// from `--test-data`, a held-out `--test-fraction`, or the source's own test part.
struct DataOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Data set: an MNIST IDX folder, a CIFAR-10 folder or .bin batch, a NumPy .npz (images, labels) or a "
                + "folder with images.npy and labels.npy, or a folder of PNGs with one subfolder per class "
                + "(default: the project's Data/mnist, looked for next to the executable and in the working "
                + "directory)."))
    var data: String?
    @Option(help: "Test images from this data set instead of --data's own test part.") var testData: String?
    @Option(help: "Hold out this fraction of --data's training images as the test set (0 < F < 1).")
    var testFraction: Double?
    @Option(help: "Seed of the --test-fraction draw.") var splitSeed: UInt64 = 1

    /// `--data`, or the project's MNIST copy found from the executable or the working directory.
    func dataPath() throws -> String {
        if let data { return data }
        return try DataOptions.defaultMNIST()
    }

    func load(trainLimit: Int, testLimit: Int, limits: ResourceLimits) throws -> (train: ImageSet, test: ImageSet) {
        try ImageSet.load(
            data: try dataPath(), testData: testData, testFraction: testFraction, splitSeed: splitSeed,
            trainLimit: trainLimit > 0 ? trainLimit : nil, testLimit: testLimit > 0 ? testLimit : nil,
            limits: limits)
    }

    /// The first `Data/mnist` among the working directory and the folders above the
    /// executable (a built `drmm` lives in `.build/<triple>/release/` of the package).
    static func defaultMNIST() throws -> String {
        var tried: [String] = []
        var candidates = [FileManager.default.currentDirectoryPath]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.path)
            folder = folder.deletingLastPathComponent()
        }
        for base in candidates {
            let path = base + "/" + MNIST.defaultDirectory
            if FileManager.default.fileExists(atPath: path + "/t10k-labels-idx1-ubyte.gz")
                || FileManager.default.fileExists(atPath: path + "/t10k-labels-idx1-ubyte")
            {
                return path
            }
            tried.append(path)
        }
        throw ValidationError(
            "no MNIST found at the default places (\(tried.joined(separator: ", "))); give the data with --data PATH")
    }
}

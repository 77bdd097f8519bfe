import Foundation
import NumericalCore
import Testing

@testable import Datasets

/// The loaders on fixtures written by another implementation (`Scripts/make-dataset-fixtures.py`:
/// NumPy and Python's zlib), compared value by value with what that script wrote.
@Suite("Data-set loaders")
struct LoaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    struct Expected: Decodable {
        struct Image: Decodable {
            let label: Int
            let planes: [Int]
        }
        struct Set: Decodable {
            let shape: [Int]
            let classNames: [String]?
            let images: [Image]
        }
        let colourFolder: Set
        let grayFolder: Set
        let cifar: Set
        let npz: Set
        enum CodingKeys: String, CodingKey {
            case colourFolder = "colour-folder", grayFolder = "gray-folder", cifar = "tiny-cifar.bin", npz = "tiny.npz"
        }
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/expected.json")))
    }

    func check(_ images: LabeledImages, against set: Expected.Set) {
        #expect(images.shape == set.shape)
        #expect(images.labels == set.images.map(\.label))
        if let names = set.classNames { #expect(images.classNames == names) }
        let values = set.images.flatMap(\.planes).map { Float($0) / 255 }
        #expect(images.pixels == values)
    }

    @Test("a colour PNG folder (8- and 16-bit RGB, a palette image): classes from subfolders, every value")
    func colourFolder() throws {
        let e = try Self.expected()
        let splits = try DataSource.load(Self.fixtures + "/colour-folder")
        check(splits.train, against: e.colourFolder)
        #expect(splits.test == nil)
    }

    @Test("a gray PNG folder")
    func grayFolder() throws {
        check(try ImageFolder.read(path: Self.fixtures + "/gray-folder"), against: try Self.expected().grayFolder)
    }

    @Test("a CIFAR-10 batch: labels, planes, class names; written back byte for byte")
    func cifar() throws {
        let path = Self.fixtures + "/tiny-cifar.bin"
        let images = try DataSource.load(path).train
        check(images, against: try Self.expected().cifar)
        #expect(images.classNames?[3] == "cat")
        #expect(try CIFAR10.bytes(images) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test("NumPy: a compressed .npz of uint8 images, a Keras-style .npz, a folder of .npy float32 arrays")
    func numPy() throws {
        check(try DataSource.load(Self.fixtures + "/tiny.npz").train, against: try Self.expected().npz)
        let keras = try DataSource.load(Self.fixtures + "/keras.npz")
        #expect(keras.train.labels == [0, 1, 1] && keras.test?.labels == [1, 0])
        #expect(keras.train.shape == [1, 2, 2])
        let folder = try DataSource.load(Self.fixtures + "/npy-folder").train
        #expect(folder.shape == [2, 4, 5] && folder.labels == [2, 0, 1])
        #expect(folder.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test("npz and npy written here are read back identically")
    func numPyRoundTrip() throws {
        let a = try NumPyArray(float32: [1.5, -2, 0, 3.25, 1e-7, 8], shape: [2, 3])
        let b = try NumPyArray(int64: [4, -1, 7], shape: [3])
        #expect(try NumPyArray.parse(a.npyBytes(), path: "a") == a)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt-\(UUID().uuidString).npz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NumPyArchive.write(["a": a, "b": b], to: path)
        let back = try NumPyArchive.read(path: path)
        #expect(back["a"] == a && back["b"] == b)
        #expect(back["a"]!.floats() == [1.5, -2, 0, 3.25, 1e-7, 8])
    }

    @Test("safetensors round trip is bit-exact, metadata included")
    func safeTensorsRoundTrip() throws {
        let values: [Float] = [.pi, -0.0, 1e-30, .greatestFiniteMagnitude, 7]
        let file = SafeTensors.File(
            tensors: [
                "0.weight": try NumPyArray(float32: values, shape: [5, 1]),
                "steps": try NumPyArray(int64: [12], shape: []),
                "empty": try NumPyArray(float32: [], shape: [0, 3]),
                "a \"quoted\"\\name\n": try NumPyArray(int64: [1, 2], shape: [2])
            ], metadata: ["format": "pt", "architecture": "{\"name\": \"x\"}"])
        let bytes = SafeTensors.bytes(file)
        let headerLength = Int(UInt64(littleEndianBytes: bytes, at: 0))
        #expect(headerLength % 8 == 0)
        let back = try SafeTensors.parse(bytes, path: "x")
        #expect(back == file)
        #expect(back.tensors["0.weight"]!.floats().map(\.bitPattern) == values.map(\.bitPattern))
        #expect(SafeTensors.bytes(back) == bytes)
    }

    @Test("PNG written here decodes to the same planes")
    func pngRoundTrip() throws {
        let planes = (0..<(3 * 4 * 6)).map { UInt8(($0 * 37) % 256) }
        let image = PNGFile.Image(channels: 3, height: 4, width: 6, planes: planes)
        let bytes = try PNGFile.encode(image)
        #expect(try PNGFile.isColor(bytes, path: "x"))
        #expect(try PNGFile.decode(bytes, channels: 3, path: "x") == image)
        #expect(throws: DatasetError.self) { try PNGFile.decode(bytes, channels: 2, path: "x") }
    }

    @Test("a random split keeps every image once, with the fraction asked for")
    func split() throws {
        let images = try LabeledImages(
            shape: [1, 1, 2], pixels: (0..<20).map(Float.init), labels: Array(0..<10), source: "s")
        let (train, test) = try images.split(testFraction: 0.3, seed: 5)
        #expect(train.count == 7 && test.count == 3)
        #expect(Set(train.labels).union(test.labels) == Set(0..<10))
        #expect(try images.split(testFraction: 0.3, seed: 5).test == test)
        #expect(throws: DatasetError.self) { try images.split(testFraction: 1, seed: 5) }
    }
}

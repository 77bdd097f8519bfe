import CZlib
import Foundation
import Testing
import Datasets

@Suite("MNIST IDX files")
struct MNISTTests {
    /// The project's own copy, found from this file's location.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data/mnist").path

    @Test("the shipped test split: 10,000 digits of 28×28 with every label")
    func shippedTestSplit() throws {
        let test = try MNIST.load(directory: Self.directory, split: .test)
        #expect(test.count == 10_000 && test.rows == 28 && test.columns == 28)
        #expect(test.pixels.count == 10_000 * 784)
        #expect(Set(test.labels) == Set(0...9))
        #expect(test.labels.prefix(5) == [7, 2, 1, 0, 4])  // the well-known first test digits
        let mean = Double(test.pixels.reduce(0) { $0 + Int($1) }) / Double(test.pixels.count) / 255
        #expect(abs(mean - 0.1325) < 0.002)
    }

    func write(_ bytes: [UInt8], gzip: Bool) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "idx-\(UUID().uuidString)\(gzip ? ".gz" : "")"
        ).path
        if gzip {
            let f = gzopen(path, "wb")
            _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
            gzclose(f)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        }
        return path
    }

    func idx(_ magic: UInt8, _ dims: [Int], data: [UInt8]) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, magic]
        for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return b + data
    }

    @Test("bad files: wrong magic, truncated, label count disagreeing, missing, corrupt gzip")
    func badFiles() throws {
        let images = try write(idx(3, [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8]), gzip: true)
        let labels = try write(idx(1, [2], data: [3, 9]), gzip: false)
        let ok = try MNIST.load(images: images, labels: labels)
        #expect(ok.count == 2 && ok.image(1) == [5, 6, 7, 8].map { Float($0) / 255 })

        let wrongMagic = try write(idx(2, [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8]), gzip: false)
        #expect(throws: DatasetError.self) { try MNIST.load(images: wrongMagic, labels: labels) }
        let truncated = try write(idx(3, [2, 2, 2], data: [1, 2, 3]), gzip: true)
        #expect { try MNIST.load(images: truncated, labels: labels) } throws: { error in
            (error as? DatasetError)?.description.contains("truncated") == true
                && (error as? DatasetError)?.description.contains(truncated) == true
        }
        let threeLabels = try write(idx(1, [3], data: [1, 2, 3]), gzip: false)
        #expect(throws: DatasetError.self) { try MNIST.load(images: images, labels: threeLabels) }
        let badLabel = try write(idx(1, [2], data: [1, 12]), gzip: false)
        #expect(throws: DatasetError.self) { try MNIST.load(images: images, labels: badLabel) }
        #expect(throws: DatasetError.self) { try MNIST.load(directory: "/nonexistent", split: .train) }
        var corrupt = [UInt8](try Data(contentsOf: URL(fileURLWithPath: images)))
        corrupt[corrupt.count / 2] ^= 0xFF
        let corruptPath = try write(corrupt, gzip: false)
        let renamed = corruptPath + ".gz"
        try FileManager.default.moveItem(atPath: corruptPath, toPath: renamed)
        #expect(throws: DatasetError.self) { try MNIST.load(images: renamed, labels: labels) }
    }
}

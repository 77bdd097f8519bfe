import Foundation
import NumericalCore
import Testing

@testable import Datasets

/// Malformed and hostile data files: each is refused with a typed error naming the file (and
/// the entry or record), before anything sized by the file is allocated.
@Suite("Malformed data files")
struct MalformedDataTests {
    func temporary(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func refuses(_ path: String, mentioning words: [String], limits: ResourceLimits = .standard) {
        do {
            _ = try DataSource.load(path, limits: limits)
            Issue.record("\(path) was accepted")
        } catch let e as DatasetError {
            let text = "\(e)"
            #expect(text.contains((path as NSString).lastPathComponent), "\(text)")
            for w in words { #expect(text.contains(w), "\(text) lacks \(w)") }
        } catch { Issue.record("\(path): untyped error \(error)") }
    }

    func npy(_ header: String, data: [UInt8]) -> [UInt8] {
        var h = header
        h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)]
            + Array(h.utf8) + data
    }

    @Test("CIFAR: a truncated record, a label out of range")
    func cifar() throws {
        refuses(try temporary("cut.bin", [UInt8](repeating: 1, count: 3073 + 10)), mentioning: ["records"])
        refuses(
            try temporary("label.bin", [12] + [UInt8](repeating: 0, count: 3072)), mentioning: ["record 0", "label 12"])
    }

    @Test("NumPy: a huge declared shape, a wrong element type, Fortran order, a short file")
    func numPy() throws {
        func npz(_ name: String, _ arrays: [String: [UInt8]]) throws -> String {
            let path = try temporary(name, [])
            try FileManager.default.removeItem(atPath: path)
            try NumPyArchive.write(
                arrays.mapValues { try! NumPyArray(elementType: .uint8, shape: [$0.count], data: $0) }, to: path)
            return path
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let labels = try NumPyArray(int64: [0], shape: [1]).npyBytes()
        _ = FileManager.default.createFile(atPath: dir + "/labels.npy", contents: Data(labels))
        let huge = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (100000000000, 28, 28), }", data: [1, 2])
        _ = FileManager.default.createFile(atPath: dir + "/images.npy", contents: Data(huge))
        refuses(dir, mentioning: ["images.npy"])
        let f16 = npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1, 1), }", data: [0, 0])
        _ = FileManager.default.createFile(atPath: dir + "/images.npy", contents: Data(f16))
        refuses(dir, mentioning: ["images.npy", "f2"])
        let fortran = npy("{'descr': '|u1', 'fortran_order': True, 'shape': (1, 1, 1), }", data: [0])
        _ = FileManager.default.createFile(atPath: dir + "/images.npy", contents: Data(fortran))
        refuses(dir, mentioning: ["Fortran"])
        let short = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }", data: [0, 1])
        _ = FileManager.default.createFile(atPath: dir + "/images.npy", contents: Data(short))
        refuses(dir, mentioning: ["needs 8 bytes"])
        refuses(try temporary("junk.npz", Array("not a zip".utf8)), mentioning: ["zip"])
        refuses(try npz("keys.npz", ["pictures": [1]]), mentioning: ["pictures"])
    }

    @Test("PNG folder: a corrupt image, images of two sizes, an empty folder")
    func pngFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/a/0.png", contents: Data("PNG? no".utf8))
        refuses(root, mentioning: ["0.png", "PNG"])
        let small = try PNGFile.encode(.init(channels: 1, height: 2, width: 2, planes: [0, 1, 2, 3]))
        let large = try PNGFile.encode(.init(channels: 1, height: 3, width: 2, planes: [0, 1, 2, 3, 4, 5]))
        _ = FileManager.default.createFile(atPath: root + "/a/0.png", contents: Data(small))
        _ = FileManager.default.createFile(atPath: root + "/a/1.png", contents: Data(large))
        refuses(root, mentioning: ["1.png", "[1, 3, 2]"])
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        refuses(empty, mentioning: ["no class subfolders"])
        refuses(empty + "/missing", mentioning: ["no such"])
    }

    @Test("safetensors: offsets past the end, a shape that does not fill its bytes, overlaps, a huge header")
    func safeTensors() throws {
        func file(_ header: String, data: Int) -> [UInt8] {
            let h = Array(header.utf8)
            return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * $0)) } + h
                + [UInt8](repeating: 0, count: data)
        }
        let cases: [(String, [UInt8], String)] = [
            ("past", file(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8), "outside"),
            ("fill", file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, data: 16), "does not fill"),
            (
                "overlap",
                file(
                    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                        + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    data: 12), "overlap"
            ),
            ("dtype", file(#"{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: 2), "F16"),
            ("header", [255, 255, 255, 255, 0, 0, 0, 0, 1, 2], "header length")
        ]
        for (name, bytes, words) in cases {
            #expect {
                try SafeTensors.parse(bytes, path: name)
            } throws: { error in
                "\(error)".contains(name) && "\(error)".contains(words)
            }
        }
    }

    @Test("a file larger than the data limit is refused before it is read")
    func limit() throws {
        var limits = ResourceLimits.standard
        limits.dataBytes = 1000
        refuses(try temporary("big.bin", [UInt8](repeating: 0, count: 3073)), mentioning: ["dataBytes"], limits: limits)
    }
}

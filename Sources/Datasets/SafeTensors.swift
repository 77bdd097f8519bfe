import Foundation
import NumericalCore

/// The safetensors format that PyTorch (`safetensors.torch.save_file` / `load_file`) and
/// Hugging Face use: an 8-byte little-endian header length `N`, a JSON header of `N` bytes
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …,
/// "__metadata__": {…}}`), then the tensors' little-endian bytes, offsets relative to the end
/// of the header. Tensors are ``NumPyArray`` values (element types U8, I32, I64, F32, F64).
public enum SafeTensors {
    /// The header size the format allows (100 MB).
    public static let maximumHeaderSize = 100_000_000

    /// A file's tensors by name, and its `__metadata__` strings.
    public struct File: Sendable, Equatable {
        /// The tensors by name.
        public var tensors: [String: NumPyArray]
        /// Free-form string metadata.
        public var metadata: [String: String]

        /// A file of `tensors` with `metadata`.
        public init(tensors: [String: NumPyArray], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    private static let dtypes: [String: NumPyArray.ElementType] = [
        "U8": .uint8, "I32": .int32, "I64": .int64, "F32": .float32, "F64": .float64
    ]

    /// Parses a safetensors file's bytes; `path` names it in errors. Every offset and size is
    /// checked against the bytes present before a tensor is copied.
    public static func parse(_ bytes: [UInt8], path: String) throws -> File {
        guard bytes.count >= 8 else {
            throw DatasetError.malformed(path: path, reason: "shorter than its 8-byte header length")
        }
        let n = Int(clamping: UInt64(littleEndianBytes: bytes, at: 0))
        guard n <= maximumHeaderSize, n <= bytes.count - 8 else {
            throw DatasetError.malformed(
                path: path, reason: "header length \(n) runs past the file's \(bytes.count) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])),
            let header = object as? [String: Any]
        else { throw DatasetError.malformed(path: path, reason: "the header is not a JSON object") }
        let start = 8 + n, available = bytes.count - start
        var file = File(tensors: [:])
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let metadata = value as? [String: String] else {
                    throw DatasetError.malformed(path: path, reason: "__metadata__ must map strings to strings")
                }
                file.metadata = metadata
                continue
            }
            let where_ = "\(path)[\(name)]"
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw DatasetError.malformed(path: where_, reason: "needs dtype, shape and two data_offsets") }
            guard let type = dtypes[dtype] else {
                throw DatasetError.malformed(
                    path: where_, reason: "dtype \(dtype) is not one of U8, I32, I64, F32, F64")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard 0 <= begin, begin <= end, end <= available else {
                throw DatasetError.malformed(
                    path: where_, reason: "data_offsets [\(begin), \(end)] outside the \(available) data bytes")
            }
            guard shape.allSatisfy({ $0 >= 0 }), let count = ResourceLimits.product(shape + [type.size]),
                count == end - begin
            else {
                throw DatasetError.malformed(
                    path: where_, reason: "shape \(shape) of \(dtype) does not fill \(end - begin) bytes")
            }
            if end > begin { ranges.append((begin, end, name)) }
            file.tensors[name] = try NumPyArray(
                elementType: type, shape: shape, data: Array(bytes[(start + begin)..<(start + end)]))
        }
        ranges.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw DatasetError.malformed(path: path, reason: "tensors \(a.2) and \(b.2) overlap")
        }
        return file
    }

    /// Reads a safetensors file of at most `limits.dataBytes` bytes.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> File {
        try parse(try readBoundedFile(path, limit: limits.dataBytes), path: path)
    }

    /// The file's bytes: tensors in name order, the header padded with spaces to a multiple of 8.
    public static func bytes(_ file: File) -> [UInt8] {
        var entries: [String] = []
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            let t = file.tensors[name]!
            let dtype = dtypes.first { $0.value == t.elementType }!.key
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(name.jsonQuoted):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(offset + t.data.count)]}")
            offset += t.data.count
        }
        if !file.metadata.isEmpty {
            let pairs = file.metadata.keys.sorted().map { "\($0.jsonQuoted):\(file.metadata[$0]!.jsonQuoted)" }
            entries.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var out = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) } + header
        out.reserveCapacity(out.count + offset)
        for name in names { out += file.tensors[name]!.data }
        return out
    }
}

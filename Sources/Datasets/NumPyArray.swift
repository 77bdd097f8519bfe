import Foundation
import NumericalCore

/// A NumPy array as a `.npy` file holds it (format versions 1–3): a C-order array of unsigned
/// bytes, 32- or 64-bit integers, or 32- or 64-bit floats, little-endian.
///
/// The header is a Python dictionary literal, `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (N, H, W), }`; the data follow it. Fortran-order arrays and other element types are
/// refused with the file named.
public struct NumPyArray: Sendable, Equatable {
    /// The element types read and written.
    public enum ElementType: String, Sendable, CaseIterable {
        /// `|u1`: unsigned bytes (images).
        case uint8 = "|u1"
        /// `<i4`: 32-bit signed integers.
        case int32 = "<i4"
        /// `<i8`: 64-bit signed integers (NumPy's default for labels).
        case int64 = "<i8"
        /// `<f4`: 32-bit floats.
        case float32 = "<f4"
        /// `<f8`: 64-bit floats.
        case float64 = "<f8"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .uint8: return 1
            case .int32, .float32: return 4
            case .int64, .float64: return 8
            }
        }
    }

    /// The element type.
    public var elementType: ElementType
    /// The shape, outermost first.
    public var shape: [Int]
    /// The elements' bytes, C order, little-endian.
    public var data: [UInt8]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// An array from its raw little-endian bytes; throws if their count disagrees with `shape`.
    public init(elementType: ElementType, shape: [Int], data: [UInt8]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let n = ResourceLimits.product(shape), n * elementType.size == data.count
        else {
            throw DatasetError.mismatch(
                "a \(elementType.rawValue) array of shape \(shape) cannot hold \(data.count) bytes")
        }
        self.elementType = elementType
        self.shape = shape
        self.data = data
    }

    /// A float32 array of `values` with `shape`.
    public init(float32 values: [Float], shape: [Int]) throws {
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        for (i, v) in values.enumerated() {
            let b = v.bitPattern.littleEndian
            for k in 0..<4 { bytes[4 * i + k] = UInt8(truncatingIfNeeded: b >> (8 * k)) }
        }
        try self.init(elementType: .float32, shape: shape, data: bytes)
    }

    /// An int64 array of `values` with `shape`.
    public init(int64 values: [Int], shape: [Int]) throws {
        var bytes = [UInt8](repeating: 0, count: values.count * 8)
        for (i, v) in values.enumerated() {
            let b = UInt64(bitPattern: Int64(v)).littleEndian
            for k in 0..<8 { bytes[8 * i + k] = UInt8(truncatingIfNeeded: b >> (8 * k)) }
        }
        try self.init(elementType: .int64, shape: shape, data: bytes)
    }

    /// The elements as Float (integers converted, float64 rounded).
    public func floats() -> [Float] {
        (0..<count).map { i in
            switch elementType {
            case .uint8: return Float(data[i])
            case .int32: return Float(Int32(bitPattern: UInt32(littleEndianBytes: data, at: 4 * i)))
            case .int64: return Float(Int64(bitPattern: UInt64(littleEndianBytes: data, at: 8 * i)))
            case .float32: return Float(bitPattern: UInt32(littleEndianBytes: data, at: 4 * i))
            case .float64: return Float(Double(bitPattern: UInt64(littleEndianBytes: data, at: 8 * i)))
            }
        }
    }

    /// The elements as integers; throws (naming `path`) if a float element is not integral.
    public func integers(path: String) throws -> [Int] {
        let values = elementType == .float32 || elementType == .float64 ? floats() : []
        return try (0..<count).map { i in
            switch elementType {
            case .uint8: return Int(data[i])
            case .int32: return Int(Int32(bitPattern: UInt32(littleEndianBytes: data, at: 4 * i)))
            case .int64: return Int(Int64(bitPattern: UInt64(littleEndianBytes: data, at: 8 * i)))
            case .float32, .float64:
                let v = Double(values[i])
                guard v.rounded() == v, abs(v) < 1e15 else {
                    throw DatasetError.malformed(path: path, reason: "element \(i) is \(v), not an integer")
                }
                return Int(v)
            }
        }
    }

    /// Parses a `.npy` file's bytes; `path` names it in errors. The header's shape is checked
    /// against `limits` and against the bytes present before anything is allocated.
    public static func parse(_ bytes: [UInt8], path: String, limits: ResourceLimits = .standard) throws -> NumPyArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw DatasetError.malformed(path: path, reason: "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let (lengthBytes, headerStart): (Int, Int) = major == 1 ? (2, 10) : (4, 12)
        guard (1...3).contains(major), bytes.count >= headerStart else {
            throw DatasetError.malformed(path: path, reason: "unsupported .npy format version \(major)")
        }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        guard headerStart + headerLength <= bytes.count else {
            throw DatasetError.malformed(path: path, reason: "header of \(headerLength) bytes runs past the file's end")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let (type, shape) = try parseHeader(header, path: path)
        let dataStart = headerStart + headerLength
        let images = shape.first ?? 1
        try limits.limited(path: path) {
            _ = try limits.check(images, limit: \.images, what: "the array's first dimension")
            let bytesNeeded = try limits.checkedProduct(
                shape + [type.size], limit: \.dataBytes, what: "the array of shape \(shape)")
            guard bytesNeeded == bytes.count - dataStart else {
                throw DatasetError.malformed(
                    path: path,
                    reason: "shape \(shape) of \(type.rawValue) needs \(bytesNeeded) bytes of data, "
                        + "the file has \(bytes.count - dataStart)")
            }
        }
        return try NumPyArray(elementType: type, shape: shape, data: Array(bytes[dataStart...]))
    }

    /// The element type and shape of a `.npy` header dictionary.
    private static func parseHeader(_ header: String, path: String) throws -> (ElementType, [Int]) {
        func value(of key: String) throws -> Substring {
            guard let range = header.range(of: "'\(key)':") else {
                throw DatasetError.malformed(path: path, reason: "the header has no '\(key)'")
            }
            return header[range.upperBound...].drop(while: { $0 == " " })
        }
        let descr = try value(of: "descr")
        guard descr.first == "'", let end = descr.dropFirst().firstIndex(of: "'") else {
            throw DatasetError.malformed(path: path, reason: "unreadable 'descr' in the header")
        }
        let code = String(descr[descr.index(after: descr.startIndex)..<end]).replacingOccurrences(of: "=", with: "<")
        guard let type = ElementType(rawValue: code == "<u1" ? "|u1" : code) else {
            throw DatasetError.malformed(
                path: path, reason: "element type '\(code)' is not one of u1, <i4, <i8, <f4, <f8 (little-endian)")
        }
        guard try value(of: "fortran_order").hasPrefix("False") else {
            throw DatasetError.malformed(path: path, reason: "Fortran-order arrays are not read; save in C order")
        }
        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw DatasetError.malformed(path: path, reason: "unreadable 'shape' in the header")
        }
        let fields = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try fields.map { field -> Int in
            guard let n = Int(field.hasSuffix("L") ? String(field.dropLast()) : field), n >= 0 else {
                throw DatasetError.malformed(path: path, reason: "shape entry '\(field.prefix(20))' is not a size")
            }
            return n
        }
        return (type, shape)
    }

    /// Reads a `.npy` file.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> NumPyArray {
        try parse(try readBoundedFile(path, limit: limits.dataBytes), path: path, limits: limits)
    }

    /// The array as a version-1 `.npy` file (header padded to a multiple of 64 bytes).
    public func npyBytes() -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(elementType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
            + Array(header.utf8) + data
    }
}

extension UInt32 {
    /// The little-endian value of four bytes of `bytes` from `offset`.
    init(littleEndianBytes bytes: [UInt8], at offset: Int) {
        self = (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}

extension UInt64 {
    /// The little-endian value of eight bytes of `bytes` from `offset`.
    init(littleEndianBytes bytes: [UInt8], at offset: Int) {
        self = (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }
}

internal import CZip
import Foundation
import NumericalCore

/// NumPy's `.npz` archive: a zip file of `.npy` arrays (`numpy.savez`, stored or deflated),
/// read and written through libzip.
public enum NumPyArchive {
    /// The arrays of an `.npz` file by name (without `.npy`). Every entry's declared size is
    /// checked against `limits` before it is read.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> [String: NumPyArray] {
        var bytes = try readBoundedFile(path, limit: limits.dataBytes)
        return try bytes.withUnsafeMutableBytes { buffer -> [String: NumPyArray] in
            var error = zip_error_t()
            zip_error_init(&error)
            defer { zip_error_fini(&error) }
            guard let source = zip_source_buffer_create(buffer.baseAddress, UInt64(buffer.count), 0, &error) else {
                throw DatasetError.malformed(path: path, reason: "cannot open as a zip archive")
            }
            guard let archive = zip_open_from_source(source, ZIP_RDONLY, &error) else {
                zip_source_free(source)
                let message = zip_error_strerror(&error).map { String(cString: $0) } ?? "unknown error"
                throw DatasetError.malformed(path: path, reason: "not a .npz (zip) archive: \(message)")
            }
            defer { zip_discard(archive) }
            return try entries(of: archive, path: path, limits: limits)
        }
    }

    private static func entries(of archive: OpaquePointer, path: String, limits: ResourceLimits) throws
        -> [String: NumPyArray]
    {
        var arrays: [String: NumPyArray] = [:]
        var total = 0
        for index in 0..<zip_get_num_entries(archive, 0) {
            var stat = zip_stat_t()
            zip_stat_init(&stat)
            guard zip_stat_index(archive, UInt64(index), 0, &stat) == 0, let cName = stat.name else {
                throw DatasetError.malformed(path: path, reason: "entry \(index) is unreadable")
            }
            let name = String(cString: cName)
            let entry = "\(path)[\(name)]"
            guard name.hasSuffix(".npy") else { continue }
            let size = Int(clamping: stat.size)
            total = try limits.limited(path: entry) {
                try limits.check(total + size, limit: \.dataBytes, what: "the archive's arrays together")
            }
            guard let file = zip_fopen_index(archive, UInt64(index), 0) else {
                throw DatasetError.malformed(path: entry, reason: "cannot open the entry (unsupported compression?)")
            }
            defer { zip_fclose(file) }
            var data = [UInt8](repeating: 0, count: size)
            let read = data.withUnsafeMutableBytes { zip_fread(file, $0.baseAddress, UInt64(size)) }
            guard read == size else {
                throw DatasetError.malformed(path: entry, reason: "\(read) of \(size) bytes could be read")
            }
            arrays[String(name.dropLast(4))] = try NumPyArray.parse(data, path: entry, limits: limits)
        }
        return arrays
    }

    /// Writes `arrays` as an `.npz` archive (`numpy.load` reads it), replacing `path` only
    /// once the whole archive is written.
    public static func write(_ arrays: [String: NumPyArray], to path: String) throws {
        var code: Int32 = 0
        guard let archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code) else {
            throw DatasetError.unreadable(path: path, reason: "cannot create the archive (libzip error \(code))")
        }
        for name in arrays.keys.sorted() {
            let bytes = arrays[name]!.npyBytes()
            let copy = malloc(max(bytes.count, 1))!
            bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            guard let source = zip_source_buffer(archive, copy, UInt64(bytes.count), 1),
                zip_file_add(archive, name + ".npy", source, zip_flags_t(ZIP_FL_OVERWRITE)) >= 0
            else {
                let message = String(cString: zip_strerror(archive))
                zip_discard(archive)
                throw DatasetError.unreadable(path: path, reason: "cannot add \(name).npy: \(message)")
            }
        }
        guard zip_close(archive) == 0 else {
            let message = String(cString: zip_strerror(archive))
            zip_discard(archive)
            throw DatasetError.unreadable(path: path, reason: "cannot write the archive: \(message)")
        }
    }
}

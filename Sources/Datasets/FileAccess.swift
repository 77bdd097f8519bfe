import Foundation
import NumericalCore

/// Reads a whole file whose size is at most `limit` bytes (checked before reading); a
/// ``DatasetError`` names the file otherwise.
public func readBoundedFile(_ path: String, limit: Int) throws -> [UInt8] {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    guard let size = (attributes?[.size] as? NSNumber)?.intValue else {
        throw DatasetError.unreadable(path: path, reason: "no such file, or not readable")
    }
    guard size <= limit else {
        throw DatasetError.tooLarge(
            path: path, reason: "\(size) bytes is above the limit of \(limit) (raise it with --limit dataBytes=N)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DatasetError.unreadable(path: path, reason: "not readable")
    }
    return [UInt8](data)
}

extension ResourceLimits {
    /// Runs `body`, reporting a limit it exceeds as ``DatasetError/tooLarge(path:reason:)``.
    func limited<R>(path: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as ResourceLimitError {
            throw DatasetError.tooLarge(path: path, reason: "\(e)")
        }
    }
}

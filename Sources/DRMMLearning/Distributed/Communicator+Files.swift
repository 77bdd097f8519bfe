import Foundation
import NumericalCore

extension Communicator {
    /// The bytes rank 0 produces with `body` (reading a file, typically), on every rank: rank 0
    /// broadcasts them, or the error `body` threw, so that every rank returns or throws
    /// together and no rank needs to see rank 0's files.
    public func fromRoot(_ body: () throws -> [UInt8]) throws -> [UInt8] {
        guard size > 1 else { return try body() }
        var message: [UInt8]
        var failure: Error?
        if isRoot {
            do { message = [1] + (try body()) } catch {
                failure = error
                message = [0] + Array("\(error)".utf8)
            }
        } else {
            message = []
        }
        try broadcast(&message, from: 0)
        if let failure { throw failure }
        guard let status = message.first else { throw DistributedError.communication("an empty broadcast") }
        guard status == 1 else {
            throw DistributedError.communication("rank 0: \(String(decoding: message.dropFirst(), as: UTF8.self))")
        }
        return Array(message.dropFirst())
    }

    /// Every rank's `bytes`, in rank order, on every rank (each rank broadcasts its own in turn).
    public func gather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard size > 1 else { return [bytes] }
        return try (0..<size).map { r in
            var b = r == rank ? bytes : []
            try broadcast(&b, from: r)
            return b
        }
    }
}

extension Checkpoint {
    /// Reads a checkpoint on rank 0 and hands it to every rank (``Communicator/fromRoot(_:)``):
    /// the ranks of a job need not share a file system.
    public static func read(from path: String, limits: ResourceLimits = .standard, communicator: any Communicator)
        throws -> Checkpoint
    {
        guard communicator.size > 1 else { return try read(from: path, limits: limits) }
        let bytes = try communicator.fromRoot {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LearningError.checkpoint(path: path, reason: "cannot be read")
            }
            return [UInt8](data)
        }
        return try decode(Data(bytes), path: path, limits: limits)
    }
}

import Foundation

/// The collective operations that data-parallel training and EM need between the processes
/// ("ranks") of a job: an in-place sum over all ranks and a broadcast from one rank.
///
/// Every rank calls the same operations in the same order, with buffers of the same length.
/// ``SingleProcess`` is the job of one rank (every operation returns at once);
/// ``InProcessGroup`` runs ranks as threads of one process; the `DRMMMPI` module (the package
/// trait `MPI`) runs them as MPI processes, across machines.
///
/// An implementation sums each element over the ranks; for two ranks the sum `a + b` is the
/// same number in either order, so a 2-rank job reproduces a 1-rank job of the same shards bit
/// for bit. With more ranks the bracketing of the sum is the implementation's (MPI chooses it
/// by message size), and results agree with one process to rounding.
public protocol Communicator: AnyObject {
    /// This process's rank, `0 ..< size`.
    var rank: Int { get }
    /// The number of ranks in the job.
    var size: Int { get }
    /// Replaces every element of `values` by its sum over the ranks.
    func sum(_ values: inout [Float]) throws
    /// Replaces every element of `values` by its sum over the ranks.
    func sum(_ values: inout [Double]) throws
    /// Replaces `bytes` on every rank by rank `root`'s bytes (whose length may differ).
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws
}

/// Why a collective operation failed.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// The ranks disagree on something that must be the same everywhere (the configuration,
    /// the data, the program).
    case mismatch(String)
    /// The message-passing layer reported an error.
    case communication(String)

    /// The error as one line.
    public var description: String {
        switch self {
        case let .mismatch(m): return "the ranks disagree: \(m)"
        case let .communication(m): return "communication failed: \(m)"
        }
    }
}

/// The job of one process: every collective operation is the identity.
public final class SingleProcess: Communicator {
    /// Always 0.
    public let rank = 0
    /// Always 1.
    public let size = 1
    /// A one-rank job.
    public init() {}
    /// Leaves `values` as they are.
    public func sum(_ values: inout [Float]) throws {}
    /// Leaves `values` as they are.
    public func sum(_ values: inout [Double]) throws {}
    /// Leaves `bytes` as they are.
    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {}
}

extension Communicator {
    /// Whether this rank is rank 0, the one that writes files.
    public var isRoot: Bool { rank == 0 }

    /// Replaces `values` by rank `root`'s (same length on every rank).
    public func broadcast<T: BinaryFloatingPoint>(_ values: inout [T], from root: Int = 0) throws {
        var bytes = values.withUnsafeBytes { Array($0) }
        try broadcast(&bytes, from: root)
        let width = MemoryLayout<T>.size
        guard bytes.count == values.count * width else {
            throw DistributedError.mismatch(
                "rank \(root) sent \(bytes.count / width) values, rank \(rank) expected \(values.count)")
        }
        values.withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
    }

    /// The sum of one number over the ranks.
    public func sum(_ value: Double) throws -> Double {
        var v = [value]
        try sum(&v)
        return v[0]
    }

    /// Checks that every rank holds the same `description` of `what` (a configuration, a data
    /// set's fingerprint, the program's version) and throws ``DistributedError/mismatch(_:)``
    /// on every rank if one differs: rank 0's text is broadcast and each rank reports whether
    /// its own equals it, so that all ranks fail together rather than wait for one another.
    public func requireAgreement(on description: String, what: String) throws {
        var bytes = Array(description.utf8)
        try broadcast(&bytes, from: 0)
        let differs = bytes != Array(description.utf8)
        var flags = [Double](repeating: 0, count: size)
        if differs { flags[rank] = 1 }
        try sum(&flags)
        let ranks = flags.indices.filter { flags[$0] != 0 }
        guard ranks.isEmpty else {
            throw DistributedError.mismatch(
                "\(what) of rank\(ranks.count > 1 ? "s" : "") \(ranks.map(String.init).joined(separator: ", ")) "
                    + "differs from rank 0's")
        }
    }
}

/// A 64-bit FNV-1a checksum, word by word: what ranks compare to find that they hold other
/// data or another program (not a cryptographic hash).
public struct Checksum: Sendable, Equatable {
    /// The running value.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// An empty checksum.
    public init() {}

    /// Mixes in one 64-bit word.
    @inline(__always)
    public mutating func add(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01B3 }

    /// Mixes in `bytes`, eight at a time, then the rest one by one.
    public mutating func add(bytes: UnsafeRawBufferPointer) {
        let words = bytes.count / 8
        for i in 0..<words { add(bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
        for i in (words * 8)..<bytes.count { add(UInt64(bytes[i])) }
    }

    /// The value in hexadecimal.
    public var hex: String { String(value, radix: 16) }
}

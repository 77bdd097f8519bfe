#if MPI
internal import CMPI
import DRMMLearning
import Foundation

/// The ranks of an MPI job (`mpirun -np N …`, `srun …`) as a `Communicator`:
/// sums are `MPI_Allreduce` in place, broadcasts `MPI_Bcast`, all on `MPI_COMM_WORLD`.
///
/// Errors come back as `DistributedError` (`MPI_ERRORS_RETURN`), and a
/// watchdog bounds every collective: one that has not completed after ``timeout`` seconds —
/// a rank died, a node hangs, the network is gone — ends this process with exit status 3
/// and a message on stderr, and the MPI launcher then ends the job. Writes of checkpoints
/// are atomic, so the last one stays intact.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The ranks in `MPI_COMM_WORLD`.
    public let size: Int
    /// Seconds a collective may take before the job is ended.
    public let timeout: Double
    private let watchdog: Watchdog
    nonisolated(unsafe) private static var initialized = false

    /// Initialises MPI (once per process) and returns the communicator of `MPI_COMM_WORLD`.
    ///
    /// - Parameter timeout: Seconds a collective may wait for the other ranks.
    public init(timeout: Double = 600) throws {
        guard timeout > 0, timeout.isFinite else {
            throw DistributedError.communication("the step timeout must be positive, not \(timeout)")
        }
        guard !Self.initialized else {
            throw DistributedError.communication("MPI is initialised once per process")
        }
        var provided: Int32 = 0
        try Self.check(MPI_Init_thread(nil, nil, drmm_mpi_thread_funneled(), &provided), "MPI_Init_thread")
        Self.initialized = true
        try Self.check(MPI_Comm_set_errhandler(drmm_mpi_comm_world(), drmm_mpi_errors_return()), "errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(drmm_mpi_comm_world(), &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(drmm_mpi_comm_world(), &s), "MPI_Comm_size")
        (rank, size, self.timeout) = (Int(r), Int(s), timeout)
        watchdog = Watchdog(rank: Int(r), timeout: timeout)
    }

    /// `MPI_Finalize`: call once, after the last collective.
    public func finalize() {
        watchdog.stop()
        MPI_Finalize()
    }

    /// Ends every rank of the job with `code` (`MPI_Abort`).
    public func abort(code: Int32) -> Never {
        MPI_Abort(drmm_mpi_comm_world(), code)
        exit(code)
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_FLOAT, MPI_SUM)`.
    public func sum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { b in
            try allReduce(UnsafeMutableRawPointer(b.baseAddress), count: b.count, drmm_mpi_float(), 4)
        }
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_DOUBLE, MPI_SUM)`.
    public func sum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { b in
            try allReduce(UnsafeMutableRawPointer(b.baseAddress), count: b.count, drmm_mpi_double(), 8)
        }
    }

    /// The length, then the bytes, by `MPI_Bcast` from `root`.
    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
        guard (0..<size).contains(root) else {
            throw DistributedError.communication("broadcast from rank \(root) of \(size)")
        }
        var length = [Int64(bytes.count)]
        try watchdog.guarding("MPI_Bcast") {
            try length.withUnsafeMutableBufferPointer { l in
                try Self.check(
                    MPI_Bcast(l.baseAddress, 1, drmm_mpi_int64(), Int32(root), drmm_mpi_comm_world()), "MPI_Bcast")
            }
        }
        guard length[0] >= 0, length[0] <= Int64(Int32.max) * 64 else {
            throw DistributedError.communication("a broadcast of \(length[0]) bytes")
        }
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        try bytes.withUnsafeMutableBufferPointer { b in
            try chunks(b.count, "MPI_Bcast") { offset, count in
                try Self.check(
                    MPI_Bcast(
                        b.baseAddress.map { UnsafeMutableRawPointer($0 + offset) }, count, drmm_mpi_byte(),
                        Int32(root), drmm_mpi_comm_world()), "MPI_Bcast")
            }
        }
    }

    private func allReduce(_ base: UnsafeMutableRawPointer?, count: Int, _ type: MPI_Datatype, _ width: Int)
        throws
    {
        try chunks(count, "MPI_Allreduce") { offset, n in
            try Self.check(
                MPI_Allreduce(
                    drmm_mpi_in_place(), base.map { $0 + offset * width }, n, type, drmm_mpi_sum(),
                    drmm_mpi_comm_world()), "MPI_Allreduce")
        }
    }

    /// Runs `body` on pieces of at most `2³⁰` elements (MPI counts are 32-bit), under the
    /// watchdog.
    private func chunks(_ count: Int, _ what: String, _ body: (Int, Int32) throws -> Void) throws {
        let piece = 1 << 30
        try watchdog.guarding(what) {
            var offset = 0
            repeat {
                let n = min(piece, count - offset)
                try body(offset, Int32(n))
                offset += n
            } while offset < count
        }
    }

    static func check(_ code: Int32, _ what: String) throws {
        guard code != drmm_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(drmm_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DistributedError.communication("\(what): \(message) (MPI error \(code))")
    }
}
#endif

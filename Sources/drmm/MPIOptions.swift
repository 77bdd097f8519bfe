import ArgumentParser
import DRMMLearning
import Foundation

#if MPI
import DRMMMPI
#endif

/// `--mpi` and `--step-timeout`: run a command as one rank of an MPI job (`mpirun -np N drmm …
/// --mpi`), when `drmm` is built with the package trait `MPI`.
struct MPIOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Run as one rank of an MPI job (mpirun -np N drmm … --mpi, or srun): the work is split across the "
                + "ranks and rank 0 writes the files. Needs drmm built with `swift build -c release --traits MPI`."))
    var mpi = false
    @Option(
        help: ArgumentHelp(
            "With --mpi: seconds a collective operation may wait for the other ranks before the job is ended "
                + "(a rank died or hangs)."))
    var stepTimeout = 600.0

    func validate() throws {
        guard stepTimeout > 0, stepTimeout.isFinite else {
            throw ValidationError("--step-timeout must be a positive number of seconds, got \(stepTimeout)")
        }
        #if !MPI
        if mpi {
            throw ValidationError(
                "this drmm was built without MPI; build it with `swift build -c release --traits MPI` (Open MPI or "
                    + "MPICH installed: bash Scripts/install-dependencies.sh --mpi)")
        }
        #endif
    }

    /// Runs `body` with the job's communicator: one process without `--mpi`; with it, MPI is
    /// initialised, every rank checks that all run the same program with the same arguments,
    /// and MPI is finalised after `body` — or, if `body` throws on any rank, the error is
    /// printed and the whole job ended with exit status 1, so that no rank waits for one
    /// that gave up.
    func run(_ body: (any Communicator) throws -> Void) throws {
        guard mpi else { return try body(SingleProcess()) }
        #if MPI
        let c = try MPICommunicator(timeout: stepTimeout)
        do {
            try c.requireAgreement(on: try Self.programFingerprint(), what: "the program (drmm binary)")
            try c.requireAgreement(
                on: CommandLine.arguments.dropFirst().joined(separator: "\u{1F}"), what: "the command line")
            try body(c)
        } catch {
            FileHandle.standardError.write(Data("error: rank \(c.rank) of \(c.size): \(error)\n".utf8))
            c.abort(code: 1)
        }
        c.finalize()
        #endif
    }

    /// A 64-bit FNV-1a checksum of this executable's bytes and its version.
    static func programFingerprint() throws -> String {
        let path = "/proc/self/exe"
        guard let data = FileManager.default.contents(atPath: path) else {
            return "drmm \(DRMMCommand.configuration.version) (executable unreadable)"
        }
        var h = Checksum()
        data.withUnsafeBytes { h.add(bytes: $0) }
        return "drmm \(DRMMCommand.configuration.version) \(data.count) bytes, checksum \(h.hex)"
    }
}

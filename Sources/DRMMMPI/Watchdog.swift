#if MPI
import Foundation

/// Bounds the time of every collective operation: a thread that wakes four times a second
/// and ends the process (exit status 3, with a message naming the rank and the operation)
/// when one has been waiting longer than the timeout. The MPI launcher then ends the job.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: Date?
    private var operation = ""
    private var running = true
    let rank: Int
    let timeout: Double

    init(rank: Int, timeout: Double) {
        self.rank = rank
        self.timeout = timeout
        let thread = Thread { [weak self] in
            while let self, self.tick() { Thread.sleep(forTimeInterval: 0.25) }
        }
        thread.start()
    }

    /// Runs `body`, one collective operation, under the timeout.
    func guarding<R>(_ what: String, _ body: () throws -> R) rethrows -> R {
        lock.withLock { (started, operation) = (Date(), what) }
        defer { lock.withLock { started = nil } }
        return try body()
    }

    func stop() { lock.withLock { running = false } }

    /// One look: false once stopped; ends the process on a timeout.
    private func tick() -> Bool {
        let (alive, waited, what) = lock.withLock { (running, started.map { -$0.timeIntervalSinceNow }, operation) }
        guard alive else { return false }
        if let waited, waited > timeout {
            let message = String(
                format:
                    "error: rank %d: %@ has waited %.0f s for the other ranks (limit %.0f s, --step-timeout): a "
                    + "rank has died or hangs; ending the job (the last checkpoint is intact)\n",
                rank, what, waited, timeout)
            FileHandle.standardError.write(Data(message.utf8))
            _exit(3)
        }
        return true
    }
}
#endif

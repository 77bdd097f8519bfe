import Foundation

/// Ranks that are threads of one process: a group of `size` communicators, one per thread,
/// whose collectives meet in shared memory. Sums are taken in rank order, so a group
/// reproduces a job of the same number of MPI ranks up to the bracketing of the sum (the same
/// for two ranks). For tests, and to simulate a job of several ranks on one machine.
public final class InProcessGroup: @unchecked Sendable {
    /// The communicators, one per rank; hand `communicators[r]` to the thread of rank `r`.
    public private(set) var communicators: [InProcessCommunicator] = []
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var contributions: [[UInt8]]
    private var result: [UInt8] = []

    /// A group of `size` ranks; throws unless `size ≥ 1`.
    public init(size: Int) throws {
        guard size >= 1 else { throw DistributedError.communication("a group needs at least one rank, not \(size)") }
        self.size = size
        contributions = [[UInt8]](repeating: [], count: size)
        communicators = (0..<size).map { InProcessCommunicator(rank: $0, group: self) }
    }

    /// Runs `body` on `size` threads of their own, rank `r`'s with `communicators[r]`, and
    /// returns their results in rank order (rethrowing the first rank's error). Every rank must
    /// make the same collective calls, as in an MPI job.
    public func run<R>(_ body: @escaping @Sendable (InProcessCommunicator) throws -> R) throws -> [R] {
        let box = Results<R>(count: size)
        let done = DispatchGroup()
        for r in 0..<size {
            done.enter()
            let communicator = communicators[r]
            let thread = Thread {
                box.set(r, Result { try body(communicator) })
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return try box.values.map { value in
            guard let value else { throw DistributedError.communication("a rank returned nothing") }
            return try value.get()
        }
    }

    /// Every rank deposits `bytes`; the last to arrive combines them in rank order; all leave
    /// with the combination.
    func exchange(_ rank: Int, _ bytes: [UInt8], combine: ([[UInt8]]) -> [UInt8]) -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        contributions[rank] = bytes
        arrived += 1
        if arrived == size {
            result = combine(contributions)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        return result
    }

    private final class Results<R>: @unchecked Sendable {
        private let lock = NSLock()
        var values: [Result<R, Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<R, Error>) { lock.withLock { values[i] = r } }
    }
}

/// One rank of an ``InProcessGroup``.
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    /// This thread's rank.
    public let rank: Int
    private unowned let group: InProcessGroup
    /// The group's size.
    public var size: Int { group.size }

    init(rank: Int, group: InProcessGroup) {
        self.rank = rank
        self.group = group
    }

    /// Sums in rank order.
    public func sum(_ values: inout [Float]) throws { values = try reduce(values) }

    /// Sums in rank order.
    public func sum(_ values: inout [Double]) throws { values = try reduce(values) }

    private func reduce<T: BinaryFloatingPoint>(_ values: [T]) throws -> [T] {
        let n = values.count
        let out = group.exchange(rank, values.withUnsafeBytes { Array($0) }) { all in
            guard all.allSatisfy({ $0.count == all[0].count }) else { return [] }
            var total = [T](repeating: 0, count: n)
            for bytes in all {
                bytes.withUnsafeBytes { raw in
                    let v = raw.bindMemory(to: T.self)
                    for i in 0..<n { total[i] += v[i] }
                }
            }
            return total.withUnsafeBytes { Array($0) }
        }
        guard out.count == n * MemoryLayout<T>.size else {
            throw DistributedError.mismatch("the ranks summed buffers of different lengths")
        }
        return out.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
    }

    /// Rank `root`'s bytes.
    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
        guard (0..<size).contains(root) else {
            throw DistributedError.communication("broadcast from rank \(root) of \(size)")
        }
        bytes = group.exchange(rank, bytes) { $0[root] }
    }
}

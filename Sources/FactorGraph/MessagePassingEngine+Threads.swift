import Dispatch

/// The flooding schedule on several threads: within each half-step every message depends only
/// on the previous half-step's messages, so the edges (and then the variables) are split into
/// contiguous ranges, one per thread, each with its own workspace (made once per engine). The
/// result is the same as on one thread, bit for bit.
extension MessagePassingEngine {
    /// One flooding iteration on `threads` threads (as ``parallelIteration(damping:)``).
    func parallelIteration(damping: Double, threads: Int) {
        guard threads > 1 else { return parallelIteration(damping: damping) }
        let workspaces = workspaces(threads)
        let edges = topology.edgeCount, variables = topology.variableCount
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            updateFactorToVariables(
                edges: Self.range(t, of: threads, in: edges), damping: damping, digits: workspaces.digits[t])
        }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            updateVariableToFactors(
                variables: Self.range(t, of: threads, in: variables), scratch: workspaces.scratch[t])
        }
        addMessageUpdates(2 * edges)
    }

    /// ``refreshBeliefs()`` on `threads` threads.
    func refreshBeliefs(threads: Int) -> Double {
        guard threads > 1 else { return refreshBeliefs() }
        let workspaces = workspaces(threads)
        let variables = topology.variableCount
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var diff = 0.0
            for v in Self.range(t, of: threads, in: variables) {
                diff = max(diff, refreshBelief(v, scratch: workspaces.scratch[t]))
            }
            workspaces.setLargestChange(diff, thread: t)
        }
        return (0..<threads).map { workspaces.largestChange(thread: $0) }.max() ?? 0
    }

    /// The workspaces of `threads` threads, made once and kept while the count stays the same.
    private func workspaces(_ threads: Int) -> Workspaces {
        if let w = threadWorkspaces, w.scratch.count == threads { return w }
        threadWorkspaces?.deallocate()
        let w = Workspaces(count: threads, states: maxCardinality, degree: maxDegree)
        threadWorkspaces = w
        return w
    }

    /// The `t`-th of `parts` contiguous ranges of `0..<count`.
    static func range(_ t: Int, of parts: Int, in count: Int) -> Range<Int> {
        (count * t / parts)..<(count * (t + 1) / parts)
    }

    /// Per-thread scratch buffers, each thread touching only its own, each on cache lines of
    /// its own (adjacent small buffers written by two threads would share a line: the flooding
    /// schedule ran at half speed on two threads).
    struct Workspaces: @unchecked Sendable {
        let scratch: [UnsafeMutablePointer<Double>]
        let digits: [UnsafeMutablePointer<Int>]
        /// Each thread's largest belief change (at `largestChange[t * lineLength]`).
        private let changes: UnsafeMutablePointer<Double>
        private static var lineLength: Int { 8 }  // 64-byte lines of 8-byte values

        init(count: Int, states: Int, degree: Int) {
            func lines<T>(_ n: Int, of: T.Type) -> UnsafeMutablePointer<T> {
                let capacity = (max(n, 1) + Self.lineLength - 1) / Self.lineLength * Self.lineLength
                return UnsafeMutableRawPointer.allocate(byteCount: capacity * 8, alignment: 64)
                    .bindMemory(to: T.self, capacity: capacity)
            }
            scratch = (0..<count).map { _ in lines(states, of: Double.self) }
            digits = (0..<count).map { _ in lines(degree, of: Int.self) }
            changes = lines(count * Self.lineLength, of: Double.self)
        }

        func setLargestChange(_ value: Double, thread t: Int) { changes[t * Self.lineLength] = value }
        func largestChange(thread t: Int) -> Double { changes[t * Self.lineLength] }

        func deallocate() {
            for p in scratch { UnsafeMutableRawPointer(p).deallocate() }
            for p in digits { UnsafeMutableRawPointer(p).deallocate() }
            UnsafeMutableRawPointer(changes).deallocate()
        }
    }
}

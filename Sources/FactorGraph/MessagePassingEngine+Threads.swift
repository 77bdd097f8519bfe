import Dispatch

/// The flooding schedule on several threads: within each half-step every message depends only
/// on the previous half-step's messages, so the edges (and then the variables) are split into
/// contiguous ranges, one per thread, each with its own workspace. The result is the same as
/// on one thread, bit for bit.
extension MessagePassingEngine {
    /// One flooding iteration on `threads` threads (as ``parallelIteration(damping:)``).
    func parallelIteration(damping: Double, threads: Int) {
        guard threads > 1 else { return parallelIteration(damping: damping) }
        let workspaces = Workspaces(count: threads, states: maxCardinality, degree: maxDegree)
        defer { workspaces.deallocate() }
        let edges = topology.edgeCount
        // Factor→variable messages read only variable→factor ones, so each range is written
        // (and damped) in place as soon as it is computed.
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let digits = workspaces.digits[t]
            for e in Self.range(t, of: threads, in: edges) {
                let o = messageOffset[e]
                let c = cards[topology.edgeVariable[e]]
                factorToVariableMessage(edge: e, into: scratchMessages + o, digits: digits)
                if damping == 0 {
                    (factorToVariable + o).update(from: scratchMessages + o, count: c)
                } else {
                    for x in 0..<c {
                        scratchMessages[o + x] = S.damp(
                            new: scratchMessages[o + x], old: factorToVariable[o + x], damping: damping)
                    }
                    normalizedCopy(from: scratchMessages + o, to: factorToVariable + o, count: c)
                }
            }
        }
        let variables = topology.variableCount
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let scratch = workspaces.scratch[t]
            for v in Self.range(t, of: threads, in: variables) {
                for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
                    variableToFactorMessage(edge: topology.variableEdges[k], scratch: scratch)
                }
            }
        }
        addMessageUpdates(2 * edges)
    }

    /// ``refreshBeliefs()`` on `threads` threads.
    func refreshBeliefs(threads: Int) -> Double {
        guard threads > 1 else { return refreshBeliefs() }
        let workspaces = Workspaces(count: threads, states: maxCardinality, degree: 1)
        defer { workspaces.deallocate() }
        let largest = Workspaces(count: threads, states: 1, degree: 1)
        defer { largest.deallocate() }
        let variables = topology.variableCount
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var diff = 0.0
            for v in Self.range(t, of: threads, in: variables) {
                diff = max(diff, refreshBelief(v, scratch: workspaces.scratch[t]))
            }
            largest.scratch[t][0] = diff
        }
        return largest.scratch.map { $0[0] }.max() ?? 0
    }

    /// The `t`-th of `parts` contiguous ranges of `0..<count`.
    static func range(_ t: Int, of parts: Int, in count: Int) -> Range<Int> {
        (count * t / parts)..<(count * (t + 1) / parts)
    }

    /// Per-thread scratch buffers (each thread touches only its own).
    struct Workspaces: @unchecked Sendable {
        let scratch: [UnsafeMutablePointer<Double>]
        let digits: [UnsafeMutablePointer<Int>]

        init(count: Int, states: Int, degree: Int) {
            scratch = (0..<count).map { _ in .allocate(capacity: max(states, 1)) }
            digits = (0..<count).map { _ in .allocate(capacity: max(degree, 1)) }
        }

        func deallocate() {
            for p in scratch { p.deallocate() }
            for p in digits { p.deallocate() }
        }
    }
}

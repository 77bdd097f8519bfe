#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// The message-passing engine, written once and parameterised by a ``Semiring``.
///
/// All messages live in two contiguous buffers (factor→variable and variable→factor), one
/// slot per (edge, state); tables are encoded once in the semiring's domain. Nothing is
/// allocated inside an iteration. Messages are normalised after every update (by `⊕` over the
/// message: its sum for sum-product, its max for max-product), which keeps the linear-domain
/// semirings free of underflow and leaves the fixed points unchanged.
///
/// Unchecked `Sendable`: the threads of one flooding half-step
/// (``parallelIteration(damping:threads:)``) read the other half's messages and write disjoint
/// messages and beliefs, each with its own workspace; nothing else runs concurrently.
final class MessagePassingEngine<S: Semiring>: @unchecked Sendable {
    let problem: DiscreteProblem
    let topology: GraphTopology
    let cards: [Int]
    let messageOffset: [Int]  // per edge
    let variableOffset: [Int]  // per variable (into priors/beliefs)
    let tableOffset: [Int]  // per factor
    let totalMessageLength: Int
    let scratchMessages: UnsafeMutablePointer<Double>  // new factor→variable messages, a slot per edge
    let totalStates: Int

    let tables: UnsafeMutablePointer<Double>
    let prior: UnsafeMutablePointer<Double>
    let factorToVariable: UnsafeMutablePointer<Double>
    let variableToFactor: UnsafeMutablePointer<Double>
    let beliefs: UnsafeMutablePointer<Double>  // probabilities, per variable
    let scratch: UnsafeMutablePointer<Double>  // one message
    let digits: UnsafeMutablePointer<Int>
    let maxDegree: Int
    let maxCardinality: Int
    private(set) var messageUpdates = 0
    /// The workspaces of the threaded schedule, made on its first use.
    var threadWorkspaces: Workspaces?

    /// Counts message updates made outside the single-threaded update functions.
    func addMessageUpdates(_ count: Int) { messageUpdates += count }

    init(_ problem: DiscreteProblem) {
        self.problem = problem
        let topology = GraphTopology(variableCount: problem.variableCount, scopes: problem.factors.map(\.scope))
        self.topology = topology
        cards = problem.cardinalities
        var off = [Int](); var m = 0
        for e in 0..<topology.edgeCount { off.append(m); m += problem.cardinalities[topology.edgeVariable[e]] }
        messageOffset = off
        totalMessageLength = m
        var vOff = [Int](); var n = 0
        for c in problem.cardinalities { vOff.append(n); n += c }
        variableOffset = vOff
        totalStates = n
        var tOff = [Int](); var t = 0
        for f in problem.factors { tOff.append(t); t += f.count }
        tableOffset = tOff

        tables = .allocate(capacity: max(t, 1))
        for (i, f) in problem.factors.enumerated() {
            // Each table is scaled by its maximum: a constant factor that changes neither
            // marginals nor argmax, and keeps exp from underflowing in the linear semirings.
            let shift = f.logValues.max() ?? 0
            let s = shift.isFinite ? shift : 0
            for (k, lv) in f.logValues.enumerated() { tables[tOff[i] + k] = S.encode(log: lv - s) }
        }
        prior = .allocate(capacity: max(n, 1))
        for v in 0..<problem.variableCount {
            for x in 0..<problem.cardinalities[v] {
                prior[vOff[v] + x] = (problem.clamp[v] == nil || problem.clamp[v] == x) ? S.one : S.zero
            }
        }
        factorToVariable = .allocate(capacity: max(m, 1))
        variableToFactor = .allocate(capacity: max(m, 1))
        beliefs = .allocate(capacity: max(n, 1))
        scratchMessages = .allocate(capacity: max(m, 1))
        maxCardinality = max(problem.cardinalities.max() ?? 1, 1)
        scratch = .allocate(capacity: maxCardinality)
        let md = problem.factors.map(\.scope.count).max() ?? 0
        maxDegree = md
        digits = .allocate(capacity: max(md, 1))
        reset()
    }

    deinit {
        tables.deallocate(); prior.deallocate(); factorToVariable.deallocate()
        variableToFactor.deallocate(); scratchMessages.deallocate(); beliefs.deallocate()
        scratch.deallocate(); digits.deallocate()
        threadWorkspaces?.deallocate()
    }

    /// Uniform factor→variable messages; variable→factor messages are the priors.
    func reset() {
        factorToVariable.update(repeating: S.one, count: totalMessageLength)
        for v in 0..<topology.variableCount {
            for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
                let e = topology.variableEdges[k]
                normalizedCopy(
                    from: prior + variableOffset[v], to: variableToFactor + messageOffset[e], count: cards[v])
            }
        }
        messageUpdates = 0
    }

    @inline(__always)
    func normalizedCopy(
        from src: UnsafeMutablePointer<Double>, to dst: UnsafeMutablePointer<Double>, count: Int
    ) {
        var z = S.zero
        for i in 0..<count { z = S.plus(z, src[i]) }
        if z == S.zero || !z.isFinite {
            for i in 0..<count { dst[i] = src[i] }
        } else {
            for i in 0..<count { dst[i] = S.over(src[i], z) }
        }
    }

    // MARK: Message updates

    /// Computes the factor→variable message on `edge` from the current variable→factor
    /// messages into `out` (normalised).
    @inline(__always)
    func computeFactorToVariable(edge e: Int, into out: UnsafeMutablePointer<Double>) {
        factorToVariableMessage(edge: e, into: out, digits: digits)
        messageUpdates += 1
    }

    /// The factor→variable message on `edge` into `out` (normalised), with `digits` as
    /// workspace (one per thread); touches nothing else.
    @inline(__always)
    func factorToVariableMessage(edge e: Int, into out: UnsafeMutablePointer<Double>, digits: UnsafeMutablePointer<Int>)
    {
        let f = topology.edgeFactor[e]
        let first = topology.factorEdgeStart[f]
        let degree = topology.factorEdgeStart[f + 1] - first
        let k = e - first
        let ck = cards[topology.edgeVariable[e]]
        let table = tables + tableOffset[f]
        for x in 0..<ck { out[x] = S.zero }
        switch degree {
        case 1:
            for x in 0..<ck { out[x] = table[x] }
        case 2:
            let c0 = cards[topology.edgeVariable[first]]
            let c1 = cards[topology.edgeVariable[first + 1]]
            if k == 0 {
                let m1 = variableToFactor + messageOffset[first + 1]
                for i in 0..<c0 {
                    var acc = S.zero
                    let row = table + i * c1
                    for j in 0..<c1 { acc = S.plus(acc, S.times(row[j], m1[j])) }
                    out[i] = acc
                }
            } else {
                let m0 = variableToFactor + messageOffset[first]
                for i in 0..<c0 {
                    let row = table + i * c1
                    let a = m0[i]
                    for j in 0..<c1 { out[j] = S.plus(out[j], S.times(row[j], a)) }
                }
            }
        default:
            let size = problem.factors[f].count
            for j in 0..<degree { digits[j] = 0 }
            for idx in 0..<size {
                var p = table[idx]
                for j in 0..<degree where j != k {
                    p = S.times(p, variableToFactor[messageOffset[first + j] + digits[j]])
                }
                out[digits[k]] = S.plus(out[digits[k]], p)
                var j = degree - 1
                while j >= 0 {
                    digits[j] += 1
                    if digits[j] < cards[topology.edgeVariable[first + j]] { break }
                    digits[j] = 0
                    j -= 1
                }
            }
        }
        var z = S.zero
        for x in 0..<ck { z = S.plus(z, out[x]) }
        if z != S.zero && z.isFinite { for x in 0..<ck { out[x] = S.over(out[x], z) } }
    }

    /// Recomputes the factor→variable message on `edge` in place, with damping.
    @inline(__always)
    func updateFactorToVariable(edge e: Int, damping: Double) {
        computeFactorToVariable(edge: e, into: scratch)
        commit(
            scratch, to: factorToVariable + messageOffset[e], count: cards[topology.edgeVariable[e]], damping: damping)
    }

    /// Writes the new message `new` over `dst`: as is, or damped towards the old one and
    /// normalised (`new` is overwritten then).
    @inline(__always)
    func commit(
        _ new: UnsafeMutablePointer<Double>, to dst: UnsafeMutablePointer<Double>, count c: Int, damping: Double
    ) {
        if damping == 0 {
            for x in 0..<c { dst[x] = new[x] }  // a loop: messages are short, a memmove call costs more
        } else {
            for x in 0..<c { new[x] = S.damp(new: new[x], old: dst[x], damping: damping) }
            normalizedCopy(from: new, to: dst, count: c)
        }
    }

    /// The variable→factor message on `edge`: the prior times every other incoming message.
    @inline(__always)
    func updateVariableToFactor(edge e: Int) {
        variableToFactorMessage(edge: e, scratch: scratch)
        messageUpdates += 1
    }

    /// Sets the variable→factor message on `edge`, with `scratch` as workspace (one per thread).
    @inline(__always)
    func variableToFactorMessage(edge e: Int, scratch: UnsafeMutablePointer<Double>) {
        let v = topology.edgeVariable[e]
        let c = cards[v]
        let p = prior + variableOffset[v]
        for x in 0..<c { scratch[x] = p[x] }
        for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
            let e2 = topology.variableEdges[k]
            if e2 == e { continue }
            let m = factorToVariable + messageOffset[e2]
            for x in 0..<c { scratch[x] = S.times(scratch[x], m[x]) }
        }
        normalizedCopy(from: scratch, to: variableToFactor + messageOffset[e], count: c)
    }

    func updateVariableToFactors(variable v: Int) {
        for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
            updateVariableToFactor(edge: topology.variableEdges[k])
        }
    }

    // MARK: Beliefs

    /// The unnormalised belief of `v` (prior ⊗ all incoming) in the semiring's encoding.
    @inline(__always)
    func rawBelief(_ v: Int, into out: UnsafeMutablePointer<Double>) {
        let c = cards[v]
        let p = prior + variableOffset[v]
        for x in 0..<c { out[x] = p[x] }
        for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
            let m = factorToVariable + messageOffset[topology.variableEdges[k]]
            for x in 0..<c { out[x] = S.times(out[x], m[x]) }
        }
    }

    /// Recomputes every variable's belief as probabilities summing to one and returns the
    /// largest absolute change of any entry (libDAI's convergence measure).
    @discardableResult
    func refreshBeliefs() -> Double {
        var diff = 0.0
        for v in 0..<topology.variableCount { diff = max(diff, refreshBelief(v, scratch: scratch)) }
        return diff
    }

    /// Recomputes the belief of `v` with `scratch` as workspace; returns its largest change.
    @inline(__always)
    func refreshBelief(_ v: Int, scratch: UnsafeMutablePointer<Double>) -> Double {
        let c = cards[v]
        rawBelief(v, into: scratch)
        var mx = -Double.infinity
        for x in 0..<c { scratch[x] = S.log(scratch[x]); if scratch[x] > mx { mx = scratch[x] } }
        var z = 0.0
        for x in 0..<c { scratch[x] = mx == -.infinity ? 0 : exp(scratch[x] - mx); z += scratch[x] }
        let b = beliefs + variableOffset[v]
        var diff = 0.0
        for x in 0..<c {
            let nb = z > 0 ? scratch[x] / z : 0
            let d = abs(nb - b[x])
            if d > diff { diff = d }
            b[x] = nb
        }
        return diff
    }

    // MARK: Schedules

    /// The exact two-pass schedule on a forest.
    func runTree(_ schedule: GraphTopology.TreeSchedule) {
        for step in schedule.upward { perform(step) }
        for step in schedule.downward { perform(step) }
        refreshBeliefs()
    }

    @inline(__always)
    private func perform(_ step: GraphTopology.Step) {
        switch step.direction {
        case .variableToFactor: updateVariableToFactor(edge: step.edge)
        case .factorToVariable: updateFactorToVariable(edge: step.edge, damping: 0)
        }
    }

    /// One flooding iteration: every factor→variable message from the previous variable→factor
    /// messages, then every variable→factor message.
    func parallelIteration(damping: Double) {
        updateFactorToVariables(edges: 0..<topology.edgeCount, damping: damping, digits: digits)
        updateVariableToFactors(variables: 0..<topology.variableCount, scratch: scratch)
        addMessageUpdates(2 * topology.edgeCount)
    }

    /// The flooding schedule's first half-step on `edges`: every factor→variable message from
    /// the variable→factor ones (which alone it reads) into its slot of `scratchMessages`, then
    /// all of them written over the old ones, damped; `digits` is the workspace (one per
    /// thread). (Two passes rather than one message at a time: the damping's `pow` calls then
    /// run back to back: 14 % faster on a damped 300×300 grid.)
    func updateFactorToVariables(edges: Range<Int>, damping: Double, digits: UnsafeMutablePointer<Int>) {
        for e in edges { factorToVariableMessage(edge: e, into: scratchMessages + messageOffset[e], digits: digits) }
        for e in edges {
            let o = messageOffset[e]
            commit(
                scratchMessages + o, to: factorToVariable + o, count: cards[topology.edgeVariable[e]], damping: damping)
        }
    }

    /// The second half-step on `variables`: their variable→factor messages, with `scratch` as
    /// workspace (one per thread).
    func updateVariableToFactors(variables: Range<Int>, scratch: UnsafeMutablePointer<Double>) {
        for v in variables {
            for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
                variableToFactorMessage(edge: topology.variableEdges[k], scratch: scratch)
            }
        }
    }

    /// One sequential sweep: for each variable in `order`, recompute its incoming messages from
    /// the current state, then its outgoing ones.
    func sequentialIteration(order: [Int], damping: Double) {
        for v in order {
            for k in topology.variableEdgeStart[v]..<topology.variableEdgeStart[v + 1] {
                updateFactorToVariable(edge: topology.variableEdges[k], damping: damping)
            }
            updateVariableToFactors(variable: v)
        }
    }

    // MARK: Read-out

    /// Per-variable probabilities (after ``refreshBeliefs()``).
    func marginals() -> [[Double]] {
        (0..<topology.variableCount).map { v in
            Array(UnsafeBufferPointer(start: beliefs + variableOffset[v], count: cards[v]))
        }
    }

    /// Normalised beliefs of factor `f` (row-major over its scope).
    func factorBelief(_ f: Int) -> [Double] {
        let factor = problem.factors[f]
        let first = topology.factorEdgeStart[f]
        var lb = [Double](repeating: 0, count: factor.count)
        var idx = [Int](repeating: 0, count: factor.scope.count)
        for t in 0..<factor.count {
            var s = factor.logValues[t]
            for j in 0..<factor.scope.count { s += S.log(variableToFactor[messageOffset[first + j] + idx[j]]) }
            lb[t] = s
            var j = factor.scope.count - 1
            while j >= 0 { idx[j] += 1; if idx[j] < factor.cardinalities[j] { break }; idx[j] = 0; j -= 1 }
        }
        let z = LogSpace.sum(lb)
        return lb.map { z == -.infinity ? 0 : exp($0 - z) }
    }

    /// The first variable whose belief is zero in every state (after ``refreshBeliefs()``):
    /// zeros in messages come only from zero potentials and evidence and are never wrong, so
    /// such a variable proves `Z = 0`.
    func variableWithZeroBelief() -> Int? {
        for v in 0..<topology.variableCount {
            let b = beliefs + variableOffset[v]
            var total = 0.0
            for x in 0..<cards[v] { total += b[x] }
            if total == 0 || total.isNaN { return v }
        }
        return nil
    }

    /// The Bethe approximation of log Z from the current messages: exact on trees (and for
    /// converged sum-product on a forest, equal to log Z to rounding). Throws
    /// ``FactorGraphError/inconsistentEvidence(_:)`` when a belief is zero everywhere.
    func betheLogPartition() throws -> Double {
        var logZ = 0.0
        for f in 0..<problem.factors.count {
            let factor = problem.factors[f]
            if factor.scope.isEmpty { logZ += factor.logValues[0]; continue }
            let b = factorBelief(f)
            for t in 0..<factor.count where b[t] > 0 {
                logZ += b[t] * (factor.logValues[t] - log(b[t]))
            }
            if b.allSatisfy({ $0 == 0 }) {
                throw FactorGraphError.inconsistentEvidence(
                    "factor \(f) has zero belief in every configuration (the evidence or the zeros rule out every "
                        + "state)"
                )
            }
        }
        for v in 0..<topology.variableCount {
            let b = beliefs + variableOffset[v]
            var negEntropy = 0.0
            var total = 0.0
            for x in 0..<cards[v] { total += b[x]; if b[x] > 0 { negEntropy += b[x] * log(b[x]) } }
            if total == 0 {
                throw FactorGraphError.inconsistentEvidence("variable \(v) has zero belief in every state")
            }
            logZ += Double(topology.degree(ofVariable: v) - 1) * negEntropy
        }
        return logZ
    }

    /// MAP by backtracking on a forest (max semirings, after ``runTree(_:)``): jointly
    /// consistent, exact; ties go to the lowest state.
    func backtrack(_ schedule: GraphTopology.TreeSchedule) -> [Int] {
        var x = [Int](repeating: 0, count: topology.variableCount)
        for r in schedule.roots {
            rawBelief(r, into: scratch)
            x[r] = argmax(scratch, count: cards[r])
        }
        for (f, pe) in schedule.factorsTopDown {
            let factor = problem.factors[f]
            let first = topology.factorEdgeStart[f]
            let degree = factor.scope.count
            let parentPos = pe - first
            let table = tables + tableOffset[f]
            var best = S.zero, bestIdx = -1
            var idx = [Int](repeating: 0, count: degree)
            for t in 0..<factor.count {
                if idx[parentPos] == x[factor.scope[parentPos]] {
                    var p = table[t]
                    for j in 0..<degree where j != parentPos {
                        p = S.times(p, variableToFactor[messageOffset[first + j] + idx[j]])
                    }
                    if bestIdx < 0 || p > best { best = p; bestIdx = t }
                }
                var j = degree - 1
                while j >= 0 { idx[j] += 1; if idx[j] < factor.cardinalities[j] { break }; idx[j] = 0; j -= 1 }
            }
            let states = factor.states(at: max(bestIdx, 0))
            for j in 0..<degree where j != parentPos { x[factor.scope[j]] = states[j] }
        }
        return x
    }

    /// Independent per-variable argmax of the max-marginals (loopy graphs).
    func decodeMaxMarginals() -> [Int] {
        (0..<topology.variableCount).map { v in
            rawBelief(v, into: scratch)
            return argmax(scratch, count: cards[v])
        }
    }

    @inline(__always)
    private func argmax(_ p: UnsafeMutablePointer<Double>, count: Int) -> Int {
        var best = 0
        for i in 1..<max(count, 1) where p[i] > p[best] { best = i }
        return best
    }
}

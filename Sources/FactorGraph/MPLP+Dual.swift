/// The dual variables of ``MPLP`` in flat buffers: the beliefs `b_i`, the messages `δ_fi` and
/// the finite (penalised) scores they are computed from.
struct DualState {
    let problem: DiscreteProblem
    /// Offset of each variable's states in `belief`.
    let offset: [Int]
    /// `b_i(x) = θ_i(x) + Σ_f δ_fi(x)`, flat.
    var belief: [Double]
    /// The factors over two or more variables: scopes, cardinalities, penalised scores.
    let scopes: [[Int]]
    /// Each factor's score `θ_f` plus the messages of the cycle clusters on it.
    var scores: [[Double]]
    /// The cycle clusters that tighten the relaxation (empty without tightening), and their
    /// messages to their factors, one after another (each laid out as the factor's table).
    var clusters: [CycleCluster] = []
    var clusterMessages: [Double] = []
    /// Where each factor's messages start in `delta` (one block per scope position), and where
    /// each scope position's block starts relative to that.
    let deltaStart: [Int]
    let blocks: [[Int]]
    var delta: [Double]
    /// The scores of tables with an empty scope (observed throughout).
    let constant: Double
    /// The lowest score an assignment without a zero potential can have: a (penalised) bound
    /// below it proves that every assignment has one, i.e. `Z = 0`.
    let feasibleFloor: Double
    /// Scratch of the updates (reused, never reallocated after the first sweep).
    var lambda: [Double] = []
    var maxima: [Double] = []
    var digits: [Int] = []
    var memberStart: [Int] = []

    /// The dual of `problem`, whose factors restricted to its evidence are `tables`.
    init(_ problem: DiscreteProblem, tables: [Table], cycles: Bool) throws {
        self.problem = problem
        let n = problem.variableCount
        var offset = [Int](repeating: 0, count: n + 1)
        for v in 0..<n { offset[v + 1] = offset[v] + problem.cardinalities[v] }
        self.offset = offset
        // The penalty for −∞: below every finite score by more than the model's whole range.
        var spread = 1.0, floorSum = 0.0
        for t in tables {
            let finite = t.values.filter { $0 > -.infinity }
            guard let lo = finite.min(), let hi = finite.max() else {
                throw FactorGraphError.inconsistentEvidence(
                    "a factor is zero on every configuration the evidence allows")
            }
            spread += hi - lo
            floorSum += lo
        }
        feasibleFloor = floorSum
        var belief = [Double](repeating: 0, count: offset[n])
        var scopes: [[Int]] = [], scores: [[Double]] = [], deltaStart: [Int] = [], blocks: [[Int]] = []
        var constant = 0.0, deltaCount = 0
        for t in tables {
            let floor = (t.values.filter { $0 > -.infinity }.min() ?? 0) - spread
            let penalised = t.values.map { $0 > -.infinity ? $0 : floor }
            switch t.scope.count {
            case 0: constant += t.values[0]
            case 1: for s in penalised.indices { belief[offset[t.scope[0]] + s] += penalised[s] }
            default:
                scopes.append(t.scope)
                scores.append(penalised)
                deltaStart.append(deltaCount)
                var block: [Int] = []
                for v in t.scope {
                    block.append(deltaCount - deltaStart[deltaStart.count - 1])
                    deltaCount += problem.cardinalities[v]
                }
                blocks.append(block)
            }
        }
        self.belief = belief
        self.scopes = scopes
        self.scores = scores
        self.deltaStart = deltaStart
        self.blocks = blocks
        self.constant = constant
        delta = [Double](repeating: 0, count: deltaCount)
        if cycles {
            clusters = CycleCluster.find(scopes: scopes, cardinalities: problem.cardinalities)
            var start = 0
            for c in clusters.indices {
                clusters[c].messageStart = start
                start += clusters[c].members.reduce(0) { $0 + scores[$1].count }
            }
            clusterMessages = [Double](repeating: 0, count: start)
        }
    }

    /// The dual bound `Σ_i max b_i` plus the constant; valid after a sweep (each factor's and
    /// each cluster's own term is then zero: a factor's update zeroes its term, and a cluster's
    /// term changes only with its own update, which zeroes it).
    var bound: Double {
        var total = constant
        for v in 0..<problem.variableCount where problem.clamp[v] == nil {
            var m = -Double.infinity
            for k in offset[v]..<offset[v + 1] { m = max(m, belief[k]) }
            total += m
        }
        return total
    }

    /// One MPLP sweep: every cycle cluster's messages (``updateCluster(_:)``), then every
    /// factor's messages set to the minimiser of the dual in them,
    ///
    ///     λ_i = b_i − δ_fi,  m_i(x_i) = max_{x_f∖x_i} [θ_f + Σ_j λ_j],  δ_fi = m_i/|f| − λ_i,
    ///
    /// after which `b_i = m_i/|f|` for every `i ∈ f`.
    mutating func sweep() {
        for c in clusters.indices { updateCluster(c) }
        let cards = problem.cardinalities
        for f in scopes.indices {
            let scope = scopes[f]
            let k = scope.count
            lambda.removeAll(keepingCapacity: true)
            maxima.removeAll(keepingCapacity: true)
            var at = deltaStart[f]
            for v in scope {
                for s in 0..<cards[v] {
                    lambda.append(belief[offset[v] + s] - delta[at])
                    maxima.append(-.infinity)
                    at += 1
                }
            }
            accumulateMaxima(f)
            let share = 1 / Double(k)
            at = deltaStart[f]
            for v in scope {
                for s in 0..<cards[v] {
                    let local = at - deltaStart[f]
                    let m = maxima[local] * share
                    delta[at] = m - lambda[local]
                    belief[offset[v] + s] = m
                    at += 1
                }
            }
        }
    }

    /// `maxima[block_j + x_j] = max over the factor's entries with x_j of θ_f + Σ_j λ_j`.
    private mutating func accumulateMaxima(_ f: Int) {
        let scope = scopes[f]
        let cards = problem.cardinalities
        digits.removeAll(keepingCapacity: true)
        digits.append(contentsOf: repeatElement(0, count: scope.count))
        scores[f].withUnsafeBufferPointer { theta in
            lambda.withUnsafeBufferPointer { l in
                maxima.withUnsafeMutableBufferPointer { m in
                    digits.withUnsafeMutableBufferPointer { d in
                        blocks[f].withUnsafeBufferPointer { block in
                            for t in 0..<theta.count {
                                var s = theta[t]
                                for j in 0..<d.count { s += l[block[j] + d[j]] }
                                for j in 0..<d.count where s > m[block[j] + d[j]] { m[block[j] + d[j]] = s }
                                var j = d.count - 1
                                while j >= 0 {
                                    d[j] += 1
                                    if d[j] < cards[scope[j]] { break }
                                    d[j] = 0
                                    j -= 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `argmax b_i` for every free variable (ties: lowest state).
    func decode() -> [Int] {
        let n = problem.variableCount
        var x = problem.clamp.map { $0 ?? 0 }
        for v in 0..<n where problem.clamp[v] == nil {
            var best = -Double.infinity
            for s in 0..<problem.cardinalities[v] where belief[offset[v] + s] > best {
                best = belief[offset[v] + s]; x[v] = s
            }
        }
        return x
    }
}

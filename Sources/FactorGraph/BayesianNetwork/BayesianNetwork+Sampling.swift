import NumericalCore

extension BayesianNetwork {
    /// The row of `v`'s table that the states of its parents in `x` select.
    @inline(__always)
    func row(of v: Int, in x: [Int]) -> Int {
        var r = 0
        for p in nodes[v].parents { r = r * nodes[p].states.count + x[p] }
        return r
    }

    /// `count` joint samples drawn by ancestral (forward) sampling: every variable, parents
    /// first, from its row given its parents' sampled states. Seeded: the same seed draws the
    /// same samples. Each sample holds a state index per variable.
    public func sample(count: Int, seed: UInt64, limits: ResourceLimits = .standard) throws -> [[Int]] {
        let order = try topologicalOrder()
        guard count >= 0, let states = ResourceLimits.product([count, max(1, nodes.count)]),
            states <= limits.totalTableEntries
        else {
            throw FactorGraphError.tooLarge(
                "\(count) samples of \(nodes.count) variables is above the limit of \(limits.totalTableEntries) states")
        }
        let rng = RandomSource(seed: seed)
        var x = [Int](repeating: 0, count: nodes.count)
        return (0..<count).map { _ in
            for v in order { x[v] = draw(v, row: row(of: v, in: x), rng) }
            return x
        }
    }

    /// Throws unless every observed variable and state exists.
    func check(_ evidence: [Int: Int]) throws {
        for (v, s) in evidence where !nodes.indices.contains(v) || !nodes[v].states.indices.contains(s) {
            throw FactorGraphError.evidenceOutOfRange(variable: v, value: "\(s)", message: "no such variable or state")
        }
    }

    /// A state of `v` from row `r` of its table.
    func draw(_ v: Int, row r: Int, _ rng: RandomSource) -> Int {
        let k = nodes[v].states.count
        var u = rng.uniform()
        let base = r * k
        for s in 0..<k {
            u -= nodes[v].table[base + s]
            if u < 0 { return s }
        }
        return (0..<k).last { nodes[v].table[base + $0] > 0 } ?? 0
    }

    /// Marginals given `evidence` (variable → state) estimated by likelihood weighting: the
    /// unobserved variables are sampled forward, the observed ones clamped, and each sample
    /// weighted by the probability of the evidence given its parents. Returns every variable's
    /// estimated marginal (the observed ones one-hot) and the effective sample size
    /// `(Σw)² / Σw²`; throws if the evidence has probability zero in every sample.
    public func likelihoodWeighting(evidence: [Int: Int], samples: Int, seed: UInt64) throws -> (
        marginals: [[Double]], effectiveSampleSize: Double
    ) {
        let order = try topologicalOrder()
        try check(evidence)
        guard samples >= 1 else { throw FactorGraphError.invalidNetwork("likelihood weighting needs samples ≥ 1") }
        let rng = RandomSource(seed: seed)
        var counts = nodes.map { [Double](repeating: 0, count: $0.states.count) }
        var x = [Int](repeating: 0, count: nodes.count)
        var total = 0.0, squares = 0.0
        for _ in 0..<samples {
            var w = 1.0
            for v in order {
                let r = row(of: v, in: x)
                if let s = evidence[v] {
                    x[v] = s
                    w *= nodes[v].table[r * nodes[v].states.count + s]
                } else {
                    x[v] = draw(v, row: r, rng)
                }
            }
            guard w > 0 else { continue }
            total += w
            squares += w * w
            for v in nodes.indices { counts[v][x[v]] += w }
        }
        guard total > 0 else {
            throw FactorGraphError.inconsistentEvidence("no sample of \(samples) is consistent with the evidence")
        }
        return (counts.map { $0.map { $0 / total } }, total * total / squares)
    }
}

extension BayesianNetwork {
    /// Marginals given `evidence` (variable → state) estimated by Gibbs sampling
    /// (``GibbsSampling`` on the network's factor graph): from a forward sample consistent with
    /// the evidence, every unobserved variable in turn is redrawn from its distribution given
    /// its Markov blanket, `P(x_v | pa) Π_children P(x_c | pa_c)`; after `burnIn` sweeps, each
    /// of `samples` sweeps counts once. Seeded. The chain mixes poorly
    /// where tables have zeros (deterministic nodes): prefer exact inference or likelihood
    /// weighting there.
    public func gibbs(evidence: [Int: Int], samples: Int, burnIn: Int = 1000, seed: UInt64) throws -> [[Double]] {
        let order = try topologicalOrder()
        try check(evidence)
        guard samples >= 1, burnIn >= 0 else {
            throw FactorGraphError.invalidNetwork("Gibbs sampling needs samples ≥ 1 and burnIn ≥ 0")
        }
        let rng = RandomSource(seed: seed)
        var children = [[Int]](repeating: [], count: nodes.count)
        for (v, n) in nodes.enumerated() { for p in n.parents { children[p].append(v) } }
        // A starting state of non-zero probability: forward samples with the evidence clamped.
        var x = [Int](repeating: 0, count: nodes.count)
        var found = false
        for _ in 0..<10_000 where !found {
            for v in order { x[v] = evidence[v] ?? draw(v, row: row(of: v, in: x), rng) }
            found = jointProbability(x) > 0
        }
        guard found else {
            throw FactorGraphError.inconsistentEvidence("no state consistent with the evidence found in 10,000 draws")
        }
        var gibbs = GibbsSampling()
        gibbs.options.samples = samples
        gibbs.options.burnIn = burnIn
        gibbs.options.seed = seed &+ 1
        return try gibbs.marginals(try factorGraph(), evidence: Evidence(states: evidence), start: x)
    }
}

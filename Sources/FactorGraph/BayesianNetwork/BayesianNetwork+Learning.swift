#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NumericalCore

/// Parameter learning: the conditional tables from data, the graph fixed.
extension BayesianNetwork {
    /// Sets every table to its maximum a posteriori estimate under a symmetric Dirichlet prior
    /// from complete data: `P(x = s | pa = r) = (n_rs + α) / (n_r + k α)`, with `α =
    /// pseudocount` (0: maximum likelihood; a parent configuration never seen then gets the
    /// uniform row). Throws if a value is missing (use ``learnByEM(from:pseudocount:iterations:tolerance:)``).
    public mutating func learnMaximumLikelihood(from data: Observations, pseudocount: Double = 0) throws {
        try check(data, pseudocount: pseudocount)
        if let r = data.rows.firstIndex(where: { $0.contains(nil) }) {
            throw FactorGraphError.invalidNetwork(
                "case \(r + 1) has a missing value; maximum likelihood needs complete data (learn by EM instead)")
        }
        var counts = nodes.map { [Double](repeating: 0, count: $0.table.count) }
        for row in data.rows {
            let x = row.map { $0! }
            for v in nodes.indices { counts[v][self.row(of: v, in: x) * nodes[v].states.count + x[v]] += 1 }
        }
        setTables(fromCounts: counts, pseudocount: pseudocount)
    }

    /// Expectation-maximisation with missing values: the E-step gives each case's expected
    /// family counts under the current tables (the missing values of a case enumerated
    /// exactly, weighted by their posterior), the M-step the Dirichlet-MAP tables of those
    /// counts. Returns the log-likelihood of the observed values, `Σ_cases log P(observed)`,
    /// before each iteration and after the last; it never decreases (with `pseudocount` 0).
    /// Stops after `iterations` or when it rises by less than `tolerance`.
    @discardableResult
    public mutating func learnByEM(
        from data: Observations, pseudocount: Double = 0, iterations: Int = 100, tolerance: Double = 1e-8,
        limits: ResourceLimits = .standard
    ) throws -> [Double] {
        try check(data, pseudocount: pseudocount)
        guard iterations >= 1 else { throw FactorGraphError.invalidNetwork("EM needs at least one iteration") }
        var trace: [Double] = []
        for _ in 0..<iterations {
            let (counts, logLikelihood) = try expectedCounts(data, limits: limits)
            trace.append(logLikelihood)
            if trace.count > 1, logLikelihood - trace[trace.count - 2] < tolerance { return trace }
            setTables(fromCounts: counts, pseudocount: pseudocount)
        }
        trace.append(try expectedCounts(data, limits: limits).logLikelihood)
        return trace
    }

    /// The E-step: expected family counts and the log-likelihood of the observed values.
    func expectedCounts(_ data: Observations, limits: ResourceLimits) throws -> (
        counts: [[Double]], logLikelihood: Double
    ) {
        var counts = nodes.map { [Double](repeating: 0, count: $0.table.count) }
        var logLikelihood = 0.0
        var x = [Int](repeating: 0, count: nodes.count)
        var weights: [Double] = []
        for (r, row) in data.rows.enumerated() {
            let missing = row.indices.filter { row[$0] == nil }
            var configurations = 1
            for v in missing {
                configurations *= nodes[v].states.count
                guard configurations <= limits.cliqueEntries else {
                    throw FactorGraphError.tooLarge(
                        "case \(r + 1) misses \(missing.count) values, more than \(limits.cliqueEntries) joint states "
                            + "to weigh")
                }
            }
            for v in row.indices { x[v] = row[v] ?? 0 }
            /// Fills the missing values of `x` with completion `c` (first missing variable fastest).
            func complete(_ c: Int) {
                var rest = c
                for v in missing {
                    x[v] = rest % nodes[v].states.count
                    rest /= nodes[v].states.count
                }
            }
            // Every completion of the case, with its joint probability.
            weights.removeAll(keepingCapacity: true)
            for c in 0..<configurations {
                complete(c)
                weights.append(jointProbability(x))
            }
            let total = weights.reduce(0, +)
            guard total > 0 else {
                throw FactorGraphError.inconsistentEvidence("case \(r + 1) has probability zero under the tables")
            }
            logLikelihood += log(total)
            for c in 0..<configurations where weights[c] > 0 {
                complete(c)
                let w = weights[c] / total
                for v in nodes.indices { counts[v][self.row(of: v, in: x) * nodes[v].states.count + x[v]] += w }
            }
        }
        return (counts, logLikelihood)
    }

    /// `P(x)`, the product of every variable's table entry.
    func jointProbability(_ x: [Int]) -> Double {
        var p = 1.0
        for v in nodes.indices { p *= nodes[v].table[row(of: v, in: x) * nodes[v].states.count + x[v]] }
        return p
    }

    /// The M-step: every row from its counts, `(n_rs + α) / (n_r + k α)`; a row without counts
    /// (and α = 0) keeps its current values.
    mutating func setTables(fromCounts counts: [[Double]], pseudocount alpha: Double) {
        for v in nodes.indices {
            let k = nodes[v].states.count
            for r in 0..<(nodes[v].table.count / k) {
                var n: Double = Double(k) * alpha
                for s in 0..<k { n += counts[v][r * k + s] }
                guard n > 0 else { continue }
                for s in 0..<k {
                    let c: Double = counts[v][r * k + s]
                    nodes[v].table[r * k + s] = (c + alpha) / n
                }
            }
        }
    }

    private func check(_ data: Observations, pseudocount: Double) throws {
        _ = try topologicalOrder()
        guard pseudocount >= 0, pseudocount.isFinite else {
            throw FactorGraphError.invalidNetwork("the pseudocount must be a finite number ≥ 0, got \(pseudocount)")
        }
        for (r, row) in data.rows.enumerated() {
            guard row.count == nodes.count else {
                throw FactorGraphError.invalidNetwork(
                    "case \(r + 1) has \(row.count) values for \(nodes.count) variables")
            }
            for (v, s) in row.enumerated() {
                if let s, !nodes[v].states.indices.contains(s) {
                    throw FactorGraphError.invalidNetwork("case \(r + 1): '\(nodes[v].name)' has no state \(s)")
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// Exact inference by enumerating every joint configuration: the oracle for small graphs.
///
/// It shares no code with the message-passing engine or variable elimination beyond reading
/// the factors, so agreement with it is independent evidence of correctness. Cost is
/// `Π cardinalities × Σ |scope|`; graphs above ``maximumConfigurations`` are refused.
public struct BruteForceEnumeration: InferenceAlgorithm {
    /// The largest joint state space it will enumerate.
    public var maximumConfigurations: Int

    /// Enumeration that refuses graphs of more than `maximumConfigurations` joint states.
    public init(maximumConfigurations: Int = 1 << 24) {
        self.maximumConfigurations = maximumConfigurations
    }

    /// Everything at once: log Z, marginals and a MAP assignment (ties: first in enumeration
    /// order, i.e. lexicographically smallest with the first variable most significant).
    public func solve(_ graph: FactorGraph, evidence: Evidence = .none) throws -> (
        logPartition: Double, marginals: [[Double]], map: MAPAssignment
    ) {
        let problem = try DiscreteProblem(graph, evidence: evidence)
        let n = problem.variableCount
        var total = 1
        for c in problem.cardinalities {
            let (p, o) = total.multipliedReportingOverflow(by: c)
            guard !o, p <= maximumConfigurations else {
                throw FactorGraphError.tooLarge(
                    "brute-force enumeration of more than \(maximumConfigurations) configurations")
            }
            total = p
        }
        // Pass 1: scores and their maximum (for a stable log-sum-exp).
        var x = [Int](repeating: 0, count: n)
        var scores = [Double](repeating: 0, count: total)
        var best = -Double.infinity
        var bestIndex = -1
        for t in 0..<total {
            let s = problem.logScore(x)
            scores[t] = s
            if s > best { best = s; bestIndex = t }
            var v = n - 1
            while v >= 0 { x[v] += 1; if x[v] < problem.cardinalities[v] { break }; x[v] = 0; v -= 1 }
        }
        guard bestIndex >= 0 else {
            throw FactorGraphError.inconsistentEvidence("every configuration has probability zero")
        }
        // Pass 2: log Z and marginals.
        var z = 0.0
        var marg = problem.cardinalities.map { [Double](repeating: 0, count: $0) }
        x = [Int](repeating: 0, count: n)
        for t in 0..<total {
            let w = exp(scores[t] - best)
            z += w
            if w > 0 { for v in 0..<n { marg[v][x[v]] += w } }
            var v = n - 1
            while v >= 0 { x[v] += 1; if x[v] < problem.cardinalities[v] { break }; x[v] = 0; v -= 1 }
        }
        for v in 0..<n { for k in marg[v].indices { marg[v][k] /= z } }
        var mapStates = [Int](repeating: 0, count: n)
        var r = bestIndex
        for v in stride(from: n - 1, through: 0, by: -1) {
            mapStates[v] = r % problem.cardinalities[v]; r /= problem.cardinalities[v]
        }
        let marginals = marg.enumerated().map { problem.isCategorical[$0.offset] ? $0.element : [] }
        return (best + log(z), marginals, MAPAssignment(states: mapStates, logScore: best, isExact: true))
    }

    /// `log Z`; `-∞` when every configuration has probability zero.
    public func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double {
        do { return try solve(graph, evidence: evidence).logPartition } catch FactorGraphError.inconsistentEvidence {
            return -.infinity
        }
    }

    /// Every variable's marginal, summed over every configuration.
    public func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]] {
        try solve(graph, evidence: evidence).marginals
    }

    /// The best configuration of all (ties: the first in enumeration order).
    public func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment {
        try solve(graph, evidence: evidence).map
    }
}

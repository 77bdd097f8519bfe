/// The purely discrete problem that discrete inference runs on: the graph's tables, plus the
/// tables of observed conditional Gaussians, plus clamped states.
///
/// Gaussian variables keep their index (so results line up with the graph) but act as
/// single-state variables that no table touches.
struct DiscreteProblem {
    /// Cardinality of each variable (1 for Gaussian variables).
    let cardinalities: [Int]
    /// Whether each variable is categorical.
    let isCategorical: [Bool]
    /// The graph's factors, then one table per observed conditional Gaussian.
    let factors: [DiscreteFactor]
    /// How many of ``factors`` are the graph's own.
    let graphFactorCount: Int
    /// The clamped state of each variable, if any.
    let clamp: [Int?]

    init(_ graph: FactorGraph, evidence: Evidence) throws {
        try evidence.validate(against: graph)
        guard graph.gaussianFactors.isEmpty else {
            throw FactorGraphError.unsupported(
                "the graph has \(graph.gaussianFactors.count) Gaussian factor(s); run GaussianBeliefPropagation on "
                    + "its Gaussian part"
            )
        }
        cardinalities = graph.variables.map { $0.cardinality ?? 1 }
        isCategorical = graph.variables.map { $0.cardinality != nil }
        var factors = graph.factors
        graphFactorCount = factors.count
        var childUse = [Int: Int]()
        for cg in graph.conditionalGaussians { childUse[cg.child, default: 0] += 1 }
        for (i, cg) in graph.conditionalGaussians.enumerated() {
            if let y = evidence.observations[cg.child] {
                let table = try cg.logLikelihoodTable(observation: y)
                let likelihood = try DiscreteFactor(
                    scope: cg.parents, cardinalities: cg.parentCardinalities, logValues: table)
                // A graph factor over the same variables would form a cycle with this table;
                // fold the table into it instead, so that a tree stays a tree.
                if let f = factors.firstIndex(where: {
                    Set($0.scope) == Set(cg.parents) && $0.scope.count == cg.parents.count
                }) {
                    factors[f].logValues = DiscreteProblem.sum(factors[f], likelihood)
                } else {
                    factors.append(likelihood)
                }
            } else if childUse[cg.child, default: 0] > 1 {
                throw FactorGraphError.unsupported(
                    "conditional Gaussian \(i): its child \(cg.child) is unobserved and shared with another factor "
                        + "(a hybrid model); observe it"
                )
            }
            // Unobserved and alone: ∫ N(y; μ_c, Σ_c) dy = 1 for every c, so the factor is neutral.
        }
        self.factors = factors
        var clamp = [Int?](repeating: nil, count: graph.variableCount)
        for (v, x) in evidence.states { clamp[v] = x }
        self.clamp = clamp
    }

    var variableCount: Int { cardinalities.count }

    /// The same problem with other variables clamped.
    private init(_ other: DiscreteProblem, clamp: [Int?]) {
        cardinalities = other.cardinalities
        isCategorical = other.isCategorical
        factors = other.factors
        graphFactorCount = other.graphFactorCount
        self.clamp = clamp
    }

    /// The same problem with `clamp` in place of its evidence.
    func clamping(_ clamp: [Int?]) -> DiscreteProblem { DiscreteProblem(self, clamp: clamp) }

    /// `log a + log b` over `a`'s scope, for `b` over the same variables in any order.
    static func sum(_ a: DiscreteFactor, _ b: DiscreteFactor) -> [Double] {
        let bStride = a.scope.map { v in b.strides[b.scope.firstIndex(of: v)!] }
        var out = a.logValues
        var digits = [Int](repeating: 0, count: a.scope.count)
        for t in 0..<a.count {
            var k = 0
            for i in 0..<digits.count { k += digits[i] * bStride[i] }
            out[t] += b.logValues[k]
            var j = digits.count - 1
            while j >= 0 { digits[j] += 1; if digits[j] < a.cardinalities[j] { break }; digits[j] = 0; j -= 1 }
        }
        return out
    }

    /// `Σ_f log ψ_f(x)` for a full assignment; `-∞` if it violates a zero or the evidence.
    func logScore(_ x: [Int]) -> Double {
        for (v, c) in clamp.enumerated() { if let c, x[v] != c { return -.infinity } }
        var s = 0.0
        for f in factors {
            var k = 0
            for i in 0..<f.scope.count { k += x[f.scope[i]] * f.strides[i] }
            s += f.logValues[k]
        }
        return s
    }
}

/// The one interface every discrete inference method implements, so that callers (the `drmm`
/// command, the tests) can swap loopy BP, variable elimination and brute-force enumeration.
public protocol InferenceAlgorithm {
    /// `log Z` (natural log) of the model with the evidence applied: `log P(e) + log Z₀`.
    func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double
    /// The marginal of every variable given the evidence (empty for Gaussian variables).
    func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]]
    /// A most probable assignment given the evidence.
    func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment
}

/// The one interface every discrete inference method implements, so that callers (the `drmm`
/// command, the tests) can swap loopy BP, variable elimination and brute-force enumeration.
///
/// Impossible evidence (or a model whose every configuration has a zero factor, `Z = 0`) has
/// one meaning for all of them: ``logPartition(_:evidence:)`` returns `-∞` (where the method
/// can tell), and ``marginals(_:evidence:)`` and ``mostProbableAssignment(_:evidence:)``
/// throw ``FactorGraphError/inconsistentEvidence(_:)``, which have no answer to give.
public protocol InferenceAlgorithm {
    /// `log Z` (natural log) of the model with the evidence applied: `log P(e) + log Z₀`; `-∞`
    /// when the evidence is impossible.
    func logPartition(_ graph: FactorGraph, evidence: Evidence) throws -> Double
    /// The marginal of every variable given the evidence (empty for Gaussian variables).
    func marginals(_ graph: FactorGraph, evidence: Evidence) throws -> [[Double]]
    /// A most probable assignment given the evidence.
    func mostProbableAssignment(_ graph: FactorGraph, evidence: Evidence) throws -> MAPAssignment
}

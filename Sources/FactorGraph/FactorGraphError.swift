/// Everything that can go wrong when building a model, applying evidence, running inference or
/// reading a file. Each case says what is wrong and where (file and line, factor index,
/// variable), so a caller can show the message as it is.
public enum FactorGraphError: Error, Equatable, CustomStringConvertible {
    /// A model or result file is malformed. `line` is 1-based; 0 means "at end of file".
    case malformedFile(path: String, line: Int, message: String)
    /// A factor's scope names a variable that does not exist.
    case undeclaredVariable(factor: Int, variable: Int)
    /// A factor's scope names the same variable twice.
    case repeatedVariable(factor: Int, variable: Int)
    /// A variable was used with the wrong kind (categorical where Gaussian is needed, or the reverse).
    case wrongVariableKind(variable: Int, expected: String)
    /// A cardinality or dimension is not allowed (cardinality < 1, dimension < 1).
    case invalidCardinality(variable: Int, value: Int)
    /// A table has the wrong number of entries for its scope.
    case tableSizeMismatch(factor: Int, expected: Int, actual: Int)
    /// A potential is negative, NaN or +∞ (log-potentials may be −∞, never NaN or +∞).
    case invalidPotential(factor: Int, entry: Int, value: Double)
    /// Evidence names a state outside the variable's range, or a Gaussian observation of the wrong length.
    case evidenceOutOfRange(variable: Int, value: String, message: String)
    /// A Gaussian quantity (precision, covariance, mean) has the wrong shape or is not valid.
    case invalidGaussian(String)
    /// The requested inference is not defined for this model (e.g. exact tree schedule on a loopy graph).
    case unsupported(String)
    /// The model is too large for the requested exact method; says how large.
    case tooLarge(String)
    /// A factor's definition does not fit together (scope and cardinalities of different lengths, …).
    case invalidFactor(factor: Int, message: String)
    /// The evidence has probability zero under the model (every configuration is excluded).
    case inconsistentEvidence(String)
    /// Loopy max-product decoded an assignment that a zero factor or the evidence rules out,
    /// without proving that none exists; exact inference decides.
    case infeasibleDecoding(String)
    /// An iterative method stopped at its iteration limit without converging, where its last
    /// iterate is no answer.
    case notConverged(String)
    /// A Bayesian network is not one: a conditional distribution whose row does not sum to
    /// 1, a negative probability, a cycle, a missing table.
    case invalidNetwork(String)

    /// The error as one line: what is wrong and where.
    public var description: String {
        switch self {
        case let .malformedFile(path, line, message):
            return line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)"
        case let .undeclaredVariable(f, v):
            return "factor \(f): scope names variable \(v), which is not declared"
        case let .repeatedVariable(f, v):
            return "factor \(f): scope names variable \(v) more than once"
        case let .wrongVariableKind(v, expected):
            return "variable \(v): expected a \(expected) variable"
        case let .invalidCardinality(v, value):
            return "variable \(v): cardinality/dimension must be at least 1, got \(value)"
        case let .tableSizeMismatch(f, e, a):
            return "factor \(f): table has \(a) entries, its scope needs \(e)"
        case let .invalidPotential(f, i, value):
            return "factor \(f): entry \(i) is \(value); potentials must be finite and non-negative"
        case let .evidenceOutOfRange(v, value, message):
            return "evidence on variable \(v) (\(value)): \(message)"
        case let .invalidGaussian(m): return "Gaussian: \(m)"
        case let .unsupported(m): return "unsupported: \(m)"
        case let .tooLarge(m): return "too large: \(m)"
        case let .invalidFactor(f, m): return "factor \(f): \(m)"
        case let .inconsistentEvidence(m): return "inconsistent evidence: \(m)"
        case let .infeasibleDecoding(m): return "no feasible assignment decoded: \(m)"
        case let .notConverged(m): return "not converged: \(m)"
        case let .invalidNetwork(m): return "Bayesian network: \(m)"
        }
    }
}

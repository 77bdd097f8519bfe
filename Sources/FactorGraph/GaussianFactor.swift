import NumericalCore

/// A Gaussian factor in information (canonical) form over Gaussian variables:
/// `ψ(x) = exp(−½ xᵀ J x + hᵀ x)`, with `x` the concatenation of the scope variables' vectors.
///
/// `J` (the precision) is symmetric and positive semidefinite; a pairwise coupling between
/// scalar variables `i, j` with strength `a` is the factor with `J = [[0, a], [a, 0]]`.
public struct GaussianFactor: Equatable, Sendable {
    /// The Gaussian variables, in block order.
    public let scope: [VariableID]
    /// The dimension of each scope variable.
    public let dimensions: [Int]
    /// The precision `J`, `D × D` with `D = Σ dimensions`.
    public let precision: Matrix
    /// The potential vector `h`, of length `D`.
    public let potential: [Double]

    /// A Gaussian factor `exp(−½ xᵀΛx + ηᵀx)` over `scope` in information form; throws if the
    /// sizes do not agree or Λ is not symmetric.
    public init(scope: [VariableID], dimensions: [Int], precision: Matrix, potential: [Double]) throws {
        guard scope.count == dimensions.count else {
            throw FactorGraphError.invalidGaussian(
                "scope has \(scope.count) variables but \(dimensions.count) dimensions")
        }
        let d = dimensions.reduce(0, +)
        guard precision.rows == d, precision.columns == d, potential.count == d else {
            throw FactorGraphError.invalidGaussian(
                "scope of total dimension \(d) needs a \(d)×\(d) precision and a length-\(d) potential; got "
                    + "\(precision.rows)×\(precision.columns) and \(potential.count)"
            )
        }
        for (i, v) in precision.elements.enumerated() where !v.isFinite {
            throw FactorGraphError.invalidGaussian("precision entry \(i) is \(v)")
        }
        for i in 0..<d {
            for j in 0..<i where abs(precision[i, j] - precision[j, i]) > 1e-12 * max(1, abs(precision[i, j])) {
                throw FactorGraphError.invalidGaussian("precision is not symmetric at (\(i), \(j))")
            }
        }
        for (i, v) in potential.enumerated() where !v.isFinite {
            throw FactorGraphError.invalidGaussian("potential entry \(i) is \(v)")
        }
        self.scope = scope
        self.dimensions = dimensions
        self.precision = precision
        self.potential = potential
    }

    /// Offsets of each scope variable's block in `x`.
    public var blockOffsets: [Int] {
        var o = [Int](); var s = 0
        for d in dimensions { o.append(s); s += d }
        return o
    }
}

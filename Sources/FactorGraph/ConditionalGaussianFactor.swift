import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// A Gaussian child whose mean (and optionally covariance) is selected by categorical parents:
/// `p(y | c) = N(y; μ_c, Σ_c)`, a mixture of Gaussians.
///
/// When the child is observed, the factor is the table `log N(y; μ_c, Σ_c)` over the parents'
/// joint configurations `c` (row-major over ``parents``). Unobserved and attached to nothing
/// else, it integrates to one and leaves the parents untouched. The DRMM's image likelihood
/// is exactly this factor, with `μ_c` the rendered template and `Σ = σ² I`.
public struct ConditionalGaussianFactor: Equatable, Sendable {
    /// The covariance family.
    public enum Covariance: Equatable, Sendable {
        /// `σ² I`, shared by all parent configurations.
        case isotropic(variance: Double)
        /// `diag(v)`, shared.
        case diagonal([Double])
        /// One full covariance per parent configuration (each symmetric positive definite).
        case full([Matrix])
    }

    /// The Gaussian child.
    public let child: VariableID
    /// The child's dimension.
    public let dimension: Int
    /// The categorical parents, row-major (first most significant) in ``means``.
    public let parents: [VariableID]
    /// The parents' cardinalities.
    public let parentCardinalities: [Int]
    /// One mean per joint parent configuration, each of length ``dimension``.
    public let means: [[Double]]
    /// The covariance.
    public let covariance: Covariance

    /// `p(child | parents) = N(means[parent configuration], covariance)`; throws if the
    /// means do not cover every parent configuration or the covariance is not positive definite.
    public init(
        child: VariableID, dimension: Int, parents: [VariableID], parentCardinalities: [Int],
        means: [[Double]], covariance: Covariance
    ) throws {
        guard parents.count == parentCardinalities.count else {
            throw FactorGraphError.invalidGaussian(
                "\(parents.count) parents but \(parentCardinalities.count) cardinalities")
        }
        let configs = try DiscreteFactor.tableSize(parentCardinalities, factor: -1)
        guard means.count == configs else {
            throw FactorGraphError.invalidGaussian(
                "conditional Gaussian on variable \(child): \(configs) parent configurations need \(configs) means, "
                    + "got \(means.count)"
            )
        }
        for (k, m) in means.enumerated() {
            guard m.count == dimension else {
                throw FactorGraphError.invalidGaussian(
                    "mean \(k) has length \(m.count), the child has dimension \(dimension)")
            }
            if let bad = m.firstIndex(where: { !$0.isFinite }) {
                throw FactorGraphError.invalidGaussian("mean \(k) entry \(bad) is \(m[bad])")
            }
        }
        switch covariance {
        case .isotropic(let v):
            guard v > 0, v.isFinite else {
                throw FactorGraphError.invalidGaussian("variance must be positive and finite, got \(v)")
            }
        case .diagonal(let d):
            guard d.count == dimension else {
                throw FactorGraphError.invalidGaussian(
                    "diagonal covariance has length \(d.count), expected \(dimension)")
            }
            if let bad = d.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
                throw FactorGraphError.invalidGaussian(
                    "diagonal covariance entry \(bad) is \(d[bad]); must be positive")
            }
        case .full(let ms):
            guard ms.count == configs else {
                throw FactorGraphError.invalidGaussian(
                    "\(configs) parent configurations need \(configs) covariances, got \(ms.count)")
            }
            for (k, m) in ms.enumerated() {
                guard m.rows == dimension, m.columns == dimension else {
                    throw FactorGraphError.invalidGaussian(
                        "covariance \(k) is \(m.rows)×\(m.columns), expected \(dimension)×\(dimension)")
                }
                do { _ = try Cholesky(m) } catch {
                    throw FactorGraphError.invalidGaussian("covariance \(k) is not positive definite")
                }
            }
        }
        self.child = child
        self.dimension = dimension
        self.parents = parents
        self.parentCardinalities = parentCardinalities
        self.means = means
        self.covariance = covariance
    }

    /// `log N(y; μ_c, Σ_c)` for every parent configuration `c`: the table this factor becomes
    /// when its child is observed as `y`.
    public func logLikelihoodTable(observation y: [Double]) throws -> [Double] {
        guard y.count == dimension else {
            throw FactorGraphError.evidenceOutOfRange(
                variable: child, value: "vector of length \(y.count)",
                message: "the variable has dimension \(dimension)")
        }
        let log2π = log(2 * Double.pi)
        switch covariance {
        case .isotropic(let v):
            let norm = -0.5 * Double(dimension) * (log2π + log(v))
            return means.map { mu in
                var s = 0.0
                for i in 0..<dimension { let d = y[i] - mu[i]; s += d * d }
                return norm - 0.5 * s / v
            }
        case .diagonal(let dv):
            let norm = -0.5 * (Double(dimension) * log2π + dv.reduce(0) { $0 + log($1) })
            return means.map { mu in
                var s = 0.0
                for i in 0..<dimension { let d = y[i] - mu[i]; s += d * d / dv[i] }
                return norm - 0.5 * s
            }
        case .full(let covs):
            return try zip(means, covs).map { mu, cov in
                let ch = try Cholesky(cov)
                let r = (0..<dimension).map { y[$0] - mu[$0] }
                let z = try ch.solve(r)
                let q = try dot(r, z)
                return -0.5 * (Double(dimension) * log2π + ch.logDeterminant + q)
            }
        }
    }
}

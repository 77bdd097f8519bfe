/// A factor graph over categorical and Gaussian variables.
///
/// The graph holds three kinds of factor:
/// - ``DiscreteFactor``: log-potential tables over categorical variables;
/// - ``GaussianFactor``: information-form Gaussians over Gaussian variables;
/// - ``ConditionalGaussianFactor``: a Gaussian child with a mean selected by categorical
///   parents, which becomes a table on the parents once the child is observed.
///
/// Building the graph validates every factor against the declared variables, so that the
/// inference code never sees an undeclared or repeated variable or a mismatched cardinality.
/// Evidence is kept apart (``Evidence``) and applied at inference time, so the same graph
/// serves many observations.
///
/// ```swift
/// var g = FactorGraph()
/// let a = g.addCategorical(cardinality: 2, name: "rain")
/// let b = g.addCategorical(cardinality: 2, name: "wet")
/// try g.addFactor(scope: [a], values: [0.8, 0.2])
/// try g.addFactor(scope: [a, b], values: [0.9, 0.1, 0.2, 0.8])
/// let result = try BeliefPropagation().run(g)   // exact: the graph is a tree
/// ```
public struct FactorGraph: Sendable {
    /// All variables, indexed by ``VariableID``.
    public private(set) var variables: [Variable] = []
    /// Table factors over categorical variables.
    public private(set) var factors: [DiscreteFactor] = []
    /// Information-form factors over Gaussian variables.
    public private(set) var gaussianFactors: [GaussianFactor] = []
    /// Conditional-Gaussian (mixture) factors.
    public private(set) var conditionalGaussians: [ConditionalGaussianFactor] = []

    /// An empty graph.
    public init() {}

    /// The number of variables of both kinds.
    public var variableCount: Int { variables.count }

    /// The cardinality of every variable, 0 for Gaussian ones.
    public var cardinalities: [Int] { variables.map { $0.cardinality ?? 0 } }

    // MARK: Variables

    /// Reserves room for `count` more variables (readers that know the count up front).
    mutating func reserveVariables(_ count: Int) { variables.reserveCapacity(variables.count + count) }

    /// Declares a categorical variable with states `0..<cardinality`.
    @discardableResult
    public mutating func addCategorical(cardinality: Int, name: String? = nil) -> VariableID {
        let id = variables.count
        variables.append(Variable(name: name ?? "x\(id)", kind: .categorical(cardinality: max(cardinality, 0))))
        return id
    }

    /// Declares a categorical variable, checking the cardinality.
    /// - Throws: ``FactorGraphError/invalidCardinality(variable:value:)`` for a cardinality below 1.
    @discardableResult
    public mutating func addCategoricalChecked(cardinality: Int, name: String? = nil) throws -> VariableID {
        guard cardinality >= 1 else {
            throw FactorGraphError.invalidCardinality(variable: variables.count, value: cardinality)
        }
        return addCategorical(cardinality: cardinality, name: name)
    }

    /// Declares a Gaussian variable of the given dimension (1 for a scalar).
    @discardableResult
    public mutating func addGaussian(dimension: Int = 1, name: String? = nil) throws -> VariableID {
        guard dimension >= 1 else {
            throw FactorGraphError.invalidCardinality(variable: variables.count, value: dimension)
        }
        let id = variables.count
        variables.append(Variable(name: name ?? "y\(id)", kind: .gaussian(dimension: dimension)))
        return id
    }

    // MARK: Discrete factors

    /// Adds a table factor given its log-potentials (row-major, first scope variable most
    /// significant). Returns the factor's index.
    @discardableResult
    public mutating func addFactor(scope: [VariableID], logValues: [Double]) throws -> Int {
        try appendFactor(scope: scope) { try DiscreteFactor(scope: scope, cardinalities: $0, logValues: logValues) }
    }

    /// Adds a table factor given its potentials (finite, non-negative; zeros allowed).
    @discardableResult
    public mutating func addFactor(scope: [VariableID], values: [Double]) throws -> Int {
        try appendFactor(scope: scope) { try DiscreteFactor(scope: scope, cardinalities: $0, values: values) }
    }

    private mutating func appendFactor(scope: [VariableID], _ make: ([Int]) throws -> DiscreteFactor) throws -> Int {
        let index = factors.count
        let cards = try categoricalCardinalities(of: scope, factor: index)
        do {
            factors.append(try make(cards))
        } catch let e as FactorGraphError {
            throw e.naming(factor: index)
        }
        return index
    }

    /// Adds a factor built elsewhere, checking it against the declared variables.
    @discardableResult
    public mutating func add(_ factor: DiscreteFactor) throws -> Int {
        let index = factors.count
        let cards = try categoricalCardinalities(of: factor.scope, factor: index)
        guard cards == factor.cardinalities else {
            throw FactorGraphError.invalidFactor(
                factor: index, message: "cardinalities \(factor.cardinalities) disagree with the declared \(cards)")
        }
        factors.append(factor)
        return index
    }

    /// Replaces the log-potentials of factor `index` (same scope), e.g. during learning.
    public mutating func setLogValues(_ logValues: [Double], ofFactor index: Int) throws {
        guard factors.indices.contains(index) else {
            throw FactorGraphError.invalidFactor(factor: index, message: "no such factor")
        }
        guard logValues.count == factors[index].count else {
            throw FactorGraphError.tableSizeMismatch(
                factor: index, expected: factors[index].count, actual: logValues.count)
        }
        if let bad = logValues.firstIndex(where: { $0.isNaN || $0 == .infinity }) {
            throw FactorGraphError.invalidPotential(factor: index, entry: bad, value: logValues[bad])
        }
        factors[index].logValues = logValues
    }

    // MARK: Gaussian factors

    /// Adds an information-form Gaussian factor over Gaussian variables.
    @discardableResult
    public mutating func addGaussianFactor(scope: [VariableID], precision: NumericalCoreMatrix, potential: [Double])
        throws -> Int
    {
        let index = gaussianFactors.count
        try checkScope(scope, factor: index)
        let dims = try scope.map { v -> Int in
            guard let d = variables[v].dimension else {
                throw FactorGraphError.wrongVariableKind(variable: v, expected: "Gaussian")
            }
            return d
        }
        gaussianFactors.append(
            try GaussianFactor(scope: scope, dimensions: dims, precision: precision, potential: potential))
        return index
    }

    /// Adds a conditional Gaussian `p(child | parents)` with one mean per joint parent state.
    @discardableResult
    public mutating func addConditionalGaussian(
        child: VariableID, parents: [VariableID], means: [[Double]],
        covariance: ConditionalGaussianFactor.Covariance
    ) throws -> Int {
        let index = conditionalGaussians.count
        guard variables.indices.contains(child) else {
            throw FactorGraphError.undeclaredVariable(factor: index, variable: child)
        }
        guard let dim = variables[child].dimension else {
            throw FactorGraphError.wrongVariableKind(variable: child, expected: "Gaussian")
        }
        let cards = try categoricalCardinalities(of: parents, factor: index)
        conditionalGaussians.append(
            try ConditionalGaussianFactor(
                child: child, dimension: dim, parents: parents, parentCardinalities: cards, means: means,
                covariance: covariance))
        return index
    }

    // MARK: Scores

    /// `Σ_f log ψ_f(x)` for a full assignment of the categorical variables (one state per
    /// variable; Gaussian variables' entries are ignored): the unnormalised log-probability,
    /// `-∞` where a zero potential or the evidence rules `x` out. Observed conditional
    /// Gaussians contribute their log-likelihood.
    public func logScore(_ states: [Int], evidence: Evidence = .none) throws -> Double {
        guard states.count == variables.count else {
            throw FactorGraphError.evidenceOutOfRange(
                variable: states.count, value: "\(states.count) states",
                message: "an assignment needs one state per variable (\(variables.count))")
        }
        for (v, x) in states.enumerated() {
            if let c = variables[v].cardinality, !(0..<c).contains(x) {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "\(x)", message: "state must be in 0..<\(c)")
            }
        }
        return try DiscreteProblem(self, evidence: evidence).logScore(states)
    }

    private func checkScope(_ scope: [VariableID], factor: Int) throws {
        var seen = Set<Int>()
        for v in scope {
            guard variables.indices.contains(v) else {
                throw FactorGraphError.undeclaredVariable(factor: factor, variable: v)
            }
            guard seen.insert(v).inserted else { throw FactorGraphError.repeatedVariable(factor: factor, variable: v) }
        }
    }

    private func categoricalCardinalities(of scope: [VariableID], factor: Int) throws -> [Int] {
        try checkScope(scope, factor: factor)
        return try scope.map { v in
            guard let c = variables[v].cardinality else {
                throw FactorGraphError.wrongVariableKind(variable: v, expected: "categorical")
            }
            guard c >= 1 else { throw FactorGraphError.invalidCardinality(variable: v, value: c) }
            return c
        }
    }
}

import NumericalCore
/// The dense matrix type of the Gaussian API (`Matrix` of NumericalCore).
public typealias NumericalCoreMatrix = NumericalCore.Matrix

extension FactorGraphError {
    /// The same error with a placeholder factor index (-1) replaced by `factor`.
    func naming(factor: Int) -> FactorGraphError {
        switch self {
        case let .tableSizeMismatch(-1, e, a): return .tableSizeMismatch(factor: factor, expected: e, actual: a)
        case let .invalidPotential(-1, i, v): return .invalidPotential(factor: factor, entry: i, value: v)
        case let .invalidFactor(-1, m): return .invalidFactor(factor: factor, message: m)
        case let .tooLarge(m): return .tooLarge(m.replacing("factor -1", with: "factor \(factor)"))
        default: return self
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

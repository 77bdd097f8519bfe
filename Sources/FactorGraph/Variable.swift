/// The index of a variable in its ``FactorGraph``.
public typealias VariableID = Int

/// A random variable of a factor graph.
public struct Variable: Equatable, Sendable {
    /// What values the variable takes.
    public enum Kind: Equatable, Sendable {
        /// Takes one of `cardinality` states `0..<cardinality` (cardinality ≥ 1).
        case categorical(cardinality: Int)
        /// A real vector of the given dimension (1 for a scalar Gaussian).
        case gaussian(dimension: Int)
    }

    /// A name for messages and output; defaults to `x<index>`.
    public var name: String
    /// Categorical or Gaussian, with its size.
    public var kind: Kind

    /// The cardinality of a categorical variable, `nil` for a Gaussian one.
    public var cardinality: Int? {
        if case .categorical(let c) = kind { return c }
        return nil
    }

    /// The dimension of a Gaussian variable, `nil` for a categorical one.
    public var dimension: Int? {
        if case .gaussian(let d) = kind { return d }
        return nil
    }
}

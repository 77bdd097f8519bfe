/// Observed values: clamped categorical states and observed Gaussian vectors.
///
/// Evidence is applied at inference time, without rebuilding the graph: a clamped
/// categorical variable gets an indicator on its state, an observed Gaussian child of a
/// ``ConditionalGaussianFactor`` turns that factor into a table on its parents, and an
/// observed Gaussian variable is conditioned out of the ``GaussianFactor``s that touch it.
public struct Evidence: Equatable, Sendable {
    /// Clamped categorical variables: variable → state.
    public var states: [VariableID: Int]
    /// Observed Gaussian variables: variable → value.
    public var observations: [VariableID: [Double]]

    /// Evidence fixing categorical variables to `states` and Gaussian ones to `observations`.
    public init(states: [VariableID: Int] = [:], observations: [VariableID: [Double]] = [:]) {
        self.states = states
        self.observations = observations
    }

    /// No evidence.
    public static let none = Evidence()

    /// Whether nothing is observed.
    public var isEmpty: Bool { states.isEmpty && observations.isEmpty }

    /// Checks every entry against the graph: variables exist, states are in range,
    /// observations have the right length and are finite.
    public func validate(against graph: FactorGraph) throws {
        for (v, x) in states {
            guard graph.variables.indices.contains(v) else {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "\(x)", message: "no such variable (the model has \(graph.variableCount))")
            }
            guard let c = graph.variables[v].cardinality else {
                throw FactorGraphError.wrongVariableKind(variable: v, expected: "categorical")
            }
            guard (0..<c).contains(x) else {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "\(x)", message: "state must be in 0..<\(c)")
            }
        }
        for (v, y) in observations {
            guard graph.variables.indices.contains(v) else {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "vector", message: "no such variable (the model has \(graph.variableCount))")
            }
            guard let d = graph.variables[v].dimension else {
                throw FactorGraphError.wrongVariableKind(variable: v, expected: "Gaussian")
            }
            guard y.count == d else {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "vector of length \(y.count)", message: "the variable has dimension \(d)")
            }
            if let bad = y.firstIndex(where: { !$0.isFinite }) {
                throw FactorGraphError.evidenceOutOfRange(
                    variable: v, value: "\(y[bad])", message: "entry \(bad) is not finite")
            }
        }
    }
}

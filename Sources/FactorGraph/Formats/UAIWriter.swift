#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension UAIFormat {
    /// A discrete model as UAI `MARKOV` text: every variable with its cardinality, every factor
    /// with its scope and table (row-major, first scope variable most significant), potentials
    /// `exp(log ψ)` written with 17 significant digits so that reading the text back gives the
    /// same tables to the last bit or within one unit in the last place. Gaussian variables and
    /// factors have no UAI form: a graph with any is refused.
    public static func modelText(_ graph: FactorGraph) throws -> String {
        guard graph.gaussianFactors.isEmpty, graph.conditionalGaussians.isEmpty,
            graph.variables.allSatisfy({ $0.cardinality != nil })
        else {
            throw FactorGraphError.unsupported("UAI models are discrete; this graph has Gaussian variables or factors")
        }
        var out =
            "MARKOV\n\(graph.variableCount)\n" + graph.cardinalities.map(String.init).joined(separator: " ") + "\n"
        out += "\(graph.factors.count)\n"
        for f in graph.factors { out += "\(f.scope.count)" + f.scope.map { " \($0)" }.joined() + "\n" }
        for f in graph.factors {
            out += "\n\(f.count)\n"
            out +=
                f.logValues.map { $0 == -.infinity ? "0" : exp($0).formatted(significantDigits: 17) }.joined(
                    separator: " ")
                + "\n"
        }
        return out
    }

    /// UAI evidence text in the 2014 one-line form `k v₁ x₁ … v_k x_k` (variables in order).
    public static func evidenceText(_ evidence: Evidence) -> String {
        let observed = evidence.states.sorted { $0.key < $1.key }
        return "\(observed.count)" + observed.map { " \($0.key) \($0.value)" }.joined() + "\n"
    }

    /// Writes ``modelText(_:)`` atomically to `path`.
    public static func writeModel(_ graph: FactorGraph, to path: String) throws {
        try writeAtomically(try modelText(graph), to: path)
    }

    /// Writes ``evidenceText(_:)`` atomically to `path`.
    public static func writeEvidence(_ evidence: Evidence, to path: String) throws {
        try writeAtomically(evidenceText(evidence), to: path)
    }
}

import CExpat
import NumericalCore

/// XMLBIF 0.3, the XML form of BIF that pgmpy, Weka and JavaBayes read and write:
/// `<VARIABLE>` with `<NAME>` and `<OUTCOME>`s, `<DEFINITION>` with `<FOR>`, `<GIVEN>`s (first
/// most significant) and a `<TABLE>` whose values run over the child's states fastest. Parsed
/// with Expat (which refuses entity expansion attacks and loads no external entities); errors
/// name the file and line.
public enum XMLBIFFormat {
    /// Reads the network at `path`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> BayesianNetwork {
        try parse(try readFileBytes(path), path: path, limits: limits)
    }

    /// Parses XMLBIF text.
    public static func parse(_ text: String, path: String = "<xmlbif>", limits: ResourceLimits = .standard) throws
        -> BayesianNetwork
    {
        try parse(Array(text.utf8), path: path, limits: limits)
    }

    static func parse(_ bytes: [UInt8], path: String, limits: ResourceLimits) throws -> BayesianNetwork {
        let reader = try Reader(parsing: bytes, path: path)
        var network = BayesianNetwork()
        func fail(_ line: Int, _ message: String) -> FactorGraphError {
            .malformedFile(path: path, line: line, message: message)
        }
        if let inside = reader.open.last { throw fail(reader.lastLine, "the file ends inside <\(inside)>") }
        guard !reader.variables.isEmpty else { throw fail(0, "no <VARIABLE> in the file") }
        for v in reader.variables {
            guard network.nodes.count < limits.variables else {
                throw fail(v.line, "more than \(limits.variables) variables")
            }
            do { try network.addVariable(v.name, states: v.outcomes, limits: limits) } catch {
                throw fail(v.line, "\(error)")
            }
        }
        for d in reader.definitions {
            guard let child = network.index(of: d.child) else {
                throw fail(d.line, "a table for '\(d.child)', not declared")
            }
            guard network.nodes[child].table.isEmpty else { throw fail(d.line, "a second table for '\(d.child)'") }
            var parents: [Int] = []
            for p in d.given {
                guard let i = network.index(of: p) else {
                    throw fail(d.line, "'\(d.child)' is given '\(p)', not declared")
                }
                parents.append(i)
            }
            let k = network.nodes[child].states.count
            guard d.table.count % k == 0 else {
                throw fail(d.line, "the table of '\(d.child)' has \(d.table.count) values, not a multiple of \(k)")
            }
            let rows = (0..<(d.table.count / k)).map { Array(d.table[($0 * k)..<(($0 + 1) * k)]) }
            do { try network.setConditional(child, parents: parents, rows: rows, limits: limits) } catch {
                throw fail(d.line, "\(error)")
            }
        }
        if let missing = network.nodes.first(where: { $0.table.isEmpty }) {
            throw fail(0, "variable '\(missing.name)' has no definition")
        }
        do { _ = try network.topologicalOrder() } catch { throw fail(0, "\(error)") }
        return network
    }

    /// The network as XMLBIF 0.3 text.
    public static func text(_ network: BayesianNetwork, name: String = "unknown") -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BIF VERSION=\"0.3\">\n<NETWORK>\n"
        out += "<NAME>\(escaped(name))</NAME>\n"
        for n in network.nodes {
            out += "<VARIABLE TYPE=\"nature\">\n  <NAME>\(escaped(n.name))</NAME>\n"
            for s in n.states { out += "  <OUTCOME>\(escaped(s))</OUTCOME>\n" }
            out += "</VARIABLE>\n"
        }
        for n in network.nodes {
            out += "<DEFINITION>\n  <FOR>\(escaped(n.name))</FOR>\n"
            for p in n.parents { out += "  <GIVEN>\(escaped(network.nodes[p].name))</GIVEN>\n" }
            out += "  <TABLE>" + n.table.map { "\($0)" }.joined(separator: " ") + "</TABLE>\n</DEFINITION>\n"
        }
        return out + "</NETWORK>\n</BIF>\n"
    }

    /// Writes ``text(_:name:)`` atomically to `path`.
    public static func write(_ network: BayesianNetwork, to path: String, name: String = "unknown") throws {
        try writeAtomically(text(network, name: name), to: path)
    }

    static func escaped(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NumericalCore

/// The Bayesian Interchange Format (`.bif`), as the bnlearn repository and pgmpy write it:
///
/// ```
/// network asia { }
/// variable smoke { type discrete [ 2 ] { yes, no }; }
/// probability ( smoke ) { table 0.5, 0.5; }
/// probability ( lung | smoke ) { (yes) 0.1, 0.9; (no) 0.01, 0.99; }
/// ```
///
/// Rows name the parents' states in the order the parents are listed; `default` gives the
/// rows not listed; `table` lists every row in order (parent configurations with the first
/// parent most significant, the child's states fastest). `property` lines are skipped, and
/// `//` and `/* */` comments. Every error names the file and line; every size is checked
/// against the limits before it is allocated.
public enum BIFFormat {
    /// Reads the network at `path`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> BayesianNetwork {
        try parse(try readFileBytes(path), path: path, limits: limits)
    }

    /// Parses BIF text.
    public static func parse(_ text: String, path: String = "<bif>", limits: ResourceLimits = .standard) throws
        -> BayesianNetwork
    {
        try parse(Array(text.utf8), path: path, limits: limits)
    }

    static func parse(_ bytes: [UInt8], path: String, limits: ResourceLimits) throws -> BayesianNetwork {
        var t = BIFTokens(bytes, path: path)
        t.limit = limits.tableEntries
        var network = BayesianNetwork()
        var tables: [(child: String, parents: [String], body: BIFTokens.Block)] = []
        while let keyword = t.peek() {
            switch keyword.text {
            case "network":
                t.skip()
                _ = try t.name("the network's name")
                try t.skipBlock()
            case "variable":
                t.skip()
                let name = try t.name("a variable name")
                let states = try t.variableBody(name)
                guard network.nodes.count < limits.variables else {
                    throw t.error("more than \(limits.variables) variables", line: keyword.line)
                }
                do { try network.addVariable(name, states: states, limits: limits) } catch {
                    throw t.error("\(error)", line: keyword.line)
                }
            case "probability":
                t.skip()
                let (child, parents) = try t.probabilityHead()
                tables.append((child, parents, try t.probabilityBody()))
            default:
                throw t.error("expected 'network', 'variable' or 'probability', found '\(keyword.text)'")
            }
        }
        guard !network.nodes.isEmpty else {
            throw FactorGraphError.malformedFile(path: path, line: 0, message: "no variable in the file")
        }
        for (child, parents, body) in tables {
            try assemble(&network, child: child, parents: parents, body: body, tokens: t, limits: limits)
        }
        if let missing = network.nodes.first(where: { $0.table.isEmpty }) {
            throw FactorGraphError.malformedFile(
                path: path, line: 0, message: "variable '\(missing.name)' has no probability block")
        }
        do { _ = try network.topologicalOrder() } catch { throw t.error("\(error)", line: 0) }
        return network
    }

    /// Turns one `probability` block into the rows of a conditional table.
    static func assemble(
        _ network: inout BayesianNetwork, child: String, parents: [String], body: BIFTokens.Block,
        tokens t: BIFTokens, limits: ResourceLimits
    ) throws {
        guard let c = network.index(of: child) else {
            throw t.error("probability of '\(child)', which is not declared", line: body.line)
        }
        guard network.nodes[c].table.isEmpty else {
            throw t.error("a second probability block for '\(child)'", line: body.line)
        }
        var ps: [Int] = []
        for p in parents {
            guard let i = network.index(of: p) else {
                throw t.error("'\(child)' has parent '\(p)', which is not declared", line: body.line)
            }
            ps.append(i)
        }
        let k = network.nodes[c].states.count
        let configurations: Int
        do { configurations = try network.rowCount(c, parents: ps, limits: limits) } catch {
            throw t.error("\(error)", line: body.line)
        }
        var rows = [[Double]?](repeating: nil, count: configurations)
        var fallback: [Double]?
        for entry in body.entries {
            switch entry.kind {
            case .table:
                guard entry.values.count == configurations * k else {
                    throw t.error(
                        "the table of '\(child)' has \(entry.values.count) values, not \(configurations * k)",
                        line: entry.line)
                }
                for r in 0..<configurations { rows[r] = Array(entry.values[(r * k)..<((r + 1) * k)]) }
            case .default:
                fallback = entry.values
            case .row(let states):
                guard states.count == ps.count else {
                    throw t.error(
                        "a row of '\(child)' names \(states.count) parent state(s), not \(ps.count)", line: entry.line)
                }
                var r = 0
                for (p, s) in zip(ps, states) {
                    guard let j = network.nodes[p].states.firstIndex(of: s) else {
                        throw t.error("'\(network.nodes[p].name)' has no state '\(s)'", line: entry.line)
                    }
                    r = r * network.nodes[p].states.count + j
                }
                guard rows[r] == nil else {
                    throw t.error("the row (\(states.joined(separator: ", "))) twice", line: entry.line)
                }
                rows[r] = entry.values
            }
        }
        var complete: [[Double]] = []
        complete.reserveCapacity(configurations)
        for (r, row) in rows.enumerated() {
            guard let row = row ?? fallback else {
                throw t.error("\(network.label(c, parents: ps, row: r)) is missing", line: body.line)
            }
            complete.append(row)
        }
        do { try network.setConditional(c, parents: ps, rows: complete, limits: limits) } catch {
            throw t.error("\(error)", line: body.line)
        }
    }

    /// The network as BIF text (bnlearn's layout; probabilities in their shortest form that
    /// reads back to the same `Double`).
    public static func text(_ network: BayesianNetwork, name: String = "unknown") -> String {
        var out = "network \(quoted(name)) {\n}\n"
        for n in network.nodes {
            out += "variable \(quoted(n.name)) {\n  type discrete [ \(n.states.count) ] { "
            out += n.states.map(quoted).joined(separator: ", ") + " };\n}\n"
        }
        for n in network.nodes {
            let k = n.states.count
            let values = { (r: Int) in n.table[(r * k)..<((r + 1) * k)].map { "\($0)" }.joined(separator: ", ") }
            if n.parents.isEmpty {
                out += "probability ( \(quoted(n.name)) ) {\n  table \(values(0));\n}\n"
                continue
            }
            out +=
                "probability ( \(quoted(n.name)) | "
                + n.parents.map { quoted(network.nodes[$0].name) }
                .joined(separator: ", ") + " ) {\n"
            for r in 0..<(n.table.count / k) {
                let states = zip(n.parents, network.parentStates(n.parents, row: r)).map { p, s in
                    quoted(network.nodes[p].states[s])
                }
                out += "  (\(states.joined(separator: ", "))) \(values(r));\n"
            }
            out += "}\n"
        }
        return out
    }

    /// Writes ``text(_:name:)`` atomically to `path`.
    public static func write(_ network: BayesianNetwork, to path: String, name: String = "unknown") throws {
        try writeAtomically(text(network, name: name), to: path)
    }

    /// A name as BIF writes it: bare if it is one token, quoted otherwise.
    static func quoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.utf8.allSatisfy { !BIFTokens.isSeparator($0) && $0 != 0x22 }
        return plain ? s : "\"" + s.replacing("\"", with: "'") + "\""
    }
}

#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// The UAI competition formats: models (`MARKOV`, `BAYES`), evidence, and results
/// (`PR`, `MAR`, `MPE`).
///
/// Model: the type, the number of variables, their cardinalities, the number of functions,
/// one scope line per function (`k v₁ … v_k`, 0-based), then each table as a count and that
/// many values, row-major with the first scope variable most significant. In a `BAYES` model
/// the last scope variable is the child and every conditional table must sum to one over it.
public enum UAIFormat {
    /// Tolerance on `Σ_child p(child | parents) = 1` in `BAYES` tables.
    public static let normalizationTolerance = 1e-3

    /// Parses a UAI model from text; `path` names it in errors. Sizes are checked against
    /// `limits` before anything is allocated.
    public static func parseModel(_ text: String, path: String = "<model>", limits: ResourceLimits = .standard) throws
        -> FactorGraph
    {
        try parseModel(TokenStream(text: text, path: path, comments: false), limits: limits)
    }

    static func parseModel(_ tokens: TokenStream, limits: ResourceLimits) throws -> FactorGraph {
        var ts = tokens
        let typeLine = ts.line
        let type = try ts.word("the model type (MARKOV or BAYES)").uppercased()
        guard type == "MARKOV" || type == "BAYES" else {
            throw ts.error("model type must be MARKOV or BAYES, found '\(type.prefix(40))'", line: typeLine)
        }
        var graph = try parseVariables(&ts, limits: limits)
        let (scopes, scopeLines) = try parseScopes(&ts, variables: graph.variableCount, bayes: type == "BAYES")
        var totalEntries = 0
        for f in scopes.indices {
            let line = ts.line
            let cards = scopes[f].map { graph.variables[$0].cardinality ?? 1 }
            let expected = try ts.limited(scopeLines[f]) {
                let size = try limits.checkedProduct(
                    cards, limit: \.tableEntries, what: "function \(f)'s table over cardinalities \(cards)")
                totalEntries = try limits.check(
                    totalEntries + size, limit: \.totalTableEntries, what: "the tables of functions 0...\(f) together")
                return size
            }
            let values = try parseTable(&ts, function: f, scope: scopes[f], entries: expected)
            if type == "BAYES" { try checkConditional(values, function: f, child: cards.last ?? 1, ts: ts, line: line) }
            do { try graph.addFactor(scope: scopes[f], values: values) } catch let e as FactorGraphError {
                throw ts.error("function \(f): \(e)", line: line)
            }
        }
        guard ts.isAtEnd else { throw ts.error("unexpected text after the last table") }
        return graph
    }

    /// The variable count and the cardinalities, each checked against `limits` before use.
    private static func parseVariables(_ ts: inout TokenStream, limits: ResourceLimits) throws -> FactorGraph {
        let nLine = ts.line
        let n = try ts.integer("the number of variables", in: 0...Int.max)
        try ts.limited(nLine) { try limits.check(n, limit: \.variables, what: "the model's variable count") }
        guard n <= ts.remaining else {
            throw ts.error("declares \(n) variables but the file has only \(ts.remaining) more tokens", line: nLine)
        }
        var graph = FactorGraph()
        graph.reserveVariables(n)
        var totalStates = 0
        for i in 0..<n {
            let cl = ts.line
            let c = try ts.integer("the cardinality of variable \(i)", in: 1...Int.max)
            try ts.limited(cl) {
                try limits.check(c, limit: \.cardinality, what: "variable \(i)'s cardinality")
                totalStates = try limits.check(
                    totalStates + c, limit: \.totalStates, what: "the states of variables 0...\(i) together")
            }
            graph.addCategorical(cardinality: c)
        }
        return graph
    }

    /// The function count and one scope per function (distinct variables below `variables`),
    /// with the line each scope starts on.
    private static func parseScopes(_ ts: inout TokenStream, variables n: Int, bayes: Bool) throws
        -> (scopes: [[Int]], lines: [Int])
    {
        let mLine = ts.line
        let m = try ts.integer("the number of functions", in: 0...Int.max)
        guard m <= ts.remaining else {
            throw ts.error("declares \(m) functions but the file has only \(ts.remaining) more tokens", line: mLine)
        }
        var scopes: [[Int]] = []
        var scopeLines: [Int] = []
        for f in 0..<m {
            let line = ts.line
            let k = try ts.integer("the scope size of function \(f)", in: 0...n)
            guard k <= ts.remaining else {
                throw ts.error(
                    "function \(f): scope of \(k) variables declared, only \(ts.remaining) tokens left", line: line)
            }
            var scope: [Int] = []
            var seen = Set<Int>()
            for _ in 0..<k {
                let vl = ts.line
                let v = try ts.integer("a variable of function \(f)'s scope")
                guard v < n else {
                    throw ts.error("function \(f): scope names variable \(v), but only \(n) are declared", line: vl)
                }
                guard seen.insert(v).inserted else {
                    throw ts.error("function \(f): scope names variable \(v) twice", line: vl)
                }
                scope.append(v)
            }
            if bayes && k == 0 {
                throw ts.error("function \(f): a BAYES function needs a child variable", line: line)
            }
            scopes.append(scope)
            scopeLines.append(line)
        }
        return (scopes, scopeLines)
    }

    /// One table: its entry count (which must be `entries`, already checked against the limits)
    /// and that many finite non-negative values.
    private static func parseTable(_ ts: inout TokenStream, function f: Int, scope: [Int], entries: Int) throws
        -> [Double]
    {
        let line = ts.line
        let count = try ts.integer("the entry count of function \(f)")
        guard count == entries else {
            throw ts.error("function \(f): table has \(count) entries, its scope \(scope) needs \(entries)", line: line)
        }
        guard count <= ts.remaining else {
            throw ts.error("function \(f): \(count) entries declared, only \(ts.remaining) tokens left")
        }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let (v, vl) = try ts.real("entry \(i) of function \(f)")
            guard v >= 0, v.isFinite else {
                throw ts.error(
                    "function \(f): entry \(i) is \(v); potentials must be finite and non-negative", line: vl)
            }
            values[i] = v
        }
        return values
    }

    /// `Σ_child p(child | parents) = 1` for every row of a `BAYES` table (child last).
    private static func checkConditional(_ values: [Double], function f: Int, child: Int, ts: TokenStream, line: Int)
        throws
    {
        for row in 0..<(values.count / child) {
            let s = values[(row * child)..<((row + 1) * child)].reduce(0, +)
            guard abs(s - 1) <= normalizationTolerance else {
                throw ts.error(
                    "function \(f): conditional table row \(row) sums to \(s), not 1 (BAYES tables must "
                        + "normalise over the child, the last scope variable)",
                    line: line)
            }
        }
    }

    /// Reads a UAI model file.
    public static func readModel(path: String, limits: ResourceLimits = .standard) throws -> FactorGraph {
        try parseModel(TokenStream(bytes: try readFileBytes(path), path: path, comments: false), limits: limits)
    }

    /// Parses UAI evidence: the 2014 one-line form `k v₁ x₁ … v_k x_k`, or the older form with
    /// a case count first (`N`, then `N` times `k v₁ x₁ …`). Returns one ``Evidence`` per case.
    public static func parseEvidence(_ text: String, path: String = "<evidence>", for graph: FactorGraph) throws
        -> [Evidence]
    {
        try parseEvidence(TokenStream(text: text, path: path, comments: false), for: graph)
    }

    static func parseEvidence(_ tokens: TokenStream, for graph: FactorGraph) throws -> [Evidence] {
        var ts = tokens
        if ts.isAtEnd { return [Evidence()] }
        let total = ts.remaining
        let first = try ts.integer("the evidence count", in: 0...Int(Int32.max))
        guard first <= total else {
            throw ts.error("declares \(first) observations or cases, but the file has only \(total) tokens")
        }
        var cases: [Evidence] = []
        if total == 1 + 2 * first {
            cases.append(try readCase(&ts, count: first, graph: graph))
        } else {
            for c in 0..<first {
                let k = try ts.integer("the evidence count of case \(c)", in: 0...Int(Int32.max))
                cases.append(try readCase(&ts, count: k, graph: graph))
            }
        }
        guard ts.isAtEnd else { throw ts.error("unexpected text after the evidence") }
        return cases
    }

    private static func readCase(_ ts: inout TokenStream, count: Int, graph: FactorGraph) throws -> Evidence {
        var ev = Evidence()
        guard 2 * count <= ts.remaining else {
            throw ts.error("\(count) observations declared, only \(ts.remaining) tokens left")
        }
        for _ in 0..<count {
            let line = ts.line
            let v = try ts.integer("an evidence variable")
            let x = try ts.integer("the observed state of variable \(v)")
            guard v < graph.variableCount else {
                throw ts.error(
                    "evidence on variable \(v), but the model has \(graph.variableCount) variables", line: line)
            }
            guard let c = graph.variables[v].cardinality, x < c else {
                throw ts.error(
                    "evidence sets variable \(v) to \(x), outside 0..<\(graph.variables[v].cardinality ?? 0)",
                    line: line)
            }
            if let old = ev.states[v], old != x {
                throw ts.error("variable \(v) is observed twice with different states (\(old), \(x))", line: line)
            }
            ev.states[v] = x
        }
        return ev
    }

    /// Reads a UAI evidence file and returns its first case.
    public static func readEvidence(path: String, for graph: FactorGraph) throws -> Evidence {
        try parseEvidence(TokenStream(bytes: try readFileBytes(path), path: path, comments: false), for: graph).first
            ?? Evidence()
    }

    // MARK: Results

    /// `PR` result text: log₁₀ Z (or log₁₀ P(e) with evidence).
    public static func partitionResult(logPartition: Double) -> String {
        "PR\n\(formatted(logPartition / log(10)))\n"
    }

    /// `MAR` result text: per variable its cardinality and probabilities.
    public static func marginalsResult(_ marginals: [[Double]]) -> String {
        var s = "MAR\n\(marginals.count)"
        for m in marginals { s += " \(m.count)"; for p in m { s += " \(formatted(p))" } }
        return s + "\n"
    }

    /// `MPE` result text: the number of variables and the assignment.
    public static func assignmentResult(_ states: [Int]) -> String {
        "MPE\n\(states.count)" + states.map { " \($0)" }.joined() + "\n"
    }

    private static func formatted(_ x: Double) -> String {
        if x == -.infinity { return "-inf" }
        return x.formatted(significantDigits: 10)
    }

    /// A parsed result file.
    public enum Result: Equatable {
        case partition(log10: Double)
        case marginals([[Double]])
        case assignment([Int])
    }

    /// Parses a `PR`, `MAR`, `MAP` or `MPE` result file (as written by the competition
    /// solvers or by ``partitionResult(logPartition:)`` and its siblings).
    public static func parseResult(_ text: String, path: String = "<result>") throws -> Result {
        var ts = TokenStream(text: text, path: path, comments: false)
        let line = ts.line
        let kind = try ts.word("the result type").uppercased()
        switch kind {
        case "PR":
            let w = try ts.word("log10 of the partition function")
            if w == "-inf" { return .partition(log10: -.infinity) }
            guard let v = Double(w), !v.isNaN else { throw ts.error("expected a number, found '\(w.prefix(40))'") }
            return .partition(log10: v)
        case "MAR":
            let n = try ts.integer("the number of variables", in: 0...10_000_000)
            var out: [[Double]] = []
            for i in 0..<n {
                let c = try ts.integer("the cardinality of variable \(i)", in: 1...1_000_000)
                out.append(try (0..<c).map { _ in try ts.real("a probability of variable \(i)").value })
            }
            return .marginals(out)
        case "MAP", "MPE":
            let n = try ts.integer("the number of variables", in: 0...10_000_000)
            return .assignment(try (0..<n).map { _ in try ts.integer("a state") })
        default:
            throw ts.error("result type must be PR, MAR, MAP or MPE, found '\(kind.prefix(40))'", line: line)
        }
    }
}

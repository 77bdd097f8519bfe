#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NumericalCore

/// Observations of a Bayesian network's variables: one row per case, one entry per variable
/// (in the network's order), a state index or `nil` where the value is missing.
public struct Observations: Sendable, Equatable {
    /// The cases.
    public var rows: [[Int?]]

    /// Cases as they are.
    public init(rows: [[Int?]]) { self.rows = rows }

    /// Reads a CSV file whose header names the network's variables (in any order; a variable
    /// without a column is missing in every row) and whose cells name states; an empty cell,
    /// `?`, `NA` or `NaN` is missing. Errors name the file, line and column.
    public static func readCSV(
        path: String, for network: BayesianNetwork, limits: ResourceLimits = .standard
    ) throws -> Observations {
        try parseCSV(bytes: try readFileBytes(path), path: path, for: network, limits: limits)
    }

    /// Parses CSV text (see ``readCSV(path:for:limits:)``).
    public static func parseCSV(
        _ text: String, path: String = "<csv>", for network: BayesianNetwork, limits: ResourceLimits = .standard
    ) throws -> Observations {
        try parseCSV(bytes: Array(text.utf8), path: path, for: network, limits: limits)
    }

    /// The cells of one line: byte ranges, trimmed of spaces, tabs, quotes and CR.
    static func cells(_ b: [UInt8], _ line: Range<Int>, into out: inout [Range<Int>]) {
        out.removeAll(keepingCapacity: true)
        var start = line.lowerBound
        func trimmed(_ s: Int, _ e: Int) -> Range<Int> {
            var (s, e) = (s, e)
            let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x22 || $0 == 0x0D }
            while s < e && blank(b[s]) { s += 1 }
            while e > s && blank(b[e - 1]) { e -= 1 }
            return s..<e
        }
        for i in line where b[i] == 0x2C {
            out.append(trimmed(start, i))
            start = i + 1
        }
        out.append(trimmed(start, line.upperBound))
    }

    static func parseCSV(bytes b: [UInt8], path: String, for network: BayesianNetwork, limits: ResourceLimits) throws
        -> Observations
    {
        func fail(_ line: Int, _ message: String) -> FactorGraphError {
            .malformedFile(path: path, line: line, message: message)
        }
        // Lines: LF or CRLF ends one (a trailing CR is trimmed with the last cell); blank lines
        // at the end are dropped.
        var lines: [Range<Int>] = []
        var start = 0
        for i in b.indices where b[i] == 0x0A {
            lines.append(start..<i)
            start = i + 1
        }
        if start < b.count { lines.append(start..<b.count) }
        while let last = lines.last, b[last].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            lines.removeLast()
        }
        guard let header = lines.first else { throw fail(1, "no header line") }
        var ranges: [Range<Int>] = []
        cells(b, header, into: &ranges)
        let names = ranges.map { String(decoding: b[$0], as: UTF8.self) }
        var column = [Int?](repeating: nil, count: names.count)
        for (j, name) in names.enumerated() {
            guard let v = network.index(of: name) else {
                throw fail(1, "column \(j + 1), '\(name)', is not a variable")
            }
            guard !column.contains(v) else { throw fail(1, "variable '\(name)' has two columns") }
            column[j] = v
        }
        let count = lines.count - 1
        guard let total = ResourceLimits.product([count, max(1, network.nodes.count)]),
            total <= limits.totalTableEntries
        else {
            throw FactorGraphError.tooLarge("\(count) rows of \(network.nodes.count) variables in \(path)")
        }
        let states = network.nodes.map { $0.states.map { Array($0.utf8) } }
        let missing: [[UInt8]] = [[], Array("?".utf8), Array("NA".utf8), Array("NaN".utf8)]
        var rows: [[Int?]] = []
        rows.reserveCapacity(count)
        var row = [Int?](repeating: nil, count: network.nodes.count)
        for (r, line) in lines.dropFirst().enumerated() {
            cells(b, line, into: &ranges)
            guard ranges.count == names.count else {
                throw fail(r + 2, "\(ranges.count) cells; the header has \(names.count)")
            }
            for v in row.indices { row[v] = nil }
            for (j, cell) in ranges.enumerated() {
                guard let v = column[j] else { continue }
                let value = b[cell]
                if let s = states[v].firstIndex(where: { $0.elementsEqual(value) }) {
                    row[v] = s
                } else if !missing.contains(where: { $0.elementsEqual(value) }) {
                    throw fail(
                        r + 2,
                        "column \(j + 1): '\(String(decoding: value, as: UTF8.self))' is not a state of "
                            + "'\(network.nodes[v].name)'")
                }
            }
            rows.append(row)
        }
        return Observations(rows: rows)
    }

    /// The rows as CSV text with a header of the network's variable names (missing cells empty).
    public func csvText(for network: BayesianNetwork) -> String {
        let states = network.nodes.map { $0.states.map { Array($0.utf8) } }
        var out = Array((network.nodes.map(\.name).joined(separator: ",") + "\n").utf8)
        out.reserveCapacity(out.count + rows.count * network.nodes.count * 4)
        for row in rows {
            for (v, s) in row.enumerated() {
                if v > 0 { out.append(0x2C) }
                if let s { out += states[v][s] }
            }
            out.append(0x0A)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Foundation
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
        try parseCSV(String(decoding: try readFileBytes(path), as: UTF8.self), path: path, for: network, limits: limits)
    }

    /// Parses CSV text (see ``readCSV(path:for:limits:)``).
    public static func parseCSV(
        _ text: String, path: String = "<csv>", for network: BayesianNetwork, limits: ResourceLimits = .standard
    ) throws -> Observations {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        func fail(_ line: Int, _ message: String) -> FactorGraphError {
            .malformedFile(path: path, line: line, message: message)
        }
        guard let header = lines.first else { throw fail(1, "no header line") }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"\r")))
        }
        var column = [Int?](repeating: nil, count: names.count)
        for (j, name) in names.enumerated() {
            guard let v = network.index(of: name) else {
                throw fail(1, "column \(j + 1), '\(name)', is not a variable")
            }
            guard !column.contains(v) else { throw fail(1, "variable '\(name)' has two columns") }
            column[j] = v
        }
        let count = lines.count - 1
        guard
            count.multipliedReportingOverflow(by: max(1, network.nodes.count)).partialValue
                <= limits.totalTableEntries
        else {
            throw FactorGraphError.tooLarge("\(count) rows of \(network.nodes.count) variables in \(path)")
        }
        let stateIndex = network.nodes.map { n in Dictionary(n.states.enumerated().map { ($1, $0) }) { a, _ in a } }
        var rows: [[Int?]] = []
        rows.reserveCapacity(count)
        for (r, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == names.count else {
                throw fail(r + 2, "\(cells.count) cells; the header has \(names.count)")
            }
            var row = [Int?](repeating: nil, count: network.nodes.count)
            for (j, cell) in cells.enumerated() {
                let value = cell.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"\r")))
                guard !["", "?", "NA", "NaN"].contains(value), let v = column[j] else { continue }
                guard let s = stateIndex[v][value] else {
                    throw fail(r + 2, "column \(j + 1): '\(value)' is not a state of '\(network.nodes[v].name)'")
                }
                row[v] = s
            }
            rows.append(row)
        }
        return Observations(rows: rows)
    }

    /// The rows as CSV text with a header of the network's variable names (missing cells empty).
    public func csvText(for network: BayesianNetwork) -> String {
        var out = network.nodes.map(\.name).joined(separator: ",") + "\n"
        for row in rows {
            out += row.enumerated().map { v, s in s.map { network.nodes[v].states[$0] } ?? "" }.joined(separator: ",")
            out += "\n"
        }
        return out
    }
}

/// Whitespace-separated tokens of a text file, each with its 1-based line, for parsers that
/// report errors as `path:line: message`.
struct TokenStream {
    let path: String
    private var tokens: [(text: Substring, line: Int)] = []
    private(set) var position = 0

    /// Splits `text` into tokens; a `#` starts a comment to the end of the line when
    /// `comments` is true.
    init(text: String, path: String, comments: Bool) {
        self.path = path
        var line = 1
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var content = rawLine[...]
            if comments, let hash = content.firstIndex(of: "#") { content = content[..<hash] }
            for word in content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }) {
                tokens.append((word, line))
            }
            line += 1
        }
    }

    var isAtEnd: Bool { position >= tokens.count }
    var remaining: Int { tokens.count - position }

    /// The line of the next token (or of the last one at the end).
    var line: Int { tokens.isEmpty ? 0 : tokens[min(position, tokens.count - 1)].line }

    func error(_ message: String, line: Int? = nil) -> FactorGraphError {
        .malformedFile(path: path, line: line ?? self.line, message: message)
    }

    mutating func next(_ what: String) throws -> (text: Substring, line: Int) {
        guard position < tokens.count else {
            throw FactorGraphError.malformedFile(path: path, line: 0, message: "unexpected end of file: expected \(what)")
        }
        defer { position += 1 }
        return tokens[position]
    }

    /// The next token as a word.
    mutating func word(_ what: String) throws -> String { String(try next(what).text) }

    /// The next token as an integer in `range`.
    mutating func integer(_ what: String, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        let (t, line) = try next(what)
        guard let v = Int(t) else { throw error("expected \(what) (an integer), found '\(t.prefix(40))'", line: line) }
        guard range.contains(v) else { throw error("\(what) must be in \(range.lowerBound)...\(range.upperBound), found \(v)", line: line) }
        return v
    }

    /// The next token as a finite real number in any decimal or exponent form.
    mutating func real(_ what: String) throws -> (value: Double, line: Int) {
        let (t, line) = try next(what)
        guard let v = Double(t), !v.isNaN else { throw error("expected \(what) (a number), found '\(t.prefix(40))'", line: line) }
        return (v, line)
    }
}

import Foundation

/// Reads a whole text file, mapping I/O failures to ``FactorGraphError/malformedFile(path:line:message:)``.
func readTextFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw FactorGraphError.malformedFile(path: path, line: 0, message: "cannot read the file (missing or unreadable)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw FactorGraphError.malformedFile(path: path, line: 0, message: "the file is not UTF-8 text")
    }
    return text
}

/// Writes `text` atomically: to a temporary file in the same directory, then `rename(2)` over
/// `path`, so a reader sees the old file or the new one, never a partial write.
public func writeAtomically(_ text: String, to path: String) throws {
    try writeAtomically(bytes: Array(text.utf8), to: path)
}

/// Writes `bytes` atomically: to a temporary file in the same directory, then `rename(2)`.
public func writeAtomically(bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: tmp))
    } catch {
        throw FactorGraphError.malformedFile(path: path, line: 0, message: "cannot write: \(error.localizedDescription)")
    }
    if rename(tmp, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(tmp)
        throw FactorGraphError.malformedFile(path: path, line: 0, message: "cannot write: \(reason)")
    }
}

/// The tokens of a BIF file — words, quoted names and the punctuation `{ } ( ) [ ] | , ;` —
/// each with its line, and the parsing steps of its three kinds of block.
struct BIFTokens {
    struct Token {
        let text: String
        let line: Int
        let quoted: Bool
    }

    /// One statement of a `probability` block.
    struct Entry {
        enum Kind {
            case table, `default`
            case row([String])
        }
        let kind: Kind
        let values: [Double]
        let line: Int
    }

    /// A `probability` block's statements.
    struct Block {
        let line: Int
        let entries: [Entry]
    }

    let path: String
    /// The most values one statement, or entries one block, may hold.
    var limit = Int.max
    private let b: [UInt8]
    /// The scan position, its line, and the next token once scanned.
    private var k = 0, line = 1
    private var lookahead: Token?
    private var lastLine = 1

    static func isSeparator(_ c: UInt8) -> Bool {
        switch c {
        case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C, 0x7B, 0x7D, 0x28, 0x29, 0x5B, 0x5D, 0x7C, 0x2C, 0x3B: return true
        default: return false
        }
    }

    /// Tokens of `bytes`, scanned one at a time as the parser asks (nothing is held but the
    /// next token).
    init(_ bytes: [UInt8], path: String) {
        self.path = path
        b = bytes
        k = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
    }

    /// Scans the next token from the bytes.
    private mutating func scan() -> Token? {
        let n = b.count
        func text(_ s: Int, _ e: Int) -> String { String(decoding: b[s..<e], as: UTF8.self) }
        while k < n {
            let c = b[k]
            if c == 0x0A { line += 1; k += 1; continue }
            if c == 0x0D { line += 1; k += (k + 1 < n && b[k + 1] == 0x0A) ? 2 : 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C { k += 1; continue }
            if c == 0x2F, k + 1 < n, b[k + 1] == 0x2F {  // "//" to the end of the line
                while k < n && b[k] != 0x0A && b[k] != 0x0D { k += 1 }
                continue
            }
            if c == 0x2F, k + 1 < n, b[k + 1] == 0x2A {  // "/* … */"
                k += 2
                while k < n && !(b[k] == 0x2A && k + 1 < n && b[k + 1] == 0x2F) {
                    if b[k] == 0x0A { line += 1 }
                    k += 1
                }
                k = min(n, k + 2)
                continue
            }
            if c == 0x22 {  // a quoted name
                let s = k + 1
                var e = s
                while e < n && b[e] != 0x22 && b[e] != 0x0A { e += 1 }
                k = min(n, e + 1)
                return Token(text: text(s, e), line: line, quoted: true)
            }
            if Self.isSeparator(c) {
                k += 1
                return Token(text: text(k - 1, k), line: line, quoted: false)
            }
            let s = k
            while k < n && !Self.isSeparator(b[k]) && b[k] != 0x22 { k += 1 }
            return Token(text: text(s, k), line: line, quoted: false)
        }
        return nil
    }

    func error(_ message: String, line at: Int? = nil) -> FactorGraphError {
        FactorGraphError.malformedFile(path: path, line: at ?? lookahead?.line ?? lastLine, message: message)
    }

    mutating func peek() -> Token? {
        if lookahead == nil { lookahead = scan() }
        return lookahead
    }

    mutating func skip() { _ = try? next("") }

    mutating func next(_ what: @autoclosure () -> String) throws -> Token {
        guard let t = peek() else { throw error("the file ends where \(what()) should be") }
        lookahead = nil
        lastLine = t.line
        return t
    }

    mutating func expect(_ s: String) throws {
        let t = try next("'\(s)'")
        guard t.text == s, !t.quoted else { throw error("expected '\(s)', found '\(t.text)'", line: t.line) }
    }

    func isPunctuation(_ t: Token) -> Bool {
        !t.quoted && t.text.utf8.count == 1 && Self.isSeparator(t.text.utf8.first!)
    }

    mutating func name(_ what: @autoclosure () -> String) throws -> String {
        let t = try next(what())
        guard !isPunctuation(t), !t.text.isEmpty else {
            throw error("expected \(what()), found '\(t.text)'", line: t.line)
        }
        return t.text
    }

    /// Skips `{ … }`, nested blocks included.
    mutating func skipBlock() throws {
        try expect("{")
        var depth = 1
        while depth > 0 {
            let t = try next("'}'")
            if !t.quoted && t.text == "{" { depth += 1 }
            if !t.quoted && t.text == "}" { depth -= 1 }
        }
    }

    /// Skips to the end of the statement (`;`).
    mutating func skipStatement() throws {
        while try next("';'").text != ";" {}
    }

    /// `{ type discrete [ n ] { s₁, …, sₙ }; property …; }`: the states.
    mutating func variableBody(_ variable: String) throws -> [String] {
        try expect("{")
        var states: [String]?
        while true {
            let t = try next("the end of variable '\(variable)'")
            switch t.text {
            case "}" where !t.quoted:
                guard let states else { throw error("variable '\(variable)' has no 'type discrete'", line: t.line) }
                return states
            case "type":
                let kind = try name("the variable type")
                guard kind == "discrete" else {
                    throw error("variable '\(variable)' is of type '\(kind)'; only discrete is read", line: t.line)
                }
                try expect("[")
                let count = try next("the number of states")
                guard let n = Int(count.text), n >= 1 else {
                    throw error("'\(count.text)' is not a number of states", line: count.line)
                }
                try expect("]")
                try expect("{")
                var names: [String] = []
                while true {
                    names.append(try name("a state of '\(variable)'"))
                    let sep = try next("',' or '}'")
                    if sep.text == "}" { break }
                    guard sep.text == "," else {
                        throw error("expected ',' or '}', found '\(sep.text)'", line: sep.line)
                    }
                    guard names.count < n else {
                        throw error("variable '\(variable)' lists more than its \(n) states", line: sep.line)
                    }
                }
                guard names.count == n else {
                    throw error("variable '\(variable)' declares \(n) states and lists \(names.count)", line: t.line)
                }
                try expect(";")
                states = names
            case "property":
                try skipStatement()
            default:
                throw error("unexpected '\(t.text)' in variable '\(variable)'", line: t.line)
            }
        }
    }

    /// `( child | p₁, p₂ )`.
    mutating func probabilityHead() throws -> (String, [String]) {
        try expect("(")
        let child = try name("the variable of a probability block")
        var parents: [String] = []
        var t = try next("')' or '|'")
        if t.text == "|" {
            repeat {
                parents.append(try name("a parent of '\(child)'"))
                t = try next("',' or ')'")
            } while t.text == ","
        }
        guard t.text == ")" else { throw error("expected ')', found '\(t.text)'", line: t.line) }
        return (child, parents)
    }

    /// `{ table …; | default …; | (s₁, …) …; | property …; }`.
    mutating func probabilityBody() throws -> Block {
        try expect("{")
        let line = lastLine
        var entries: [Entry] = []
        while true {
            let t = try next("the end of a probability block")
            if t.text == "}" && !t.quoted { return Block(line: line, entries: entries) }
            guard entries.count < limit else { throw error("a block of more than \(limit) rows", line: t.line) }
            switch t.text {
            case "table": entries.append(Entry(kind: .table, values: try values(), line: t.line))
            case "default": entries.append(Entry(kind: .default, values: try values(), line: t.line))
            case "property": try skipStatement()
            case "(" where !t.quoted:
                var states: [String] = []
                var u = try next("a parent state")
                while !(u.text == ")" && !u.quoted) {
                    if !(u.text == "," && !u.quoted) { states.append(u.text) }
                    u = try next("')'")
                }
                entries.append(Entry(kind: .row(states), values: try values(), line: t.line))
            default:
                throw error("unexpected '\(t.text)' in a probability block", line: t.line)
            }
        }
    }

    /// Numbers separated by commas (or spaces) up to `;`.
    mutating func values() throws -> [Double] {
        var out: [Double] = []
        while true {
            let t = try next("a probability or ';'")
            if t.text == ";" { return out }
            if t.text == "," { continue }
            guard let v = Double(t.text) else { throw error("'\(t.text)' is not a probability", line: t.line) }
            guard out.count < limit else { throw error("a statement of more than \(limit) values", line: t.line) }
            out.append(v)
        }
    }
}

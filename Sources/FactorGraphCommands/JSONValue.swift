import FactorGraph
import NumericalCore

/// A JSON value: what the commands write as their `--json` results.
public enum JSONValue: Sendable, Equatable {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    /// A number; a non-finite one becomes the string `"inf"`, `"-inf"` or `"nan"` (JSON has none).
    public static func finite(_ x: Double) -> JSONValue {
        x.isFinite ? .number(x) : .string(x.isNaN ? "nan" : x > 0 ? "inf" : "-inf")
    }

    /// The value as plain Swift values (`Double`, `Int`, `String`, `Bool`, arrays and
    /// `[String: Any]`), for code that combines it with other untyped JSON.
    public var plain: Any {
        switch self {
        case let .number(x): return x
        case let .integer(i): return i
        case let .string(s): return s
        case let .bool(b): return b
        case let .array(a): return a.map(\.plain)
        case let .object(o): return o.mapValues(\.plain)
        case .null: return Optional<Any>.none as Any
        }
    }

    /// The value as JSON text: objects indented by two spaces with their keys sorted, arrays of
    /// numbers, strings and booleans on one line; numbers in the shortest form that reads back
    /// as the same `Double`.
    public func text() -> String {
        var out = ""
        write(into: &out, indent: "")
        return out + "\n"
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    private func write(into out: inout String, indent: String) {
        switch self {
        case let .number(x): out += x.isFinite ? "\(x)" : "null"
        case let .integer(i): out += "\(i)"
        case let .string(s): out += s.jsonQuoted
        case let .bool(b): out += b ? "true" : "false"
        case .null: out += "null"
        case let .array(a):
            if a.isEmpty { out += "[]"; return }
            if a.allSatisfy(\.isScalar) {
                out += "["
                for (i, v) in a.enumerated() {
                    if i > 0 { out += ", " }
                    v.write(into: &out, indent: indent)
                }
                out += "]"
                return
            }
            let inner = indent + "  "
            out += "[\n"
            for (i, v) in a.enumerated() {
                out += i > 0 ? ",\n" + inner : inner
                v.write(into: &out, indent: inner)
            }
            out += "\n" + indent + "]"
        case let .object(o):
            if o.isEmpty { out += "{}"; return }
            let inner = indent + "  "
            out += "{\n"
            for (i, (key, value)) in o.sorted(by: { $0.key < $1.key }).enumerated() {
                out += (i > 0 ? ",\n" + inner : inner) + key.jsonQuoted + ": "
                value.write(into: &out, indent: inner)
            }
            out += "\n" + indent + "}"
        }
    }

    /// Writes ``text()`` to `path` atomically.
    public func write(to path: String) throws {
        try writeAtomically(text(), to: path)
    }
}

extension JSONValue: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

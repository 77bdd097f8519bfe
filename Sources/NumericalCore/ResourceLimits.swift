/// The sizes a process accepts from files, options and declarations before it allocates: one
/// policy, checked in one way, by every reader and constructor.
///
/// Every limit is a count (entries, variables, images …), not bytes; ``describe(doubles:)`` turns a
/// count of `Double`s into a size a person reads. The defaults fit the machine this library is
/// built for (24 GiB, two cores) with room to spare; raise them with ``setting(_:to:)`` or,
/// from the command line, `--limit name=value`.
///
/// ```swift
/// var limits = ResourceLimits.standard
/// try limits.setting("cliqueEntries", to: 1 << 28)
/// let n = try limits.checkedProduct([4096, 4096, 3], limit: \.tableEntries, what: "a table")
/// ```
public struct ResourceLimits: Sendable, Equatable, Codable {
    /// Entries of one table a model declares: 2²⁴ (128 MiB of `Double`).
    public var tableEntries = 1 << 24
    /// Entries of every table of one model together: 2²⁶ (512 MiB).
    public var totalTableEntries = 1 << 26
    /// Entries of one clique table that exact inference builds: 2²⁶ (512 MiB); the messages it
    /// keeps are bounded by ``totalTableEntries``.
    public var cliqueEntries = 1 << 26
    /// Variables of one model.
    public var variables = 10_000_000
    /// States of one categorical variable.
    public var cardinality = 1 << 24
    /// States of every variable together (the length of BP's beliefs and, per edge, messages).
    public var totalStates = 1 << 26
    /// Parameters of one network or rendering model (filters, templates, biases, statistics).
    public var modelParameters = 1 << 28
    /// Activations of one image through a network (every level's maps together).
    public var activationsPerImage = 1 << 26
    /// Any one size of an architecture: channels, kernel, pool, height, width, classes.
    public var architectureSize = 1 << 20
    /// Worker threads.
    public var workers = 1024
    /// Images in one data set.
    public var images = 100_000_000
    /// Bytes of one data file once decompressed.
    public var dataBytes = 1 << 33

    /// The defaults.
    public static let standard = ResourceLimits()

    /// The standard limits (``standard``).
    public init() {}

    /// The names ``setting(_:to:)`` accepts, with each limit's key path (immutable; key paths
    /// are not `Sendable` in the type system, but these are constants).
    nonisolated(unsafe) public static let names: [(name: String, keyPath: WritableKeyPath<ResourceLimits, Int>)] = [
        ("tableEntries", \.tableEntries), ("totalTableEntries", \.totalTableEntries),
        ("cliqueEntries", \.cliqueEntries),
        ("variables", \.variables),
        ("cardinality", \.cardinality), ("totalStates", \.totalStates), ("modelParameters", \.modelParameters),
        ("activationsPerImage", \.activationsPerImage), ("architectureSize", \.architectureSize),
        ("workers", \.workers), ("images", \.images), ("dataBytes", \.dataBytes)
    ]

    /// The name of the limit at `keyPath`, as `--limit` spells it.
    public static func name(of keyPath: KeyPath<ResourceLimits, Int>) -> String {
        names.first { $0.keyPath == keyPath }?.name ?? "\(keyPath)"
    }

    /// Sets the limit called `name` (one of ``names``) to `value`.
    public mutating func setting(_ name: String, to value: Int) throws {
        guard let entry = Self.names.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw ResourceLimitError.unknownLimit(name: name, known: Self.names.map(\.name))
        }
        guard value >= 1 else { throw ResourceLimitError.invalidValue(name: entry.name, value: "\(value)") }
        self[keyPath: entry.keyPath] = value
    }

    /// Parses `name=value` (the value may be written `2^30` or `1e9`) and sets that limit.
    public mutating func apply(_ assignment: String) throws {
        let parts = assignment.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
        guard parts.count == 2, let value = Self.parseCount(parts[1]) else {
            throw ResourceLimitError.invalidValue(
                name: assignment, value: "expected name=count, e.g. tableEntries=2^28")
        }
        try setting(parts[0], to: value)
    }

    static func parseCount(_ s: String) -> Int? {
        if let v = Int(s) { return v }
        if let caret = s.firstIndex(of: "^"), let b = Int(s[..<caret]), let e = Int(s[s.index(after: caret)...]),
            b >= 2, e >= 0, e < 63
        {
            var v = 1
            for _ in 0..<e { let (p, o) = v.multipliedReportingOverflow(by: b); if o { return nil }; v = p }
            return v
        }
        if let d = Double(s), d.isFinite, d >= 1, d < 9.2e18, d == d.rounded() { return Int(d) }
        return nil
    }

    /// Checks `value` against the limit at `keyPath`; `what` names the thing measured (and is
    /// only formed when the check fails).
    @discardableResult
    public func check(_ value: Int, limit keyPath: KeyPath<ResourceLimits, Int>, what: @autoclosure () -> String)
        throws -> Int
    {
        let limit = self[keyPath: keyPath]
        guard value <= limit else {
            throw ResourceLimitError.exceeded(
                what: what(), requested: "\(value)", limit: limit, name: Self.name(of: keyPath))
        }
        return value
    }

    /// `Π factors`, computed without overflow and checked against the limit at `keyPath`.
    /// Every factor must be non-negative.
    @discardableResult
    public func checkedProduct(
        _ factors: [Int], limit keyPath: KeyPath<ResourceLimits, Int>, what: @autoclosure () -> String
    ) throws -> Int {
        guard let p = Self.product(factors) else {
            throw ResourceLimitError.exceeded(
                what: what(), requested: "more than 2^63 (\(factors.map(String.init).joined(separator: " × ")))",
                limit: self[keyPath: keyPath], name: Self.name(of: keyPath))
        }
        return try check(p, limit: keyPath, what: what())
    }

    /// `Π factors`, or `nil` if it overflows `Int`.
    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (q, o) = p.multipliedReportingOverflow(by: f)
            if o { return nil }
            p = q
        }
        return p
    }

    /// `a + b`, or `nil` if it overflows.
    public static func sum(_ a: Int, _ b: Int) -> Int? {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? nil : s
    }

    /// A count of 8-byte values as a size a person reads ("1.5 GiB").
    public static func describe(doubles count: Double) -> String {
        var v = count * 8
        var u = 0
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        let tenths = Int((v * 10).rounded())
        return u == 0 ? "\(Int(v)) B" : "\(tenths / 10).\(tenths % 10) \(units[u])"
    }
}

/// A size refused by ``ResourceLimits``: what, how much was asked, the limit, and the name of
/// the limit that raises it.
public enum ResourceLimitError: Error, Equatable, CustomStringConvertible {
    case exceeded(what: String, requested: String, limit: Int, name: String)
    case unknownLimit(name: String, known: [String])
    case invalidValue(name: String, value: String)

    /// The refusal as one line: which size, its value and the limit, and how to raise it.
    public var description: String {
        switch self {
        case let .exceeded(what, requested, limit, name):
            return "\(what) needs \(requested), above the limit of \(limit) (raise it with --limit \(name)=N)"
        case let .unknownLimit(name, known):
            return "unknown limit '\(name)'; the limits are \(known.joined(separator: ", "))"
        case let .invalidValue(name, value):
            return "limit \(name): \(value)"
        }
    }
}

private extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

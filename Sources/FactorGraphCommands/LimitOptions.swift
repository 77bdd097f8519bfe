import ArgumentParser
import NumericalCore

/// `--limit name=value`: raises (or lowers) one of the ``ResourceLimits`` a command checks
/// sizes against before it allocates.
public struct LimitOptions: ParsableArguments {
    @Option(
        name: .customLong("limit"),
        help: ArgumentHelp(
            "Set a resource limit, e.g. tableEntries=2^28 (repeatable).",
            discussion: "Limits: "
                + ResourceLimits.names.map { "\($0.name) (\(ResourceLimits.standard[keyPath: $0.keyPath]))" }.joined(
                    separator: ", ")))
    public var assignments: [String] = []

    public init() {}

    /// The standard limits with the assignments applied.
    public func limits() throws -> ResourceLimits {
        do { return try .standard(applying: assignments) } catch { throw ValidationError(error.message) }
    }
}

extension ResourceLimits {
    /// The standard limits with `--limit name=value` assignments applied in order.
    static func standard(applying assignments: [String]) throws(InvalidSetting) -> ResourceLimits {
        var l = ResourceLimits.standard
        for a in assignments {
            do { try l.apply(a) } catch { throw InvalidSetting(message: "--limit \(a): \(error)") }
        }
        return l
    }
}

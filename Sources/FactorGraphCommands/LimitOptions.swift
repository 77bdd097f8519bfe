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
        var l = ResourceLimits.standard
        for a in assignments {
            do { try l.apply(a) } catch { throw ValidationError("--limit \(a): \(error)") }
        }
        return l
    }
}

/// Errors of the learning module; each names the file, option or shape at fault.
public enum LearningError: Error, Equatable, CustomStringConvertible {
    /// A command-line or API option is out of range.
    case invalidOption(String)
    /// The data do not fit the model or the mode (wrong image size, too few labels, …).
    case invalidData(String)
    /// A checkpoint cannot be read, is corrupt, or belongs to another architecture.
    case checkpoint(path: String, reason: String)
    /// Training diverged (a non-finite loss or parameter).
    case diverged(String)

    /// The error as one line: what is wrong and where.
    public var description: String {
        switch self {
        case let .invalidOption(m): return "invalid option: \(m)"
        case let .invalidData(m): return "invalid data: \(m)"
        case let .checkpoint(path, reason): return "checkpoint \(path): \(reason)"
        case let .diverged(m): return "training diverged: \(m)"
        }
    }
}

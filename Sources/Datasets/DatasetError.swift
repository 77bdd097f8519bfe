/// Errors reading a data set: each names the file and what is wrong with it.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The file is missing or cannot be read.
    case unreadable(path: String, reason: String)
    /// The file's content is not what its format says.
    case malformed(path: String, reason: String)
    /// Two files, or two parts of one, disagree.
    case mismatch(String)
    /// A size the file declares is above a `ResourceLimits` limit (checked before allocating).
    case tooLarge(path: String, reason: String)

    /// The error as one line, naming the file.
    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformed(path, reason): return "\(path): \(reason)"
        case let .mismatch(m): return m
        case let .tooLarge(path, reason): return "\(path): \(reason)"
        }
    }
}

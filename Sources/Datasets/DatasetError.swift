/// Errors reading a data set: each names the file and what is wrong with it.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case mismatch(String)

    /// The error as one line, naming the file.
    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformed(path, reason): return "\(path): \(reason)"
        case let .mismatch(m): return m
        }
    }
}

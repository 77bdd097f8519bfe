/// Errors of the E-DRMM module, each saying what and where.
public enum EDRMMError: Error, Equatable, CustomStringConvertible {
    case invalidModel(String)
    case invalidInput(String)

    /// The error as one line.
    public var description: String {
        switch self {
        case let .invalidModel(m): return "invalid E-DRMM: \(m)"
        case let .invalidInput(m): return "invalid input: \(m)"
        }
    }
}

/// Errors of the generative-network module; each says which layer or input is at fault.
public enum GenerativeNetworkError: Error, Equatable, CustomStringConvertible {
    case invalidShape(String)
    case invalidInput(String)
    case tooLarge(String)

    /// The error as one line.
    public var description: String {
        switch self {
        case let .invalidShape(m): return "invalid shape: \(m)"
        case let .invalidInput(m): return "invalid input: \(m)"
        case let .tooLarge(m): return "too large: \(m)"
        }
    }
}

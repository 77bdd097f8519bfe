/// Errors of the DRMM module: each says which layer (1-based, as in the paper's ℓ) and which
/// dimension is wrong.
public enum DRMMError: Error, Equatable, CustomStringConvertible {
    /// A layer's shapes do not chain, or a kernel/pool does not fit its input.
    case invalidLayer(layer: Int, message: String)
    /// A parameter has the wrong shape.
    case shapeMismatch(what: String, expected: [Int], actual: [Int])
    /// A parameter value is invalid (non-positive σ², priors not summing to one, NaN weights, …).
    case invalidParameter(String)
    /// An input image has the wrong size or non-finite pixels.
    case invalidInput(String)
    /// The model is too large for the requested exhaustive method.
    case tooLarge(String)

    /// The error as one line: what is wrong and where.
    public var description: String {
        switch self {
        case let .invalidLayer(l, m): return "layer \(l): \(m)"
        case let .shapeMismatch(what, e, a): return "\(what): expected shape \(e), got \(a)"
        case let .invalidParameter(m): return "invalid parameter: \(m)"
        case let .invalidInput(m): return "invalid input: \(m)"
        case let .tooLarge(m): return "too large: \(m)"
        }
    }
}

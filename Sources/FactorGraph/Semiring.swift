#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// The algebra a message-passing run is written in.
///
/// Belief propagation is one dynamic program — combine incoming messages with `⊗`, eliminate
/// a variable with `⊕` — and the semiring decides what it computes:
///
/// | semiring | ⊕ | ⊗ | values | computes |
/// |---|---|---|---|---|
/// | ``SumProduct`` | + | × | probabilities | marginals, log Z |
/// | ``LogSumProduct`` | log-sum-exp | + | log-probabilities | marginals, log Z |
/// | ``MaxProduct`` | max | × | probabilities | max-marginals, MAP |
/// | ``MaxSum`` | max | + | log-probabilities | max-marginals, MAP |
///
/// Values are stored in the semiring's own encoding (``encode(log:)``/``log(_:)`` convert),
/// so a zero potential is `0` in the linear semirings and `-∞` in the log ones, and no
/// operation ever turns it into NaN.
public protocol Semiring: SendableMetatype {
    /// A short name for reports ("sum-product", "max-sum", …).
    static var name: String { get }
    /// The additive identity (the encoding of probability 0).
    static var zero: Double { get }
    /// The multiplicative identity (the encoding of probability 1).
    static var one: Double { get }
    /// `a ⊕ b`.
    static func plus(_ a: Double, _ b: Double) -> Double
    /// `a ⊗ b`.
    static func times(_ a: Double, _ b: Double) -> Double
    /// `a ⊘ b`, the inverse of `⊗` for `b ≠ zero`.
    static func over(_ a: Double, _ b: Double) -> Double
    /// The encoding of a value given by its logarithm.
    static func encode(log x: Double) -> Double
    /// The logarithm of an encoded value.
    static func log(_ x: Double) -> Double
    /// Whether `⊕` is `max`: the run computes max-marginals and supports MAP decoding.
    static var isMaximizing: Bool { get }
    /// Damped update `new^(1−d)·old^d` (in the log domain, `(1−d)·new + d·old`).
    static func damp(new: Double, old: Double, damping d: Double) -> Double
}

/// Sum-product in the probability domain (libDAI's default, `logdomain=0`): fastest for sums.
public enum SumProduct: Semiring {
    /// The semiring\'s name in reports.
    public static let name = "sum-product"
    /// The additive identity (an impossible configuration).
    public static let zero = 0.0
    /// The multiplicative identity (a factor that changes nothing).
    public static let one = 1.0
    @inline(__always) public static func plus(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) public static func times(_ a: Double, _ b: Double) -> Double { a * b }
    @inline(__always) public static func over(_ a: Double, _ b: Double) -> Double { a / b }
    @inline(__always) public static func encode(log x: Double) -> Double { exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    /// Whether ⊕ is a maximum (MAP) rather than a sum (marginals).
    public static let isMaximizing = false
    @inline(__always) public static func damp(new: Double, old: Double, damping d: Double) -> Double {
        d == 0 ? new : pow(new, 1 - d) * pow(old, d)
    }
}

/// Sum-product in the log domain: `⊕` is log-sum-exp, `⊗` is `+`. Immune to underflow.
public enum LogSumProduct: Semiring {
    /// The semiring\'s name in reports.
    public static let name = "log-sum-product"
    /// The additive identity (an impossible configuration).
    public static let zero = -Double.infinity
    /// The multiplicative identity (a factor that changes nothing).
    public static let one = 0.0
    @inline(__always) public static func plus(_ a: Double, _ b: Double) -> Double { LogSpace.add(a, b) }
    @inline(__always) public static func times(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) public static func over(_ a: Double, _ b: Double) -> Double { a == -.infinity ? a : a - b }
    @inline(__always) public static func encode(log x: Double) -> Double { x }
    @inline(__always) public static func log(_ x: Double) -> Double { x }
    /// Whether ⊕ is a maximum (MAP) rather than a sum (marginals).
    public static let isMaximizing = false
    @inline(__always) public static func damp(new: Double, old: Double, damping d: Double) -> Double {
        d == 0 ? new : ((new == -.infinity || old == -.infinity) ? -.infinity : (1 - d) * new + d * old)
    }
}

/// Max-product in the probability domain: `⊕` is `max`, `⊗` is `×`.
public enum MaxProduct: Semiring {
    /// The semiring\'s name in reports.
    public static let name = "max-product"
    /// The additive identity (an impossible configuration).
    public static let zero = 0.0
    /// The multiplicative identity (a factor that changes nothing).
    public static let one = 1.0
    @inline(__always) public static func plus(_ a: Double, _ b: Double) -> Double { a > b ? a : b }
    @inline(__always) public static func times(_ a: Double, _ b: Double) -> Double { a * b }
    @inline(__always) public static func over(_ a: Double, _ b: Double) -> Double { a / b }
    @inline(__always) public static func encode(log x: Double) -> Double { exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    /// Whether ⊕ is a maximum (MAP) rather than a sum (marginals).
    public static let isMaximizing = true
    @inline(__always) public static func damp(new: Double, old: Double, damping d: Double) -> Double {
        SumProduct.damp(new: new, old: old, damping: d)
    }
}

/// Max-sum in the log domain: `⊕` is `max`, `⊗` is `+`. The DRMM's inference semiring.
public enum MaxSum: Semiring {
    /// The semiring\'s name in reports.
    public static let name = "max-sum"
    /// The additive identity (an impossible configuration).
    public static let zero = -Double.infinity
    /// The multiplicative identity (a factor that changes nothing).
    public static let one = 0.0
    @inline(__always) public static func plus(_ a: Double, _ b: Double) -> Double { a > b ? a : b }
    @inline(__always) public static func times(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) public static func over(_ a: Double, _ b: Double) -> Double { a == -.infinity ? a : a - b }
    @inline(__always) public static func encode(log x: Double) -> Double { x }
    @inline(__always) public static func log(_ x: Double) -> Double { x }
    /// Whether ⊕ is a maximum (MAP) rather than a sum (marginals).
    public static let isMaximizing = true
    @inline(__always) public static func damp(new: Double, old: Double, damping d: Double) -> Double {
        LogSumProduct.damp(new: new, old: old, damping: d)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A table factor over categorical variables, kept as log-potentials.
///
/// The table is one contiguous buffer in row-major order over ``scope``: the **first** scope
/// variable is the most significant digit and the last varies fastest (the UAI convention), so
/// the entry for states `(x₀, …, x_{n−1})` is at `Σ xᵢ·strides[i]`. Zero potentials are stored
/// as `-∞` and handled as such everywhere.
public struct DiscreteFactor: Equatable, Sendable {
    /// The variables, in table order.
    public let scope: [VariableID]
    /// Their cardinalities, in the same order.
    public let cardinalities: [Int]
    /// Row-major strides: `strides[last] == 1`.
    public let strides: [Int]
    /// `log ψ(x)` for every configuration, row-major over ``scope``.
    public var logValues: [Double]

    /// A factor from log-potentials. `logValues` may hold `-∞`, never NaN or `+∞`.
    public init(scope: [VariableID], cardinalities: [Int], logValues: [Double]) throws {
        guard scope.count == cardinalities.count else {
            throw FactorGraphError.invalidFactor(
                factor: -1, message: "scope has \(scope.count) variables but \(cardinalities.count) cardinalities")
        }
        for (v, c) in zip(scope, cardinalities) where c < 1 {
            throw FactorGraphError.invalidCardinality(variable: v, value: c)
        }
        let size = try DiscreteFactor.tableSize(cardinalities, factor: -1)
        guard logValues.count == size else {
            throw FactorGraphError.tableSizeMismatch(factor: -1, expected: size, actual: logValues.count)
        }
        for (i, v) in logValues.enumerated() where v.isNaN || v == .infinity {
            throw FactorGraphError.invalidPotential(factor: -1, entry: i, value: v)
        }
        self.scope = scope
        self.cardinalities = cardinalities
        self.strides = DiscreteFactor.rowMajorStrides(cardinalities)
        self.logValues = logValues
    }

    /// A factor from (non-negative, finite) potentials; zeros become `-∞`.
    public init(scope: [VariableID], cardinalities: [Int], values: [Double]) throws {
        for (i, v) in values.enumerated() where !(v >= 0) || !v.isFinite {
            throw FactorGraphError.invalidPotential(factor: -1, entry: i, value: v)
        }
        try self.init(scope: scope, cardinalities: cardinalities, logValues: values.map { log($0) })
    }

    /// The number of table entries.
    public var count: Int { logValues.count }

    /// The potentials `ψ(x) = exp(log ψ(x))`.
    public var values: [Double] { logValues.map { exp($0) } }

    /// The table index of a configuration given in scope order.
    @inlinable
    public func index(of states: [Int]) -> Int {
        var k = 0
        for i in 0..<states.count { k += states[i] * strides[i] }
        return k
    }

    /// The configuration (in scope order) at a table index.
    public func states(at index: Int) -> [Int] {
        var s = [Int](repeating: 0, count: scope.count)
        var r = index
        for i in stride(from: scope.count - 1, through: 0, by: -1) {
            s[i] = r % cardinalities[i]
            r /= cardinalities[i]
        }
        return s
    }

    /// Row-major strides for the given cardinalities.
    public static func rowMajorStrides(_ cardinalities: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: cardinalities.count)
        var s = 1
        for i in stride(from: cardinalities.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= cardinalities[i]
        }
        return strides
    }

    /// The largest table this library will build (2³¹ entries, 16 GiB of Double).
    public static let maximumTableSize = 1 << 31

    /// `Π cardinalities`, checked for overflow and against ``maximumTableSize``.
    public static func tableSize(_ cardinalities: [Int], factor: Int) throws -> Int {
        var size = 1
        for c in cardinalities {
            let (p, overflow) = size.multipliedReportingOverflow(by: c)
            guard !overflow, p <= maximumTableSize else {
                throw FactorGraphError.tooLarge(
                    "factor \(factor): table over cardinalities \(cardinalities) exceeds \(maximumTableSize) entries")
            }
            size = p
        }
        return size
    }
}

import Foundation
import NumericalCore

/// An inference model `q(h | x)`: a distribution over `n` binary hidden units given a binary
/// input, the encoder of an ``AutoEncoder`` (spec §8.2).
///
/// The units are conditionally independent given `x`, `q(h | x) = Π_i p_i^{h_i} (1 − p_i)^{1−h_i}`,
/// and the kinds differ in how the means `p = σ(a(x))` depend on the input:
///
/// - ``Kind/factorized``: one logistic layer, `a = V x + d`. Its decision boundaries are
///   hyperplanes in `x`: the same family as the posterior means of a one-layer generative model.
/// - ``Kind/deep(units:)``: a hidden layer of its own between the input and the code,
///   `t = σ(V₁ x + e)`, `a = V₂ t + d` — the "richer inference model" of Arnold & Ollivier.
///   It can represent maps from `x` to codes that no hyperplane separates (XOR is the smallest),
///   which the tests show the factorised kind cannot.
///
/// Every quantity over `h` is exact by enumeration of the `2^n` states, indexed by `h` read as a
/// binary number with unit 0 the lowest bit.
public struct InferenceModel: Sendable {
    /// Factorised (`q(h | x) = Π_j q(h_j | x)`) or deep (a hidden layer of `units` between).
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case factorized
        case deep(units: Int)

        /// The kind as a word.
        public var description: String {
            switch self {
            case .factorized: return "factorised"
            case let .deep(m): return "deep (\(m) units)"
            }
        }
    }

    /// Factorised or deep.
    public let kind: Kind
    /// Visible units `x`.
    public let visible: Int
    /// Hidden units `h`.
    public let hidden: Int
    /// All parameters, flat. Factorised: `V [hidden, visible]`, then `d [hidden]`. Deep:
    /// `V₁ [units, visible]`, `e [units]`, `V₂ [hidden, units]`, `d [hidden]`.
    public var parameters: [Double]

    /// Weights drawn from `N(0, 0.5²)` with `rng`, biases zero.
    public init(kind: Kind, visible: Int, hidden: Int, rng: RandomSource) throws {
        guard visible >= 1, hidden >= 1 else {
            throw GenerativeNetworkError.invalidShape("an inference model needs at least one input and one hidden unit")
        }
        guard hidden <= 12 else {
            throw GenerativeNetworkError.invalidShape(
                "the hidden layer must have at most 12 units to enumerate, got \(hidden)")
        }
        self.kind = kind; self.visible = visible; self.hidden = hidden
        func draw(_ n: Int) -> [Double] { (0..<n).map { _ in rng.gaussian(standardDeviation: 0.5) } }
        switch kind {
        case .factorized:
            parameters = draw(hidden * visible) + [Double](repeating: 0, count: hidden)
        case let .deep(m):
            guard m >= 1 else {
                throw GenerativeNetworkError.invalidShape(
                    "a deep inference model needs at least one unit in its own layer, got \(m)")
            }
            parameters =
                draw(m * visible) + [Double](repeating: 0, count: m) + draw(hidden * m)
                + [Double](repeating: 0, count: hidden)
        }
    }

    /// The intermediate layer `t` of a deep model (empty for a factorised one) and the means `p`.
    func means(_ x: [Double]) -> (t: [Double], p: [Double]) {
        func logistic(_ input: [Double], weightsAt w: Int, biasAt b: Int, outputs: Int) -> [Double] {
            (0..<outputs).map { i in
                var a = parameters[b + i]
                let row = w + i * input.count
                for j in input.indices where input[j] != 0 { a += parameters[row + j] * input[j] }
                return 1 / (1 + exp(-a))
            }
        }
        switch kind {
        case .factorized:
            return ([], logistic(x, weightsAt: 0, biasAt: hidden * visible, outputs: hidden))
        case let .deep(m):
            let t = logistic(x, weightsAt: 0, biasAt: m * visible, outputs: m)
            let second = m * visible + m
            return (t, logistic(t, weightsAt: second, biasAt: second + hidden * m, outputs: hidden))
        }
    }

    /// `q(h | x)` for every hidden state.
    public func distribution(_ x: [Double]) -> [Double] {
        let p = means(x).p
        var q = [Double](repeating: 0, count: 1 << hidden)
        q[0] = 1
        // Unit i doubles the table: states with bit i set take p_i, the others 1 − p_i.
        for i in 0..<hidden {
            let half = 1 << i
            for s in 0..<half { q[s + half] = q[s] * p[i]; q[s] *= 1 - p[i] }
        }
        return q
    }

    /// Adds `Σ_h w(h) ∇_θ ln q(h | x)` to `gradient` (laid out like ``parameters``).
    ///
    /// `∂ ln q(h|x) / ∂a_i = h_i − p_i`, so the sum over states reduces to
    /// `g_i = Σ_h w(h) h_i − p_i Σ_h w(h)`, which is then carried back through the layers.
    public func accumulateScoreGradient(_ x: [Double], weights w: [Double], into gradient: inout [Double]) {
        let (t, p) = means(x)
        let total = w.reduce(0, +)
        var g = [Double](repeating: 0, count: hidden)
        for (s, ws) in w.enumerated() where ws != 0 {
            for i in 0..<hidden where (s >> i) & 1 == 1 { g[i] += ws }
        }
        for i in 0..<hidden { g[i] -= p[i] * total }
        func logisticBackward(_ input: [Double], _ ga: [Double], weightsAt wAt: Int, biasAt b: Int) {
            for i in ga.indices where ga[i] != 0 {
                gradient[b + i] += ga[i]
                let row = wAt + i * input.count
                for j in input.indices where input[j] != 0 { gradient[row + j] += ga[i] * input[j] }
            }
        }
        switch kind {
        case .factorized:
            logisticBackward(x, g, weightsAt: 0, biasAt: hidden * visible)
        case let .deep(m):
            let second = m * visible + m
            logisticBackward(t, g, weightsAt: second, biasAt: second + hidden * m)
            let gt = (0..<m).map { k -> Double in
                var s = 0.0
                for i in 0..<hidden { s += g[i] * parameters[second + i * m + k] }
                return s * t[k] * (1 - t[k])
            }
            logisticBackward(x, gt, weightsAt: 0, biasAt: m * visible)
        }
    }
}

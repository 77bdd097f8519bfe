import FactorGraph
import Foundation
import NumericalCore

/// A layered sigmoid belief network `X₀ → X₁ → … → X_L` with binary units (spec §8.1):
/// `p(x_k^i = 1 | x_{k−1}) = σ(⟨W_k^i, x_{k−1}⟩ + b_k^i)`, and its tied generator running the
/// other way, `q(x_{k−1}^j = 1 | x_k) = σ(⟨(W_k)_{:,j}, x_k⟩ + a_k^j)` — the transposed
/// weights, so that both directions are the conditionals of one pairwise joint
/// `exp(x_{k−1}ᵀ W_kᵀ x_k + aᵀx_{k−1} + bᵀx_k)`.
///
/// Recognition is the forward pass of a sigmoid network, `μ_k = σ(W_k μ_{k−1} + b_k)`: the
/// exact marginals `p(x_k^i = 1 | x₀) = E[σ(⟨W_k^i, x_{k−1}⟩ + b_k^i)]` with two
/// approximations — the layer below replaced by the product of its marginals (mean field) and
/// the expectation of the sigmoid by the sigmoid of the expectation (first order). For layer 1
/// both are exact, because `x₀` is observed.
public struct SigmoidBeliefNetwork: Sendable {
    /// Units per layer, `[n₀, n₁, …, n_L]` (`n₀` the input).
    public let sizes: [Int]
    /// `W_k` for k = 1…L, row-major `[n_k, n_{k−1}]`.
    public var weights: [[Double]]
    /// `b_k`: recognition biases, `[n_k]`.
    public var recognitionBias: [[Double]]
    /// `a_k`: generation biases of layer k−1 given layer k, `[n_{k−1}]`.
    public var generationBias: [[Double]]

    /// The number of layers above the visible one.
    public var depth: Int { sizes.count - 1 }

    /// A network with zero parameters.
    public init(sizes: [Int]) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 1 }) else {
            throw GenerativeNetworkError.invalidShape(
                "a network needs an input and at least one layer of positive sizes, got \(sizes)")
        }
        self.sizes = sizes
        weights = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0] * sizes[$0 - 1]) }
        recognitionBias = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0]) }
        generationBias = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0 - 1]) }
    }

    /// Gaussian weights with standard deviation `scale` and biases with `scale / 2`.
    public init(sizes: [Int], scale: Double, seed: UInt64) throws {
        try self.init(sizes: sizes)
        let rng = RandomSource(seed: seed)
        for k in 0..<depth {
            weights[k] = weights[k].map { _ in rng.gaussian(standardDeviation: scale) }
            recognitionBias[k] = recognitionBias[k].map { _ in rng.gaussian(standardDeviation: scale / 2) }
            generationBias[k] = generationBias[k].map { _ in rng.gaussian(standardDeviation: scale / 2) }
        }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    func check(_ x0: [Double]) throws {
        guard x0.count == sizes[0] else {
            throw GenerativeNetworkError.invalidInput("input has \(x0.count) units, the network \(sizes[0])")
        }
        guard x0.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw GenerativeNetworkError.invalidInput("the input must be binary (0 or 1)")
        }
    }

    /// `σ(W_k x + b_k)`, the recognition conditional of layer k (1-based) given the layer below.
    public func recognitionProbabilities(layer k: Int, given below: [Double]) -> [Double] {
        let (n, m) = (sizes[k], sizes[k - 1])
        return (0..<n).map { i in
            var s = recognitionBias[k - 1][i]
            for j in 0..<m { s += weights[k - 1][i * m + j] * below[j] }
            return Self.sigmoid(s)
        }
    }

    /// The recognition forward pass: `μ_k` for k = 1…L, the mean-field first-order
    /// approximation of `p(x_k^i = 1 | x₀)`.
    public func meanFieldMarginals(_ x0: [Double]) throws -> [[Double]] {
        try check(x0)
        var mu = x0
        return (1...depth).map { k in
            mu = recognitionProbabilities(layer: k, given: mu); return mu
        }
    }

    /// The exact `p(x_k^i = 1 | x₀)` by propagating the full distribution of each layer
    /// (`2^{n_k}` states) forward. Layers are limited to 16 units.
    public func exactMarginals(_ x0: [Double]) throws -> [[Double]] {
        try check(x0)
        guard let wide = sizes.dropFirst().first(where: { $0 > 16 }) else {
            var states: [(x: [Double], p: Double)] = [(x0, 1)]
            var result: [[Double]] = []
            for k in 1...depth {
                let n = sizes[k]
                var dist = [Double](repeating: 0, count: 1 << n)
                for (x, p) in states where p > 0 {
                    let q = recognitionProbabilities(layer: k, given: x)
                    for s in 0..<(1 << n) {
                        var ps = p
                        for i in 0..<n { ps *= (s >> i) & 1 == 1 ? q[i] : 1 - q[i] }
                        dist[s] += ps
                    }
                }
                states = (0..<(1 << n)).map { s in ((0..<n).map { Double((s >> $0) & 1) }, dist[s]) }
                result.append((0..<n).map { i in states.reduce(0) { $0 + $1.x[i] * $1.p } })
            }
            return result
        }
        throw GenerativeNetworkError.tooLarge(
            "a layer of \(wide) units has too many states to enumerate (limit 16 units)")
    }

    /// The recognition model given `x₀` as a factor graph: one binary variable per hidden unit
    /// and one conditional-probability factor per unit over its parents and itself (layer 1's
    /// parents are observed, so its factors are unary). Variables are numbered layer by layer.
    public func factorGraph(observing x0: [Double]) throws -> FactorGraph {
        try check(x0)
        var g = FactorGraph()
        var ids: [[VariableID]] = [[]]
        for k in 1...depth { ids.append((0..<sizes[k]).map { g.addCategorical(cardinality: 2, name: "x\(k)_\($0)") }) }
        let first = recognitionProbabilities(layer: 1, given: x0)
        for i in 0..<sizes[1] { _ = try g.addFactor(scope: [ids[1][i]], values: [1 - first[i], first[i]]) }
        for k in 2...max(2, depth) where k <= depth {
            let m = sizes[k - 1]
            guard m <= 20 else {
                throw GenerativeNetworkError.tooLarge(
                    "layer \(k - 1) has \(m) units: a factor over all of them is too large")
            }
            for i in 0..<sizes[k] {
                // Scope: the parents (first most significant), then the unit itself.
                var values = [Double](repeating: 0, count: 1 << (m + 1))
                for s in 0..<(1 << m) {
                    var a = recognitionBias[k - 1][i]
                    for j in 0..<m where (s >> (m - 1 - j)) & 1 == 1 { a += weights[k - 1][i * m + j] }
                    let p = Self.sigmoid(a)
                    values[2 * s] = 1 - p
                    values[2 * s + 1] = p
                }
                _ = try g.addFactor(scope: ids[k - 1] + [ids[k][i]], values: values)
            }
        }
        return g
    }

    /// Samples `x₀` by running the tied generator down from a top-layer state `x_L`.
    public func generate(fromTop top: [Double], rng: RandomSource) throws -> [[Double]] {
        guard top.count == sizes[depth] else {
            throw GenerativeNetworkError.invalidInput("top state has \(top.count) units, the top layer \(sizes[depth])")
        }
        var x = top
        var layers = [top]
        for k in stride(from: depth, through: 1, by: -1) {
            let (n, m) = (sizes[k], sizes[k - 1])
            x = (0..<m).map { j in
                var s = generationBias[k - 1][j]
                for i in 0..<n { s += weights[k - 1][i * m + j] * x[i] }
                return rng.uniform() < Self.sigmoid(s) ? 1 : 0
            }
            layers.insert(x, at: 0)
        }
        return layers
    }
}

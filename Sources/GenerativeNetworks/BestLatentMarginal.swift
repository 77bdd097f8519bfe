import Foundation

/// One generative layer `P(x | h)` with binary `x` and `h` (a sigmoid belief layer, top-down):
/// `P(x_j = 1 | h) = σ(⟨W_j, h⟩ + c_j)`.
public struct SigmoidLayer: Sendable {
    /// Visible units `x`.
    public let visible: Int
    /// Hidden units `h`.
    public let hidden: Int
    /// `[visible, hidden]`, row-major.
    public var weights: [Double]
    /// `c`, one bias per visible unit.
    public var bias: [Double]

    /// A layer from its weights `[visible, hidden]` and biases; throws if the sizes disagree.
    public init(visible: Int, hidden: Int, weights: [Double], bias: [Double]) throws {
        guard visible >= 1, hidden >= 1 else {
            throw GenerativeNetworkError.invalidShape("a layer needs at least one visible and one hidden unit")
        }
        guard weights.count == visible * hidden, bias.count == visible else {
            throw GenerativeNetworkError.invalidShape(
                "weights must be \(visible)×\(hidden) and bias \(visible), got \(weights.count) and \(bias.count)")
        }
        guard weights.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
            throw GenerativeNetworkError.invalidInput("non-finite parameter")
        }
        self.visible = visible; self.hidden = hidden; self.weights = weights; self.bias = bias
    }

    /// `ln P(x | h)`.
    public func logLikelihood(_ x: [Double], given h: [Double]) -> Double {
        var s = 0.0
        for j in 0..<visible {
            var a = bias[j]
            for i in 0..<hidden where h[i] != 0 { a += weights[j * hidden + i] * h[i] }
            // ln σ(a) = −softplus(−a), ln(1 − σ(a)) = −softplus(a), computed stably.
            let z = x[j] == 1 ? -a : a
            s -= z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
        }
        return s
    }
}

/// The best latent marginal (spec §8.2): for a fixed bottom layer `P(x | h)`, the upper bound
///
/// `U_D = max_Q E_{x∼D} ln Σ_h P(x | h) Q(h)`
///
/// on the log-likelihood of any model with this bottom layer, whatever the upper layers. The
/// objective is concave in `Q`, and its maximiser — the BLM — is the fixed point of EM on the
/// mixture weights, `Q(h) ← E_D[P(h | x; Q)]` (the aggregated posterior); each iteration
/// raises the objective. Exact by enumeration of the `2^{n_h}` hidden states.
public enum BestLatentMarginal {
    /// The bound and the marginal that attains it.
    public struct Result: Sendable {
        /// `U_D` in nats per example.
        public var bound: Double
        /// The maximising `Q(h)`, indexed by `h` as a binary number (unit 0 the lowest bit).
        public var marginal: [Double]
        /// The objective after every EM iteration.
        public var trace: [Double]
        /// `max_h E_D[P(x | h) / P_Q(x)]`: 1 at the optimum (the KKT condition of the concave
        /// problem; every `h` with `Q(h) > 0` attains it).
        public var optimalityGap: Double
    }

    static func check(_ layer: SigmoidLayer, _ data: [[Double]]) throws {
        guard !data.isEmpty else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        guard layer.hidden <= 20 else {
            throw GenerativeNetworkError.tooLarge("\(layer.hidden) hidden units: 2^\(layer.hidden) states")
        }
        for (n, x) in data.enumerated() {
            guard x.count == layer.visible else {
                throw GenerativeNetworkError.invalidInput(
                    "example \(n) has \(x.count) units, the layer \(layer.visible)")
            }
            guard x.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw GenerativeNetworkError.invalidInput("example \(n) is not binary")
            }
        }
    }

    /// `ln P(x_n | h)` for every example and hidden state, `[N][2^{n_h}]`. The per-state
    /// log-probabilities `ln σ(a_hj)` and `ln(1 − σ(a_hj))` are computed once per state, so each
    /// entry is a dot product over the visible units.
    public static func conditionalLogLikelihoods(_ layer: SigmoidLayer, _ data: [[Double]]) throws -> [[Double]] {
        try check(layer, data)
        let (v, k) = (layer.visible, 1 << layer.hidden)
        var on = [Double](repeating: 0, count: k * v), off = on, offSum = [Double](repeating: 0, count: k)
        for s in 0..<k {
            for j in 0..<v {
                var a = layer.bias[j]
                for i in 0..<layer.hidden where (s >> i) & 1 == 1 { a += layer.weights[j * layer.hidden + i] }
                // ln σ(a) = −softplus(−a), ln(1 − σ(a)) = −softplus(a).
                on[s * v + j] = a < 0 ? a - log1p(exp(a)) : -log1p(exp(-a))
                off[s * v + j] = a > 0 ? -a - log1p(exp(-a)) : -log1p(exp(a))
                offSum[s] += off[s * v + j]
            }
        }
        return data.map { x in
            (0..<k).map { s in
                var t = offSum[s]
                for j in 0..<v where x[j] != 0 { t += on[s * v + j] - off[s * v + j] }
                return t
            }
        }
    }

    /// `E_D ln Σ_h P(x | h) Q(h)` for a given `Q`.
    public static func objective(_ logP: [[Double]], _ q: [Double]) -> Double {
        let logQ = q.map { $0 > 0 ? log($0) : -Double.infinity }
        return logP.reduce(0) { acc, row in
            let terms = zip(row, logQ).map { $0 + $1 }
            let m = terms.max() ?? -Double.infinity
            return acc + m + log(terms.reduce(0) { $0 + exp($1 - m) })
        } / Double(logP.count)
    }

    /// `U_D` and the BLM by EM on `Q`, from the uniform marginal.
    public static func bound(_ layer: SigmoidLayer, data: [[Double]], iterations: Int = 500, tolerance: Double = 1e-10)
        throws -> Result
    {
        let logP = try conditionalLogLikelihoods(layer, data)
        let k = 1 << layer.hidden
        var q = [Double](repeating: 1 / Double(k), count: k)
        var trace = [objective(logP, q)]
        for _ in 0..<iterations {
            var next = [Double](repeating: 0, count: k)
            for row in logP {
                let terms = (0..<k).map { row[$0] + (q[$0] > 0 ? log(q[$0]) : -Double.infinity) }
                let m = terms.max() ?? 0
                let z = terms.reduce(0) { $0 + exp($1 - m) }
                for h in 0..<k { next[h] += exp(terms[h] - m) / z }
            }
            q = next.map { $0 / Double(logP.count) }
            trace.append(objective(logP, q))
            if trace[trace.count - 1] - trace[trace.count - 2] < tolerance { break }
        }
        // KKT: g(h) = E_D[P(x|h)/P_Q(x)] ≤ 1 with equality on the support of Q.
        var g = [Double](repeating: 0, count: k)
        let logQ = q.map { $0 > 0 ? log($0) : -Double.infinity }
        for row in logP {
            let terms = zip(row, logQ).map { $0 + $1 }
            let m = terms.max() ?? 0
            let logPx = m + log(terms.reduce(0) { $0 + exp($1 - m) })
            for h in 0..<k { g[h] += exp(row[h] - logPx) }
        }
        return Result(
            bound: trace.last ?? 0, marginal: q, trace: trace,
            optimalityGap: (g.max() ?? 1) / Double(logP.count))
    }
}

import Foundation
import NumericalCore

/// A binary restricted Boltzmann machine, `p(x, h) ∝ exp(xᵀWh + bᵀx + cᵀh)`: the baseline of
/// layer-wise training (spec §8.2), trained by contrastive divergence, with the exact
/// log-likelihood when the hidden layer is small enough to enumerate.
public struct RestrictedBoltzmannMachine: Sendable {
    /// Visible units `x`.
    public let visible: Int
    /// Hidden units `h`.
    public let hidden: Int
    /// `[visible, hidden]`, row-major.
    public var weights: [Double]
    /// `b`, one bias per visible unit.
    public var visibleBias: [Double]
    /// `c`, one bias per hidden unit.
    public var hiddenBias: [Double]

    /// An RBM with weights `N(0, scale²)` drawn with `seed` and zero biases.
    public init(visible: Int, hidden: Int, seed: UInt64, scale: Double = 0.01) throws {
        guard visible >= 1, hidden >= 1 else {
            throw GenerativeNetworkError.invalidShape("an RBM needs at least one visible and one hidden unit")
        }
        let rng = RandomSource(seed: seed)
        self.visible = visible
        self.hidden = hidden
        weights = (0..<(visible * hidden)).map { _ in rng.gaussian(standardDeviation: scale) }
        visibleBias = [Double](repeating: 0, count: visible)
        hiddenBias = [Double](repeating: 0, count: hidden)
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    static func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

    /// `p(h_i = 1 | x)`.
    public func hiddenProbabilities(_ x: [Double]) -> [Double] {
        (0..<hidden).map { i in
            var a = hiddenBias[i]
            for j in 0..<visible where x[j] != 0 { a += weights[j * hidden + i] * x[j] }
            return Self.sigmoid(a)
        }
    }

    /// `p(x_j = 1 | h)`.
    public func visibleProbabilities(_ h: [Double]) -> [Double] {
        (0..<visible).map { j in
            var a = visibleBias[j]
            for i in 0..<hidden where h[i] != 0 { a += weights[j * hidden + i] * h[i] }
            return Self.sigmoid(a)
        }
    }

    /// `−F(x) = bᵀx + Σ_i softplus(c_i + (Wᵀx)_i)`, the unnormalised log marginal of `x`.
    public func negativeFreeEnergy(_ x: [Double]) -> Double {
        var s = 0.0
        for j in 0..<visible { s += visibleBias[j] * x[j] }
        for i in 0..<hidden {
            var a = hiddenBias[i]
            for j in 0..<visible where x[j] != 0 { a += weights[j * hidden + i] * x[j] }
            s += Self.softplus(a)
        }
        return s
    }

    /// `ln Z`, exactly, by summing the visible units out analytically over every hidden state
    /// (hidden layers up to 20 units).
    public func logPartition() throws -> Double {
        guard hidden <= 20 else {
            throw GenerativeNetworkError.tooLarge("\(hidden) hidden units: 2^\(hidden) states to enumerate")
        }
        var terms: [Double] = []
        terms.reserveCapacity(1 << hidden)
        for s in 0..<(1 << hidden) {
            var t = 0.0
            for i in 0..<hidden where (s >> i) & 1 == 1 { t += hiddenBias[i] }
            for j in 0..<visible {
                var a = visibleBias[j]
                for i in 0..<hidden where (s >> i) & 1 == 1 { a += weights[j * hidden + i] }
                t += Self.softplus(a)
            }
            terms.append(t)
        }
        let m = terms.max() ?? 0
        return m + log(terms.reduce(0) { $0 + exp($1 - m) })
    }

    /// The exact mean log-likelihood of `data`, in nats per example.
    public func logLikelihood(_ data: [[Double]]) throws -> Double {
        try check(data)
        let z = try logPartition()
        return data.reduce(0) { $0 + negativeFreeEnergy($1) } / Double(data.count) - z
    }

    func check(_ data: [[Double]]) throws {
        guard !data.isEmpty else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        for (n, x) in data.enumerated() {
            guard x.count == visible else {
                throw GenerativeNetworkError.invalidInput("example \(n) has \(x.count) units, the RBM \(visible)")
            }
            guard x.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw GenerativeNetworkError.invalidInput("example \(n) has values outside [0, 1]")
            }
        }
    }

    /// One epoch of CD-k over mini-batches (probabilities for the statistics, samples for the
    /// chain), learning rate `rate`. Data may be probabilities in [0, 1] (as when an upper
    /// layer is trained on the hidden probabilities of the one below).
    public mutating func contrastiveDivergenceEpoch(
        _ data: [[Double]], rate: Double, steps k: Int = 1, batchSize: Int = 20, rng: RandomSource
    ) throws {
        try check(data)
        guard rate > 0, k >= 1, batchSize >= 1 else {
            throw GenerativeNetworkError.invalidInput("CD needs a positive rate, k ≥ 1 and batch ≥ 1")
        }
        var order = Array(data.indices)
        rng.shuffle(&order)
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let batch = order[start..<min(order.count, start + batchSize)]
            var dW = [Double](repeating: 0, count: visible * hidden), db = [Double](repeating: 0, count: visible),
                dc = [Double](repeating: 0, count: hidden)
            for n in batch {
                let x0 = data[n]
                let h0 = hiddenProbabilities(x0)
                var h = h0.map { rng.uniform() < $0 ? 1.0 : 0.0 }
                var x = x0, hk = h0
                for step in 0..<k {
                    x = visibleProbabilities(h).map { rng.uniform() < $0 ? 1.0 : 0.0 }
                    hk = hiddenProbabilities(x)
                    if step < k - 1 { h = hk.map { rng.uniform() < $0 ? 1.0 : 0.0 } }
                }
                for j in 0..<visible {
                    for i in 0..<hidden { dW[j * hidden + i] += x0[j] * h0[i] - x[j] * hk[i] }
                    db[j] += x0[j] - x[j]
                }
                for i in 0..<hidden { dc[i] += h0[i] - hk[i] }
            }
            let s = rate / Double(batch.count)
            for q in weights.indices { weights[q] += s * dW[q] }
            for j in 0..<visible { visibleBias[j] += s * db[j] }
            for i in 0..<hidden { hiddenBias[i] += s * dc[i] }
        }
    }
}

import Foundation
import NumericalCore

/// A recognition network and a generator with tied weights, learned together (spec §8.1,
/// Flach et al.): layers `x₀ → x₁ → … → x_L` of binary units, recognition
/// `p(x_k = 1 | x_{k−1}) = σ(W_k x_{k−1} + b_k)` and generation
/// `q(x_{k−1} = 1 | x_k) = σ(W_kᵀ x_k + a_k)`.
///
/// Each direction is evaluated by its own mean-field first-order pass (the forward pass of a
/// sigmoid network): `μ_k = σ(W_k μ_{k−1} + b_k)` up from the image, `ν_{k−1} = σ(W_kᵀ ν_k + a_k)`
/// down from the label. The objective is our choice where the source is not explicit: the
/// symmetric criterion `Σ_n [ln p(y_n | x_n) + ln q(x_n | y_n)]`, each conditional a product of
/// Bernoullis under its pass (the label as a one-hot top layer), minimised in its negative
/// form per example. `discriminative` keeps only the first term.
public struct CoupledSigmoidNetwork: Sendable {
    /// The symmetric criterion (both conditionals) or its discriminative half.
    public enum Objective: String, Sendable, CaseIterable, Codable { case symmetric, discriminative }

    /// `[n_0, …, n_L]`: the layer sizes from the input up.
    public let sizes: [Int]
    /// `W_k`, `[n_k, n_{k−1}]`.
    public var weights: [Matrix]
    /// `b_k`, the recognition biases of layer k.
    public var recognitionBias: [[Double]]
    /// `a_k`, the generation biases of layer k−1 given layer k.
    public var generationBias: [[Double]]

    /// A network with small random weights drawn with `seed` and zero biases.
    public init(sizes: [Int], seed: UInt64) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 1 }) else {
            throw GenerativeNetworkError.invalidShape(
                "a network needs an input and at least one layer of positive sizes, got \(sizes)")
        }
        let rng = RandomSource(seed: seed)
        self.sizes = sizes
        weights = try (1..<sizes.count).map { k in
            let limit = (6.0 / Double(sizes[k] + sizes[k - 1])).squareRoot()
            return try Matrix(
                rows: sizes[k], columns: sizes[k - 1],
                elements: (0..<(sizes[k] * sizes[k - 1])).map { _ in rng.uniform(-limit, limit) })
        }
        recognitionBias = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0]) }
        generationBias = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0 - 1]) }
    }

    static func sigmoid(_ m: inout Matrix) {
        for i in m.elements.indices { m.elements[i] = 1 / (1 + exp(-m.elements[i])) }
    }

    /// Bernoulli negative log-likelihood `−Σ [t ln p + (1 − t) ln(1 − p)]`, with `p` clamped away
    /// from 0 and 1.
    static func bernoulliNLL(_ p: Matrix, _ t: Matrix) -> Double {
        var s = 0.0
        for i in p.elements.indices {
            let q = min(max(p.elements[i], 1e-12), 1 - 1e-12)
            s -= t.elements[i] * log(q) + (1 - t.elements[i]) * log(1 - q)
        }
        return s
    }

    /// The recognition pass: `μ_1 … μ_L` for a batch `[N, n₀]`.
    public func recognize(_ x: Matrix) throws -> [Matrix] {
        var out: [Matrix] = []
        var h = x
        for k in 0..<weights.count {
            var a = Matrix(rows: h.rows, columns: sizes[k + 1])
            try Matrix.multiply(h, weights[k], transposeB: true, into: &a)
            for r in 0..<a.rows { for c in 0..<a.columns { a.elements[r * a.columns + c] += recognitionBias[k][c] } }
            Self.sigmoid(&a)
            out.append(a)
            h = a
        }
        return out
    }

    /// `q(x_k = 1 | x_{k+1}) = σ(W_{k+1}ᵀ x_{k+1} + a_{k+1})` for a batch of the layer above (`k` is
    /// the index of the layer below, 0 for the image).
    func generationProbabilities(below k: Int, given above: Matrix) throws -> Matrix {
        var g = Matrix(rows: above.rows, columns: sizes[k])
        try Matrix.multiply(above, weights[k], into: &g)
        for r in 0..<g.rows { for c in 0..<g.columns { g.elements[r * g.columns + c] += generationBias[k][c] } }
        Self.sigmoid(&g)
        return g
    }

    /// The generation pass from a top-layer batch `[N, n_L]`: `ν_{L−1} … ν_0`, returned bottom first.
    public func generate(_ top: Matrix) throws -> [Matrix] {
        var out: [Matrix] = []
        var v = top
        for k in stride(from: weights.count - 1, through: 0, by: -1) {
            v = try generationProbabilities(below: k, given: v)
            out.insert(v, at: 0)
        }
        return out
    }

    /// Ancestral samples of the generator: from a top-layer batch `[N, n_L]` (one-hot labels),
    /// each layer below is drawn unit by unit from `q(x_{k−1} = 1 | x_k) = σ(W_kᵀ x_k + a_k)`.
    /// Returns the binary images and, for display, their pixel means given the sampled layer
    /// above (`q(x₀ = 1 | x₁)`).
    public func sample(_ top: Matrix, rng: RandomSource) throws -> (images: Matrix, means: Matrix) {
        guard top.columns == sizes[sizes.count - 1] else {
            throw GenerativeNetworkError.invalidShape(
                "the top layer has \(sizes[sizes.count - 1]) units, the batch \(top.columns)")
        }
        var v = top
        var means = top
        for k in stride(from: weights.count - 1, through: 0, by: -1) {
            var g = try generationProbabilities(below: k, given: v)
            means = g
            for i in g.elements.indices { g.elements[i] = rng.uniform() < g.elements[i] ? 1 : 0 }
            v = g
        }
        return (v, means)
    }

    /// The objective per example and its gradient (same shapes as the parameters).
    public func lossAndGradient(images x: Matrix, targets y: Matrix, objective: Objective)
        throws -> (recognition: Double, generation: Double, dW: [Matrix], db: [[Double]], da: [[Double]])
    {
        let n = Double(x.rows), L = weights.count
        var dW = weights.map { Matrix(rows: $0.rows, columns: $0.columns) }
        var db = recognitionBias.map { [Double](repeating: 0, count: $0.count) }
        var da = generationBias.map { [Double](repeating: 0, count: $0.count) }
        // Recognition: −ln p(y | x) under the forward pass.
        let mu = try recognize(x)
        let rec = Self.bernoulliNLL(mu[L - 1], y) / n
        var dA = Matrix(rows: x.rows, columns: sizes[L])
        for i in dA.elements.indices { dA.elements[i] = (mu[L - 1].elements[i] - y.elements[i]) / n }
        for k in stride(from: L - 1, through: 0, by: -1) {
            let below = k == 0 ? x : mu[k - 1]
            var g = Matrix(rows: dA.columns, columns: below.columns)
            try Matrix.multiply(dA, below, transposeA: true, into: &g)
            for i in g.elements.indices { dW[k].elements[i] += g.elements[i] }
            for r in 0..<dA.rows { for c in 0..<dA.columns { db[k][c] += dA.elements[r * dA.columns + c] } }
            guard k > 0 else { break }
            var dM = Matrix(rows: dA.rows, columns: sizes[k])
            try Matrix.multiply(dA, weights[k], into: &dM)
            for i in dM.elements.indices { let m = mu[k - 1].elements[i]; dM.elements[i] *= m * (1 - m) }
            dA = dM
        }
        guard objective == .symmetric else { return (rec, 0, dW, db, da) }
        // Generation: −ln q(x | y) under the backward pass.
        let nu = try generate(y)
        let gen = Self.bernoulliNLL(nu[0], x) / n
        var dG = Matrix(rows: x.rows, columns: sizes[0])
        for i in dG.elements.indices { dG.elements[i] = (nu[0].elements[i] - x.elements[i]) / n }
        for k in 0..<L {
            let above = k == L - 1 ? y : nu[k + 1]
            var g = Matrix(rows: above.columns, columns: dG.columns)
            try Matrix.multiply(above, dG, transposeA: true, into: &g)
            for i in g.elements.indices { dW[k].elements[i] += g.elements[i] }
            for r in 0..<dG.rows { for c in 0..<dG.columns { da[k][c] += dG.elements[r * dG.columns + c] } }
            guard k < L - 1 else { break }
            var dV = Matrix(rows: dG.rows, columns: sizes[k + 1])
            try Matrix.multiply(dG, weights[k], transposeB: true, into: &dV)
            for i in dV.elements.indices { let v = nu[k + 1].elements[i]; dV.elements[i] *= v * (1 - v) }
            dG = dV
        }
        return (rec, gen, dW, db, da)
    }

    /// Flat views for the optimiser.
    public var parameterVector: [Double] {
        weights.flatMap(\.elements) + recognitionBias.flatMap { $0 } + generationBias.flatMap { $0 }
    }

    /// Sets every parameter from a vector laid out as ``parameterVector``.
    public mutating func setParameters(_ p: [Double]) {
        var at = 0
        for k in weights.indices { for i in weights[k].elements.indices { weights[k].elements[i] = p[at]; at += 1 } }
        for k in recognitionBias.indices {
            for i in recognitionBias[k].indices { recognitionBias[k][i] = p[at]; at += 1 }
        }
        for k in generationBias.indices { for i in generationBias[k].indices { generationBias[k][i] = p[at]; at += 1 } }
    }

    /// Trains by Adam on mini-batches; `labels` are class indices (one-hot top layer).
    public mutating func train(
        images: [[Double]], labels: [Int], objective: Objective, epochs: Int, batchSize: Int = 100,
        rate: Double = 1e-3, seed: UInt64
    ) throws {
        guard images.count == labels.count, !images.isEmpty else {
            throw GenerativeNetworkError.invalidInput("\(images.count) images, \(labels.count) labels")
        }
        guard rate > 0, rate.isFinite else {
            throw GenerativeNetworkError.invalidInput("the learning rate must be a positive number, got \(rate)")
        }
        guard epochs >= 0, batchSize >= 1 else {
            throw GenerativeNetworkError.invalidInput(
                "epochs (\(epochs)) must be ≥ 0 and the batch size (\(batchSize)) ≥ 1")
        }
        guard images.allSatisfy({ $0.count == sizes[0] && $0.allSatisfy { $0 == 0 || $0 == 1 } }) else {
            throw GenerativeNetworkError.invalidInput("images must be binary vectors of \(sizes[0]) units")
        }
        guard labels.allSatisfy({ $0 >= 0 && $0 < sizes[sizes.count - 1] }) else {
            throw GenerativeNetworkError.invalidInput("a label is outside the top layer")
        }
        let rng = RandomSource(seed: seed)
        var p = parameterVector
        var m = [Double](repeating: 0, count: p.count), v = m
        var step = 0
        for _ in 0..<epochs {
            var order = Array(images.indices)
            rng.shuffle(&order)
            for s in stride(from: 0, to: order.count, by: batchSize) {
                let batch = Array(order[s..<min(order.count, s + batchSize)])
                let x = try Matrix(rows: batch.count, columns: sizes[0], elements: batch.flatMap { images[$0] })
                let y = try Self.oneHot(batch.map { labels[$0] }, classes: sizes[sizes.count - 1])
                let g = try lossAndGradient(images: x, targets: y, objective: objective)
                let flat = g.dW.flatMap(\.elements) + g.db.flatMap { $0 } + g.da.flatMap { $0 }
                step += 1
                let (b1, b2) = (0.9, 0.999)
                let c = rate * (1 - pow(b2, Double(step))).squareRoot() / (1 - pow(b1, Double(step)))
                for i in p.indices {
                    m[i] = b1 * m[i] + (1 - b1) * flat[i]
                    v[i] = b2 * v[i] + (1 - b2) * flat[i] * flat[i]
                    p[i] -= c * m[i] / (v[i].squareRoot() + 1e-8)
                }
                setParameters(p)
            }
        }
    }

    /// Labels as one-hot rows `[N, classes]`; throws on a label outside `0..<classes`.
    public static func oneHot(_ labels: [Int], classes: Int) throws -> Matrix {
        var y = Matrix(rows: labels.count, columns: classes)
        for (r, c) in labels.enumerated() { y.elements[r * classes + c] = 1 }
        return y
    }
}

import Foundation
import NumericalCore

/// An auto-encoder read as a generative model (spec §8.2): a factorised encoder
/// `q(h | x) = Π_i σ(⟨V_i, x⟩ + d_i)^{h_i} (1 − σ(·))^{1−h_i}` — an inference model of its own,
/// richer than the decoder's — and a decoder `P(x | h)` (a ``SigmoidLayer``).
///
/// Its criteria bound the best latent marginal from below. With `Q_D(h) = E_D q(h | x)`, which
/// is at least `P_D(x) q(h | x)` for each training `x`, and Jensen's inequality:
///
/// `U_D ≥ E_D ln Σ_h P(x|h) q(h|x) − H(D) ≥ E_D E_{q(h|x)} ln P(x|h) − H(D)`,
///
/// where `H(D)` is the entropy of the empirical data distribution. So training an auto-encoder
/// on its reconstruction log-likelihood maximises a lower bound of the BLM criterion.
public struct AutoEncoder: Sendable {
    public var decoder: SigmoidLayer
    /// `V`, `[hidden, visible]`.
    public var encoderWeights: [Double]
    public var encoderBias: [Double]

    public init(visible: Int, hidden: Int, seed: UInt64) throws {
        guard hidden <= 12 else { throw GenerativeNetworkError.invalidShape("the hidden layer must have at most 12 units to enumerate, got \(hidden)") }
        let rng = RandomSource(seed: seed)
        decoder = try SigmoidLayer(visible: visible, hidden: hidden, weights: (0..<(visible * hidden)).map { _ in rng.gaussian(standardDeviation: 0.5) },
                                   bias: [Double](repeating: 0, count: visible))
        encoderWeights = (0..<(visible * hidden)).map { _ in rng.gaussian(standardDeviation: 0.5) }
        encoderBias = [Double](repeating: 0, count: hidden)
    }

    /// `q(h | x)` for every hidden state.
    public func encode(_ x: [Double]) -> [Double] {
        let (v, n) = (decoder.visible, decoder.hidden)
        let p = (0..<n).map { i -> Double in
            var a = encoderBias[i]
            for j in 0..<v where x[j] != 0 { a += encoderWeights[i * v + j] }
            return 1 / (1 + exp(-a))
        }
        var q = [Double](repeating: 1, count: 1 << n)
        for s in 0..<(1 << n) {
            for i in 0..<n { q[s] *= (s >> i) & 1 == 1 ? p[i] : 1 - p[i] }
        }
        return q
    }

    /// `E_D E_{q(h|x)} ln P(x | h)`: the reconstruction log-likelihood.
    public func reconstructionCriterion(_ data: [[Double]]) throws -> Double {
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
        return zip(data, logP).reduce(0) { acc, pair in
            acc + zip(encode(pair.0), pair.1).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * $1.1 : 0) }
        } / Double(data.count)
    }

    /// `E_D ln Σ_h P(x | h) q(h | x)`.
    public func mixtureCriterion(_ data: [[Double]]) throws -> Double {
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
        return zip(data, logP).reduce(0) { acc, pair in
            let t = zip(encode(pair.0), pair.1).map { $0.0 > 0 ? log($0.0) + $0.1 : -Double.infinity }
            let m = t.max() ?? 0
            return acc + m + log(t.reduce(0) { $0 + exp($1 - m) })
        } / Double(data.count)
    }

    /// `Q_D(h) = E_D q(h | x)`, the aggregate of the encoder: the data the next layer models.
    public func aggregatePosterior(_ data: [[Double]]) -> [Double] {
        var q = [Double](repeating: 0, count: 1 << decoder.hidden)
        for x in data { for (h, p) in encode(x).enumerated() { q[h] += p / Double(data.count) } }
        return q
    }

    /// Gradient ascent on the reconstruction criterion, exact by enumeration of `h`.
    public mutating func train(_ data: [[Double]], epochs: Int, rate: Double) throws {
        let (v, n) = (decoder.visible, decoder.hidden), k = 1 << n
        let states = (0..<k).map { s in (0..<n).map { Double((s >> $0) & 1) } }
        for _ in 0..<epochs {
            let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
            var gW = [Double](repeating: 0, count: v * n), gc = [Double](repeating: 0, count: v)
            var gV = [Double](repeating: 0, count: n * v), gd = [Double](repeating: 0, count: n)
            var mass = [Double](repeating: 0, count: k), weighted = [[Double]](repeating: [Double](repeating: 0, count: v), count: k)
            for (idx, x) in data.enumerated() {
                let q = encode(x)
                var pi = [Double](repeating: 0, count: n)
                for (s, h) in states.enumerated() { for i in 0..<n { pi[i] += q[s] * h[i] } }
                // Encoder: ∂/∂e_i Σ_h q(h|x) ln P(x|h) = Σ_h q(h|x)(h_i − π_i) ln P(x|h).
                for i in 0..<n {
                    var g = 0.0
                    for (s, h) in states.enumerated() where q[s] > 0 { g += q[s] * (h[i] - pi[i]) * logP[idx][s] }
                    gd[i] += g
                    for j in 0..<v where x[j] != 0 { gV[i * v + j] += g }
                }
                for s in 0..<k where q[s] > 0 {
                    mass[s] += q[s]
                    for j in 0..<v where x[j] != 0 { weighted[s][j] += q[s] }
                }
            }
            // Decoder: Σ_n Σ_h q(h|x_n)(x_n − σ(a_h)) hᵀ, with σ(a_h) depending on h only.
            for (s, h) in states.enumerated() where mass[s] > 0 {
                for j in 0..<v {
                    var a = decoder.bias[j]
                    for i in 0..<n where h[i] != 0 { a += decoder.weights[j * n + i] }
                    let d = weighted[s][j] - mass[s] / (1 + exp(-a))
                    gc[j] += d
                    for i in 0..<n where h[i] != 0 { gW[j * n + i] += d }
                }
            }
            let scale = rate / Double(data.count)
            for q in decoder.weights.indices { decoder.weights[q] += scale * gW[q] }
            for j in 0..<v { decoder.bias[j] += scale * gc[j] }
            for q in encoderWeights.indices { encoderWeights[q] += scale * gV[q] }
            for i in 0..<n { encoderBias[i] += scale * gd[i] }
        }
    }
}

extension BestLatentMarginal {
    /// `H(D)`, the entropy of the empirical distribution of `data` (nats).
    public static func dataEntropy(_ data: [[Double]]) -> Double {
        var counts: [[Double]: Int] = [:]
        for x in data { counts[x, default: 0] += 1 }
        let n = Double(data.count)
        return counts.values.reduce(0) { $0 - Double($1) / n * log(Double($1) / n) }
    }
}

extension LayerwiseTraining {
    /// Layer-wise training with an auto-encoder as the bottom layer: train it on its
    /// reconstruction criterion (a lower bound of the BLM criterion), then fit the top RBM to
    /// the encoder's aggregate `Q_D`.
    public static func autoEncoder(_ data: [[Double]], hidden: Int, topHidden: Int, epochs: Int, rate: Double,
                                   topIterations: Int, topRate: Double, seed: UInt64) throws -> (model: TwoLevelModel, autoEncoder: AutoEncoder) {
        guard let v = data.first?.count else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        var ae = try AutoEncoder(visible: v, hidden: hidden, seed: seed)
        try ae.train(data, epochs: epochs, rate: rate)
        let top = try fitRBM(to: ae.aggregatePosterior(data), units: hidden, hidden: topHidden, iterations: topIterations, rate: topRate, seed: seed &+ 1)
        return (try TwoLevelModel(bottom: ae.decoder, top: top), ae)
    }
}

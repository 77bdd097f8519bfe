import Foundation
import NumericalCore

/// An auto-encoder read as a generative model (spec §8.2): an encoder `q(h | x)` (an
/// ``InferenceModel``, factorised or deep) and a decoder `P(x | h)` (a ``SigmoidLayer``).
///
/// Its criteria bound the best latent marginal from below. With `Q_D(h) = E_D q(h | x)`, which
/// is at least `P_D(x) q(h | x)` for each training `x`, and Jensen's inequality:
///
/// `U_D ≥ E_D ln Σ_h P(x|h) q(h|x) − H(D) ≥ E_D E_{q(h|x)} ln P(x|h) − H(D)`,
///
/// where `H(D)` is the entropy of the empirical data distribution. So training an auto-encoder
/// on either criterion maximises a lower bound of the BLM criterion. The encoder is the
/// inference model that forms the next layer's data `Q_D`; a deep one is the "inference model
/// richer than the generative model" that Arnold & Ollivier recommend.
public struct AutoEncoder: Sendable {
    /// What training maximises.
    public enum Criterion: String, Sendable, CaseIterable {
        /// `E_D E_{q(h|x)} ln P(x | h)`, the expected reconstruction log-likelihood.
        case reconstruction
        /// `E_D ln Σ_h P(x | h) q(h | x)`, the tighter of the two bounds.
        case mixture
    }

    /// How parameters move along the gradient of the mean criterion.
    public enum Step: Sendable {
        case gradient(rate: Double)
        case adam(rate: Double)
    }

    /// The generative layer `P(x | h)`.
    public var decoder: SigmoidLayer
    /// The inference model `q(h | x)`.
    public var encoder: InferenceModel

    /// Decoder weights from `N(0, 0.5²)`, then the encoder's (see ``InferenceModel``), biases zero.
    public init(visible: Int, hidden: Int, inference: InferenceModel.Kind = .factorized, seed: UInt64) throws {
        guard hidden <= 12 else {
            throw GenerativeNetworkError.invalidShape(
                "the hidden layer must have at most 12 units to enumerate, got \(hidden)")
        }
        let rng = RandomSource(seed: seed)
        decoder = try SigmoidLayer(
            visible: visible, hidden: hidden,
            weights: (0..<(visible * hidden)).map { _ in rng.gaussian(standardDeviation: 0.5) },
            bias: [Double](repeating: 0, count: visible))
        encoder = try InferenceModel(kind: inference, visible: visible, hidden: hidden, rng: rng)
    }

    /// `q(h | x)` for every hidden state.
    public func encode(_ x: [Double]) -> [Double] { encoder.distribution(x) }

    /// `E_D E_{q(h|x)} ln P(x | h)`: the reconstruction log-likelihood.
    public func reconstructionCriterion(_ data: [[Double]]) throws -> Double {
        try criterion(.reconstruction, data)
    }

    /// `E_D ln Σ_h P(x | h) q(h | x)`.
    public func mixtureCriterion(_ data: [[Double]]) throws -> Double {
        try criterion(.mixture, data)
    }

    /// The mean of `criterion` over `data`, nats per example.
    public func criterion(_ criterion: Criterion, _ data: [[Double]]) throws -> Double {
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
        return zip(data, logP).reduce(0) { acc, pair in
            acc + Self.terms(criterion, q: encode(pair.0), logP: pair.1).value
        } / Double(data.count)
    }

    /// One example's criterion, and the weights `w(h)` with which its gradient is
    /// `Σ_h w(h) ∇ ln q(h|x)` in the encoder and `Σ_h r(h) ∇ ln P(x|h)` in the decoder.
    /// Reconstruction: `r = q`, `w = q (ln P − L̄)` (the mean `L̄` subtracted, as `Σ_h q ∇ ln q = 0`).
    /// Mixture: `r = w =` the posterior `∝ P(x|h) q(h|x)`.
    static func terms(_ criterion: Criterion, q: [Double], logP: [Double]) -> (
        value: Double, encoder: [Double], decoder: [Double]
    ) {
        switch criterion {
        case .reconstruction:
            var mean = 0.0
            for (qs, l) in zip(q, logP) where qs > 0 { mean += qs * l }
            return (mean, zip(q, logP).map { $0.0 > 0 ? $0.0 * ($0.1 - mean) : 0 }, q)
        case .mixture:
            let t = zip(q, logP).map { $0.0 > 0 ? log($0.0) + $0.1 : -Double.infinity }
            let m = t.max() ?? 0
            let e = t.map { exp($0 - m) }
            let z = e.reduce(0, +)
            let r = e.map { $0 / z }
            return (m + log(z), r, r)
        }
    }

    /// `Q_D(h) = E_D q(h | x)`, the aggregate of the encoder: the data the next layer models.
    public func aggregatePosterior(_ data: [[Double]]) -> [Double] {
        var q = [Double](repeating: 0, count: 1 << decoder.hidden)
        for x in data { for (h, p) in encode(x).enumerated() { q[h] += p / Double(data.count) } }
        return q
    }

    /// The mean criterion and its gradient, exact by enumeration of `h`: the decoder's laid out as
    /// its weights then its bias, the encoder's like ``InferenceModel/parameters``.
    public func gradient(_ criterion: Criterion, _ data: [[Double]]) throws -> (
        value: Double, decoder: [Double], encoder: [Double]
    ) {
        let (v, n, k) = (decoder.visible, decoder.hidden, 1 << decoder.hidden)
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
        var gEncoder = [Double](repeating: 0, count: encoder.parameters.count)
        var mass = [Double](repeating: 0, count: k), weighted = [Double](repeating: 0, count: k * v)
        var value = 0.0
        for (idx, x) in data.enumerated() {
            let (term, w, r) = Self.terms(criterion, q: encode(x), logP: logP[idx])
            value += term
            encoder.accumulateScoreGradient(x, weights: w, into: &gEncoder)
            for s in 0..<k where r[s] > 0 {
                mass[s] += r[s]
                for j in 0..<v where x[j] != 0 { weighted[s * v + j] += r[s] }
            }
        }
        // Decoder: Σ_n Σ_h r_n(h)(x_n − σ(a_h)) hᵀ, with σ(a_h) depending on h only.
        var gW = [Double](repeating: 0, count: v * n), gc = [Double](repeating: 0, count: v)
        for s in 0..<k where mass[s] > 0 {
            for j in 0..<v {
                var a = decoder.bias[j]
                for i in 0..<n where (s >> i) & 1 == 1 { a += decoder.weights[j * n + i] }
                let d = weighted[s * v + j] - mass[s] / (1 + exp(-a))
                gc[j] += d
                for i in 0..<n where (s >> i) & 1 == 1 { gW[j * n + i] += d }
            }
        }
        let scale = 1 / Double(data.count)
        return (value * scale, (gW + gc).map { $0 * scale }, gEncoder.map { $0 * scale })
    }

    /// Ascends the mean `criterion` for `epochs` full-batch steps; with `freezingDecoder`, only
    /// the encoder moves. Returns the criterion before every step and after the last.
    @discardableResult
    public mutating func train(
        _ data: [[Double]], criterion: Criterion = .reconstruction, epochs: Int, step: Step,
        freezingDecoder: Bool = false
    ) throws -> [Double] {
        let (v, n) = (decoder.visible, decoder.hidden)
        var adam = Adam(count: v * n + v + encoder.parameters.count)
        var trace: [Double] = []
        for _ in 0..<epochs {
            var (value, gDecoder, gEncoder) = try gradient(criterion, data)
            trace.append(value)
            if freezingDecoder { gDecoder = [Double](repeating: 0, count: gDecoder.count) }
            var p = decoder.weights + decoder.bias + encoder.parameters
            let g = gDecoder + gEncoder
            switch step {
            case let .gradient(rate): for i in p.indices { p[i] += rate * g[i] }
            case let .adam(rate): adam.ascend(&p, gradient: g, rate: rate)
            }
            if !freezingDecoder {
                decoder.weights = Array(p[0..<(v * n)])
                decoder.bias = Array(p[(v * n)..<(v * n + v)])
            }
            encoder.parameters = Array(p[(v * n + v)...])
        }
        trace.append(try self.criterion(criterion, data))
        return trace
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
    /// Layer-wise training with an auto-encoder as the bottom layer: train it on `criterion` (a
    /// lower bound of the BLM criterion), then fit the top RBM to the encoder's aggregate `Q_D`.
    public static func autoEncoder(
        _ data: [[Double]], hidden: Int, topHidden: Int, inference: InferenceModel.Kind = .factorized,
        criterion: AutoEncoder.Criterion = .reconstruction, epochs: Int, step: AutoEncoder.Step,
        topIterations: Int, topRate: Double, seed: UInt64
    ) throws -> (model: TwoLevelModel, autoEncoder: AutoEncoder) {
        guard let v = data.first?.count else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        var ae = try AutoEncoder(visible: v, hidden: hidden, inference: inference, seed: seed)
        try ae.train(data, criterion: criterion, epochs: epochs, step: step)
        let top = try fitRBM(
            to: ae.aggregatePosterior(data), units: hidden, hidden: topHidden, iterations: topIterations, rate: topRate,
            seed: seed &+ 1)
        return (try TwoLevelModel(bottom: ae.decoder, top: top), ae)
    }
}

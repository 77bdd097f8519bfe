import Foundation
import NumericalCore

/// Adam (Kingma & Ba) for gradient ascent on a flat parameter vector.
struct Adam {
    var first: [Double], second: [Double], step = 0
    init(count: Int) { first = [Double](repeating: 0, count: count); second = first }
    mutating func ascend(
        _ p: inout [Double], gradient g: [Double], rate: Double, beta1: Double = 0.9, beta2: Double = 0.999
    ) {
        step += 1
        let c = rate * (1 - pow(beta2, Double(step))).squareRoot() / (1 - pow(beta1, Double(step)))
        for i in p.indices {
            first[i] = beta1 * first[i] + (1 - beta1) * g[i]
            second[i] = beta2 * second[i] + (1 - beta2) * g[i] * g[i]
            p[i] += c * first[i] / (second[i].squareRoot() + 1e-8)
        }
    }
}

/// A two-level generative model `P(x) = Σ_h P(x | h) P_top(h)`: a sigmoid layer below and an
/// RBM over `h` on top, with its log-likelihood computed exactly by enumerating `h`.
public struct TwoLevelModel: Sendable {
    /// `P(x | h)`, the sigmoid layer.
    public var bottom: SigmoidLayer
    /// `P_top(h)`, the RBM over the hidden units.
    public var top: RestrictedBoltzmannMachine

    /// The model of `bottom` under `top`; throws unless the RBM's visible units are the layer's hidden ones.
    public init(bottom: SigmoidLayer, top: RestrictedBoltzmannMachine) throws {
        guard top.visible == bottom.hidden else {
            throw GenerativeNetworkError.invalidShape(
                "the top RBM has \(top.visible) visible units, the bottom layer \(bottom.hidden) hidden units")
        }
        self.bottom = bottom
        self.top = top
    }

    /// `ln P_top(h)` for every hidden state (index = binary number, unit 0 the lowest bit).
    public func logPrior() throws -> [Double] {
        let z = try top.logPartition()
        return (0..<(1 << bottom.hidden)).map { s in
            top.negativeFreeEnergy((0..<bottom.hidden).map { Double((s >> $0) & 1) }) - z
        }
    }

    /// The exact mean log-likelihood of `data`, nats per example.
    public func logLikelihood(_ data: [[Double]]) throws -> Double {
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(bottom, data)
        let prior = try logPrior()
        return logP.reduce(0) { acc, row in
            let t = zip(row, prior).map { $0 + $1 }
            let m = t.max() ?? 0
            return acc + m + log(t.reduce(0) { $0 + exp($1 - m) })
        } / Double(data.count)
    }
}

/// Layer-wise training of a two-level model two ways (spec §8.2):
///
/// - **By the best latent marginal.** Train the bottom layer to maximise the BLM bound
///   `U_D(θ_I) = max_Q E_D ln Σ_h P(x | h) Q(h)`, by alternating the EM update of `Q` (the
///   aggregated posterior) with a gradient step on `θ_I` for that `Q`; then train the top RBM to
///   model the BLM `Q*` itself (exact maximum likelihood on the explicit distribution
///   `Q*(h)`, expectations by enumeration). The inference model is the exact posterior
///   `P(h | x; θ_I, Q*)`, whose aggregate is `Q*`.
/// - **Stacked RBMs** (the DBN baseline): an RBM on the data by CD, then an RBM on its hidden
///   probabilities by CD; the generative model is the first RBM's conditional `P(x | h)` under
///   the second RBM's marginal.
public enum LayerwiseTraining {
    /// Bottom layer by the BLM bound (EM on `Q` alternating with Adam steps of size `rate` on
    /// the layer); returns the layer, the BLM and the objective after every epoch.
    public static func trainBottomByBLM(_ data: [[Double]], hidden: Int, epochs: Int, rate: Double, seed: UInt64) throws
        -> (layer: SigmoidLayer, marginal: [Double], bound: [Double])
    {
        guard let v = data.first?.count else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        guard hidden >= 1, hidden <= 12 else {
            throw GenerativeNetworkError.invalidShape(
                "the hidden layer must have 1…12 units to enumerate, got \(hidden)")
        }
        let rng = RandomSource(seed: seed)
        var layer = try SigmoidLayer(
            visible: v, hidden: hidden, weights: (0..<(v * hidden)).map { _ in rng.gaussian(standardDeviation: 0.5) },
            bias: [Double](repeating: 0, count: v))
        let k = 1 << hidden
        let states = (0..<k).map { s in (0..<hidden).map { Double((s >> $0) & 1) } }
        var q = [Double](repeating: 1 / Double(k), count: k)
        var trace: [Double] = []
        var adam = Adam(count: v * hidden + v)
        for _ in 0..<epochs {
            let logP = try BestLatentMarginal.conditionalLogLikelihoods(layer, data)
            // Posteriors r_n(h) ∝ P(x_n | h) Q(h); Q ← their mean (EM on Q).
            let logQ = q.map { $0 > 0 ? log($0) : -Double.infinity }
            let post: [[Double]] = logP.map { row in
                let t = zip(row, logQ).map { $0 + $1 }
                let m = t.max() ?? 0
                let e = t.map { exp($0 - m) }
                let z = e.reduce(0, +)
                return e.map { $0 / z }
            }
            q = (0..<k).map { h in post.reduce(0) { $0 + $1[h] } / Double(data.count) }
            // Gradient of E_D ln Σ_h P(x|h) Q(h) in θ_I: E_D Σ_h r(h) ∇ ln P(x|h), with
            // ∂ ln P(x|h)/∂a_j = x_j − σ(a_j) for the pre-activation a_j = ⟨W_j, h⟩ + c_j.
            // σ(a_hj) depends on h only, so Σ_n r_n(h)(x_n − σ(a_h)) = A_h − m_h σ(a_h) with
            // A_h = Σ_n r_n(h) x_n and m_h = Σ_n r_n(h).
            var gW = [Double](repeating: 0, count: v * hidden), gc = [Double](repeating: 0, count: v)
            for (s, h) in states.enumerated() {
                var mass = 0.0
                var weighted = [Double](repeating: 0, count: v)
                for (n, x) in data.enumerated() where post[n][s] > 0 {
                    mass += post[n][s]
                    for j in 0..<v where x[j] != 0 { weighted[j] += post[n][s] * x[j] }
                }
                guard mass > 0 else { continue }
                for j in 0..<v {
                    var a = layer.bias[j]
                    for i in 0..<hidden where h[i] != 0 { a += layer.weights[j * hidden + i] }
                    let d = weighted[j] - mass / (1 + exp(-a))
                    gc[j] += d
                    for i in 0..<hidden where h[i] != 0 { gW[j * hidden + i] += d }
                }
            }
            // Adam ascent on the mean objective (gradient divided by N).
            var params = layer.weights + layer.bias
            adam.ascend(&params, gradient: (gW + gc).map { $0 / Double(data.count) }, rate: rate)
            layer.weights = Array(params[0..<(v * hidden)])
            layer.bias = Array(params[(v * hidden)...])
            trace.append(BestLatentMarginal.objective(try BestLatentMarginal.conditionalLogLikelihoods(layer, data), q))
        }
        return (layer, try BestLatentMarginal.bound(layer, data: data).marginal, trace)
    }

    /// An RBM over `n` binary units fitted by exact maximum likelihood to an explicit
    /// distribution `target` over the `2^n` states (both expectations by enumeration).
    public static func fitRBM(
        to target: [Double], units n: Int, hidden: Int, iterations: Int, rate: Double, seed: UInt64
    ) throws -> RestrictedBoltzmannMachine {
        guard target.count == 1 << n else {
            throw GenerativeNetworkError.invalidShape(
                "a distribution over \(n) units has \(1 << n) states, got \(target.count)")
        }
        var rbm = try RestrictedBoltzmannMachine(visible: n, hidden: hidden, seed: seed)
        let states = (0..<(1 << n)).map { s in (0..<n).map { Double((s >> $0) & 1) } }
        for _ in 0..<iterations {
            let z = try rbm.logPartition()
            let model = states.map { exp(rbm.negativeFreeEnergy($0) - z) }
            var gW = [Double](repeating: 0, count: n * hidden), gb = [Double](repeating: 0, count: n),
                gc = [Double](repeating: 0, count: hidden)
            for (s, x) in states.enumerated() {
                let w = target[s] - model[s]
                guard abs(w) > 1e-15 else { continue }
                let ph = rbm.hiddenProbabilities(x)
                for j in 0..<n where x[j] != 0 {
                    gb[j] += w
                    for i in 0..<hidden { gW[j * hidden + i] += w * ph[i] }
                }
                for i in 0..<hidden { gc[i] += w * ph[i] }
            }
            for q in rbm.weights.indices { rbm.weights[q] += rate * gW[q] }
            for j in 0..<n { rbm.visibleBias[j] += rate * gb[j] }
            for i in 0..<hidden { rbm.hiddenBias[i] += rate * gc[i] }
        }
        return rbm
    }

    /// The BLM layer-wise procedure end to end.
    public static func blm(
        _ data: [[Double]], hidden: Int, topHidden: Int, epochs: Int, rate: Double, topIterations: Int, topRate: Double,
        seed: UInt64
    ) throws -> TwoLevelModel {
        let (layer, q, _) = try trainBottomByBLM(data, hidden: hidden, epochs: epochs, rate: rate, seed: seed)
        let top = try fitRBM(
            to: q, units: hidden, hidden: topHidden, iterations: topIterations, rate: topRate, seed: seed &+ 1)
        return try TwoLevelModel(bottom: layer, top: top)
    }

    /// Stacked RBMs (CD-1), as a two-level generative model.
    public static func stackedRBMs(
        _ data: [[Double]], hidden: Int, topHidden: Int, epochs: Int, rate: Double, seed: UInt64
    ) throws -> TwoLevelModel {
        guard let v = data.first?.count else { throw GenerativeNetworkError.invalidInput("the data set is empty") }
        let rng = RandomSource(seed: seed)
        var first = try RestrictedBoltzmannMachine(visible: v, hidden: hidden, seed: seed)
        for _ in 0..<epochs { try first.contrastiveDivergenceEpoch(data, rate: rate, rng: rng) }
        let codes = data.map { first.hiddenProbabilities($0) }
        var second = try RestrictedBoltzmannMachine(visible: hidden, hidden: topHidden, seed: seed &+ 1)
        for _ in 0..<epochs { try second.contrastiveDivergenceEpoch(codes, rate: rate, rng: rng) }
        // P(x | h) of the first RBM is a sigmoid layer with its weights and visible bias.
        let bottom = try SigmoidLayer(visible: v, hidden: hidden, weights: first.weights, bias: first.visibleBias)
        return try TwoLevelModel(bottom: bottom, top: second)
    }
}

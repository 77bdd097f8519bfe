import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

@Suite struct BestLatentMarginalTests {
    /// Data from a two-level generative model: `h` from a random marginal, then `x ~ P(x | h)`.
    static func problem(seed: UInt64, n: Int = 300) throws -> (SigmoidLayer, [[Double]], [Double]) {
        let rng = RandomSource(seed: seed)
        let (v, hdn) = (8, 4)
        let layer = try SigmoidLayer(
            visible: v, hidden: hdn, weights: (0..<(v * hdn)).map { _ in rng.gaussian(standardDeviation: 2) },
            bias: (0..<v).map { _ in rng.gaussian() })
        let raw = (0..<(1 << hdn)).map { _ in rng.uniform() * rng.uniform() }
        let qTrue = raw.map { $0 / raw.reduce(0, +) }
        let data: [[Double]] = (0..<n).map { _ in
            let s = rng.categorical(qTrue)
            let h = (0..<hdn).map { Double((s >> $0) & 1) }
            return (0..<v).map { j in
                var a = layer.bias[j]
                for i in 0..<hdn { a += layer.weights[j * hdn + i] * h[i] }
                return rng.uniform() < 1 / (1 + exp(-a)) ? 1 : 0
            }
        }
        return (layer, data, qTrue)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func emReachesTheBestLatentMarginal(seed: UInt64) throws {
        let (layer, data, qTrue) = try Self.problem(seed: seed)
        let r = try BestLatentMarginal.bound(layer, data: data, iterations: 20_000, tolerance: 1e-13)
        // Every EM step raises the objective.
        for (a, b) in zip(r.trace, r.trace.dropFirst()) { #expect(b >= a - 1e-12) }
        // KKT of the concave problem: E_D[P(x|h)/P(x)] ≤ 1 for every h.
        #expect(r.optimalityGap < 1.01, "KKT gap \(r.optimalityGap)")
        #expect(abs(r.marginal.reduce(0, +) - 1) < 1e-12)
        // It bounds the log-likelihood under any marginal on h: the uniform, the true one and
        // random ones (each the best a particular upper model could do).
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(layer, data)
        let rng = RandomSource(seed: seed + 50)
        var others = [qTrue, [Double](repeating: 1.0 / 16, count: 16)]
        for _ in 0..<20 { let w = (0..<16).map { _ in rng.uniform() }; others.append(w.map { $0 / w.reduce(0, +) }) }
        for q in others { #expect(BestLatentMarginal.objective(logP, q) <= r.bound + 1e-9) }
        #expect(r.bound > BestLatentMarginal.objective(logP, qTrue) - 1e-9)
    }

    @Test func badInputIsATypedError() throws {
        let layer = try SigmoidLayer(visible: 2, hidden: 1, weights: [1, 1], bias: [0, 0])
        #expect(throws: GenerativeNetworkError.self) { try BestLatentMarginal.bound(layer, data: []) }
        #expect(throws: GenerativeNetworkError.self) { try BestLatentMarginal.bound(layer, data: [[0, 0.5]]) }
        #expect(throws: GenerativeNetworkError.self) { try BestLatentMarginal.bound(layer, data: [[0]]) }
        #expect(throws: GenerativeNetworkError.self) {
            try SigmoidLayer(visible: 2, hidden: 1, weights: [1], bias: [0, 0])
        }
    }
}

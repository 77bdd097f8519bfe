/// What bottom-up max-sum inference returns for one image.
public struct BottomUpInference: Sendable {
    /// Per level: the convolution output (before the switch and the pool), `[C_ℓ, H', W']`.
    public let responses: [Tensor]
    /// Per level: the pooled output `I⁽ˡ⁾ = MaxPool(ReLU(Conv(I⁽ˡ⁻¹⁾)))`: the max-sum messages.
    public let features: [Tensor]
    /// The MAP nuisances: per unit, the pool argmax `t̂` and the switch `â`.
    public let nuisances: Nuisances
    /// The class scores `⟨μ_c, I⁽ᴸ⁾⟩`: equal to `max_g ⟨μ_cg, I⟩ + priorScore(c, g)` (the
    /// linear score of spec E4 with the switch priors, in units of σ²).
    public let classScores: [Double]
    /// `argmax_c ⟨μ_c, I⁽ᴸ⁾⟩/σ² + ln π_c` (ties: lowest class).
    public let predictedClass: Int
}

extension DeepRenderingMixtureModel {
    /// Bottom-up max-sum (spec §3.7): at every level `Conv → +β → ReLU → MaxPool`, with `β`
    /// the level's ``unitBias(level:)`` (convnet bias plus the switch prior's log-odds),
    /// recording the switch and pool argmax of every unit (ties: the first position in the
    /// window, and OFF at exactly zero), then the class scores `⟨μ_c, I⁽ᴸ⁾⟩`. With zero α,
    /// nonnegative `μ_c` and `W⁽ˡ⁾` for ℓ ≥ 2 and non-overlapping pools this is exact max-sum on
    /// the model's score (the tests check it against the generic engine and brute force):
    /// `classScores[c] = max_g ⟨μ_cg, I⟩ + priorScore(c, g)`.
    public func infer(_ image: Tensor) throws -> BottomUpInference {
        try check(image)
        var x = image
        var responses: [Tensor] = [], features: [Tensor] = []
        var translations: [[Int]] = [], switches: [[Bool]] = []
        for (l, g) in geometry.enumerated() {
            let s = Convolution.forward(x, filters: filters[l], pad: g.pad, bias: unitBias(level: l))
            var pooled = Tensor(shape: g.pooled)
            let p = g.pool
            var t = [Int](repeating: 0, count: pooled.count), a = [Bool](repeating: false, count: pooled.count)
            for k in 0..<g.pooled[0] {
                for i in 0..<g.pooled[1] {
                    for j in 0..<g.pooled[2] {
                        var best = -Double.infinity, bestT = 0
                        for di in 0..<p { for dj in 0..<p {
                            let v = s[k, i * p + di, j * p + dj]
                            if v > best { best = v; bestT = di * p + dj }
                        } }
                        let u = (k * g.pooled[1] + i) * g.pooled[2] + j
                        t[u] = bestT
                        a[u] = best > 0
                        pooled.elements[u] = best > 0 ? best : 0
                    }
                }
            }
            responses.append(s); features.append(pooled)
            translations.append(t); switches.append(a)
            x = pooled
        }
        let top = x.elements
        let scores = classTemplates.map { mu in zip(mu, top).reduce(0) { $0 + $1.0 * $1.1 } }
        var best = 0
        for c in 1..<max(classCount, 1) {
            if scores[c] / noiseVariance + log(classPrior[c]) > scores[best] / noiseVariance + log(classPrior[best]) { best = c }
        }
        return BottomUpInference(responses: responses, features: features,
                                 nuisances: Nuisances(translations: translations, switches: switches),
                                 classScores: scores, predictedClass: best)
    }
}

#if canImport(Glibc)
import Glibc
#endif

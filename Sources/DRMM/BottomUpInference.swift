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
        let rule = MaxPooling<Double>()
        for (l, g) in geometry.enumerated() {
            var s = Tensor(shape: g.convolved), pooled = Tensor(shape: g.pooled)
            var routes = [Int32](repeating: 0, count: pooled.count)
            var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: 1))
            let bias = unitBias(level: l)
            x.elements.withUnsafeBufferPointer { px in
                filters[l].elements.withUnsafeBufferPointer { pw in
                    bias.withUnsafeBufferPointer { pb in
                        columns.withUnsafeMutableBufferPointer { pc in
                            s.elements.withUnsafeMutableBufferPointer { ps in
                                pooled.elements.withUnsafeMutableBufferPointer { po in
                                    routes.withUnsafeMutableBufferPointer { pr in
                                        _ = LevelOperators.bottomUp(
                                            px.baseAddress!, filters: pw.baseAddress!, bias: pb.baseAddress!, g,
                                            batch: 1, rule: rule,
                                            columns: pc.baseAddress!, response: ps.baseAddress!,
                                            output: po.baseAddress!,
                                            selection: pr.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let plane = g.convolved[1] * g.convolved[2]
            for i in s.elements.indices { s.elements[i] += bias[i / plane] }
            responses.append(s); features.append(pooled)
            translations.append(routes.map { MaxPooling<Double>.translation(route: $0, g) })
            switches.append(routes.map { $0 >= 0 })
            x = pooled
        }
        let top = x.elements
        let scores = classTemplates.map { mu in zip(mu, top).reduce(0) { $0 + $1.0 * $1.1 } }
        var best = 0
        for c in 1..<max(classCount, 1) {
            if scores[c] / noiseVariance + log(classPrior[c]) > scores[best] / noiseVariance + log(classPrior[best]) {
                best = c
            }
        }
        return BottomUpInference(
            responses: responses, features: features,
            nuisances: Nuisances(translations: translations, switches: switches),
            classScores: scores, predictedClass: best)
    }
}

#if canImport(Glibc)
import Glibc
#endif

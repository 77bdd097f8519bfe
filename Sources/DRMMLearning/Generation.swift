import DRMM
import NumericalCore

/// Top-down rendering with a trained network: class templates in pixel space and samples.
public enum Generation {
    /// How the nuisances are chosen while rendering a class template down to pixels.
    public enum Nuisances {
        /// Every switch ON and the translation averaged over its window (unpool by spreading
        /// `z/p²` over the window): the expected rendering `E_t[Λ_{t, a=ON}] μ_c`.
        case expectedTranslation
        /// Switches drawn ON with the per-level rates, translations uniform: a sample.
        case sampled(switchRates: [Double], rng: RandomSource)
    }

    /// Renders class `c` to an image `[C, H, W]`.
    public static func render(_ network: RenderingNetwork<Float>, class c: Int, nuisances: Nuisances) throws -> [Float] {
        let a = network.architecture
        guard c >= 0, c < a.classes else { throw LearningError.invalidOption("class \(c) is not in 0..<\(a.classes)") }
        if case let .sampled(rates, _) = nuisances, rates.count != network.geometry.count {
            throw LearningError.invalidOption("\(rates.count) switch rates for \(network.geometry.count) levels")
        }
        let p = network.parameters, d = network.layout.templateLength
        let top = network.geometry[network.geometry.count - 1].pooled
        let hw = top[1] * top[2]
        var z = [Float](repeating: 0, count: top.reduce(1, *))
        for ch in 0..<top[0] {
            for q in 0..<hw {
                z[ch * hw + q] = a.top == .meanPool ? p[network.layout.classTemplates.lowerBound + c * d + ch]
                                                   : p[network.layout.classTemplates.lowerBound + c * d + ch * hw + q]
            }
        }
        for (l, g) in network.geometry.enumerated().reversed() {
            let (o, ho, wo, pool) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
            let (hp, wp) = (ho / pool, wo / pool)
            var m = [Float](repeating: 0, count: o * ho * wo)
            for ch in 0..<o {
                for i in 0..<hp {
                    for j in 0..<wp {
                        let v = z[(ch * hp + i) * wp + j]
                        switch nuisances {
                        case .expectedTranslation:
                            for di in 0..<pool { for dj in 0..<pool { m[(ch * ho + i * pool + di) * wo + j * pool + dj] = v / Float(pool * pool) } }
                        case let .sampled(rates, rng):
                            guard rng.uniform() < rates[l] else { continue }
                            let t = rng.integer(below: pool * pool)
                            m[(ch * ho + i * pool + t / pool) * wo + j * pool + t % pool] = v
                        }
                    }
                }
            }
            if a.normalisation == .batchFolded {   // render with Λ = γ W/√(v + ε), running statistics
                for ch in 0..<o {
                    let gamma = p[network.layout.scales[l].lowerBound + ch], v = p[network.layout.statistics[l].lowerBound + o + ch]
                    let kappa = gamma / (v + BatchPass<Float>.normalisationEpsilon).squareRoot()
                    for q in (ch * ho * wo)..<((ch + 1) * ho * wo) { m[q] *= kappa }
                }
            }
            let rows = g.input[0] * g.kernel * g.kernel
            var cols = [Float](repeating: 0, count: rows * ho * wo)
            var below = [Float](repeating: 0, count: g.input.reduce(1, *))
            p.withUnsafeBufferPointer { pp in m.withUnsafeBufferPointer { mp in cols.withUnsafeMutableBufferPointer { cp in
                Float.gemm(transposeA: true, transposeB: false, m: rows, n: ho * wo, k: o, alpha: 1, a: pp.baseAddress! + network.layout.filters[l].lowerBound,
                           lda: rows, b: mp.baseAddress!, ldb: ho * wo, beta: 0, c: cp.baseAddress!, ldc: ho * wo)
                below.withUnsafeMutableBufferPointer { Kernels.col2im(UnsafePointer(cp.baseAddress!), g, batch: 1, into: $0.baseAddress!) }
            } } }
            z = below
        }
        return z
    }
}

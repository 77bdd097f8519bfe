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
    public static func render(_ network: RenderingNetwork<Float>, class c: Int, nuisances: Nuisances) throws -> [Float]
    {
        let a = network.architecture
        guard c >= 0, c < a.classes else { throw LearningError.invalidOption("class \(c) is not in 0..<\(a.classes)") }
        if case let .sampled(rates, _) = nuisances, rates.count != network.geometry.count {
            throw LearningError.invalidOption("\(rates.count) switch rates for \(network.geometry.count) levels")
        }
        let p = network.parameters, layout = network.layout
        let top = network.geometry[network.geometry.count - 1].pooled
        var z = [Float](repeating: 0, count: top.reduce(1, *))
        p.withUnsafeBufferPointer { pp in
            z.withUnsafeMutableBufferPointer { zb in
                a.top.render(
                    pp.baseAddress! + layout.classTemplates.lowerBound + c * layout.templateLength, image: 0, top: top,
                    batch: 1,
                    into: zb.baseAddress!)
            }
        }
        for (l, g) in network.geometry.enumerated().reversed() {
            let m = mask(level: l, network, nuisances: nuisances)
            var unpooled = [Float](repeating: 0, count: g.convolved.reduce(1, *))
            var columns = [Float](repeating: 0, count: LevelOperators.columnsLength(g, batch: 1))
            var below = [Float](repeating: 0, count: g.input.reduce(1, *))
            z.withUnsafeBufferPointer { zb in
                m.withUnsafeBufferPointer { mb in
                    p.withUnsafeBufferPointer { pp in
                        unpooled.withUnsafeMutableBufferPointer { u in
                            columns.withUnsafeMutableBufferPointer { cb in
                                below.withUnsafeMutableBufferPointer { b in
                                    LevelOperators.unpool(
                                        zb.baseAddress!, g, batch: 1, mask: mb.baseAddress!, into: u.baseAddress!)
                                    LevelOperators.transposedConvolve(
                                        u.baseAddress!, filters: pp.baseAddress! + layout.filters[l].lowerBound, g,
                                        batch: 1,
                                        columns: cb.baseAddress!, into: b.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            z = below
        }
        return z
    }

    /// Level `l`'s unpooling mask at the convolution's resolution: `1/p²` everywhere for the
    /// expected translation, one at a drawn position of each ON unit for a sample; scaled per
    /// channel by the rendering scale `γ/√(v + ε)` of folded normalisation.
    private static func mask(level l: Int, _ network: RenderingNetwork<Float>, nuisances: Nuisances) -> [Float] {
        let g = network.geometry[l], p = network.parameters
        let (o, ho, wo, pool) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
        var m = [Float](repeating: 0, count: o * ho * wo)
        switch nuisances {
        case .expectedTranslation:
            m = [Float](repeating: 1 / Float(pool * pool), count: o * ho * wo)
        case let .sampled(rates, rng):
            for ch in 0..<o {
                for i in 0..<(ho / pool) {
                    for j in 0..<(wo / pool) {
                        guard rng.uniform() < rates[l] else { continue }
                        let t = rng.integer(below: pool * pool)
                        m[(ch * ho + i * pool + t / pool) * wo + j * pool + t % pool] = 1
                    }
                }
            }
        }
        if network.architecture.normalization == .batchFolded {  // render with Λ = γ W/√(v + ε), running statistics
            for ch in 0..<o {
                let gamma = p[network.layout.scales[l].lowerBound + ch],
                    v = p[network.layout.statistics[l].lowerBound + o + ch]
                let kappa = gamma / (v + BatchPass<Float>.normalizationEpsilon).squareRoot()
                for q in (ch * ho * wo)..<((ch + 1) * ho * wo) { m[q] *= kappa }
            }
        }
        return m
    }
}

import DRMM
import NumericalCore

/// The top-down E-step (the reconstruction `Î` of every image from its rendered class and the
/// routes of the bottom-up pass), its loss terms and their gradient through the tied filters.
extension BatchPass {
    /// `z⁽ᴸ⁾ = μ_ĉ` placed by the architecture's `Readout`, then per level
    /// `z⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ ⋆ (a ⊙ t ⊙ Unpool z⁽ˡ⁾)` (``MaxPooling`` unpooling by the routes; folded
    /// normalisation scales the unpooled map by `γ/σ`). Adds the reconstruction and
    /// nonnegativity terms.
    func renderTopDown(parameters p: UnsafePointer<T>, objective: Objective, total: Int, terms: inout LossTerms) {
        let (n, L, d) = (batchCount, geometry.count, layout.templateLength)
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        let topShape = geometry[L - 1].pooled
        z[L].pointer.update(repeating: 0, count: n * topShape.reduce(1, *))
        for i in 0..<n {
            architecture.top.render(
                p + layout.classTemplates.lowerBound + renderedClasses[i] * d, image: i, top: topShape, batch: n,
                into: z[L].pointer)
        }
        for l in stride(from: L - 1, through: 0, by: -1) {
            routes[l].withUnsafeMutableBufferPointer { r in
                MaxPooling<T>().unpool(
                    z[l + 1].pointer, geometry[l], batch: n, selection: r.baseAddress!, into: scratch.pointer)
            }
            if folded {
                scaleByRenderingScale(
                    level: l, scratch.pointer, p, planeLength: n * geometry[l].convolved[1] * geometry[l].convolved[2])
            }
            convolutionAdjoint(
                level: l, scratch.pointer, batch: n, parameters: p, input: nil, filterGradient: nil,
                inputGradient: z[l].pointer)
        }
        var rc: T = 0
        let (x, xHat) = (features[0].pointer, z[0].pointer)
        for j in 0..<(n * c0 * hw0) { let e = xHat[j] - x[j]; rc += e * e }
        terms.reconstruction = Double(rc) / Double(total * c0 * hw0)
        for l in 1...L {
            let per = size(ofLevel: l), zl = z[l].pointer
            var s: T = 0
            for j in 0..<(n * per) where zl[j] < 0 { s += zl[j] * zl[j] }
            terms.nonnegativity += Double(s) / Double(total * per)
        }
    }

    /// `∂` of the reconstruction and nonnegativity terms, through the tied top-down pass, with
    /// the routes and rendered classes held fixed: per level, `∂z⁽ˡ⁺¹⁾ = gather(W ⋆ g)` and
    /// `∂W += m ⋆ g` with `m` the masked unpooled `z⁽ˡ⁺¹⁾`; at the top, `∂μ_ĉ`.
    func reconstructionBackward(
        parameters p: UnsafePointer<T>, objective: Objective, total: Int, gradient grad: UnsafeMutablePointer<T>,
        batchStatistics useBatch: Bool
    ) {
        let (n, L) = (batchCount, geometry.count)
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        var gA = gradA.pointer, gB = gradB.pointer
        let scale = T(2 * objective.reconstruction) / T(total * c0 * hw0)
        let (x, xHat) = (features[0].pointer, z[0].pointer)
        for j in 0..<(n * c0 * hw0) { gA[j] = scale * (xHat[j] - x[j]) }
        for (l, g) in geometry.enumerated() {
            // Folded: m is scaled by κ = γ/σ per channel, so ∂z⁽ˡ⁺¹⁾ is too, and
            // ∂κ = Σ gather(W ⋆ g) z⁽ˡ⁺¹⁾ goes to γ and σ.
            convolve(
                level: l, gA, batch: n, parameters: p, lowered: winograd[l] ? nil : scratch2.pointer,
                into: scratch.pointer)
            routes[l].withUnsafeBufferPointer { r in
                Kernels.gatherRouted(scratch.pointer, g, batch: n, route: r.baseAddress!, into: gB)
            }
            if folded { renderingScaleBackward(level: l, gB, p, gradient: grad, batch: n, useBatch: useBatch) }
            routes[l].withUnsafeMutableBufferPointer { r in
                MaxPooling<T>().unpool(z[l + 1].pointer, g, batch: n, selection: r.baseAddress!, into: scratch.pointer)
            }
            if folded {
                scaleByRenderingScale(level: l, scratch.pointer, p, planeLength: n * g.convolved[1] * g.convolved[2])
            }
            convolutionAdjoint(
                level: l, scratch.pointer, batch: n, parameters: p,
                input: (UnsafePointer(gA), UnsafePointer(scratch2.pointer)),
                filterGradient: grad + layout.filters[l].lowerBound, inputGradient: nil)
            if objective.nonnegativity != 0 {
                let per = size(ofLevel: l + 1), zl = z[l + 1].pointer
                let nn = T(2 * objective.nonnegativity) / T(total * per)  // ∂(z²)/∂z, z < 0
                for j in 0..<(n * per) where zl[j] < 0 { gB[j] += nn * zl[j] }
            }
            swap(&gA, &gB)
        }
        let gTop = grad + layout.classTemplates.lowerBound
        for i in 0..<n {
            architecture.top.renderAdjoint(
                gA, image: i, top: geometry[L - 1].pooled, batch: n,
                into: gTop + renderedClasses[i] * layout.templateLength)
        }
    }
}

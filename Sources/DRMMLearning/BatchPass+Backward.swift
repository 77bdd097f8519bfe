import DRMM
import NumericalCore

/// The gradient of the classification terms (and, folded, of the normalisation's `σ`) back
/// through the bottom-up pass, with the routes held fixed.
extension BatchPass {
    /// From `dScores`: `∂μ += dScoresᵀ f`, `∂b_c`, then back through the `Readout` and, per
    /// level, the routes (`∂b` is the sum over ON units), batch normalisation and the
    /// convolution (`∂W += ∂S · colsᵀ`, `∂I⁽ˡ⁻¹⁾ = Wᵀ ⋆ ∂S`).
    func classificationBackward(
        parameters p: UnsafePointer<T>, gradient grad: UnsafeMutablePointer<T>, batchStatistics useBatch: Bool,
        deviationGradient: Bool
    ) {
        let (n, L, k, d) = (batchCount, geometry.count, architecture.classes, layout.templateLength)
        let gTop = grad + layout.classTemplates.lowerBound, gBias = grad + layout.classBias.lowerBound
        dScores.withUnsafeBufferPointer { ds in
            let dsp = ds.baseAddress!
            T.gemm(
                transposeA: true, transposeB: false, m: k, n: d, k: n, alpha: 1, a: dsp, lda: k, b: top.pointer, ldb: d,
                beta: 1, c: gTop, ldc: d)
            for i in 0..<n { for c in 0..<k { gBias[c] += dsp[i * k + c] } }
            T.gemm(
                transposeA: false, transposeB: false, m: n, n: d, k: k, alpha: 1, a: dsp, lda: k,
                b: p + layout.classTemplates.lowerBound,
                ldb: d, beta: 0, c: dTop.pointer, ldc: d)
        }
        var gA = gradA.pointer, gB = gradB.pointer
        architecture.top.featuresAdjoint(dTop.pointer, top: geometry[L - 1].pooled, batch: n, into: gA)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let g = geometry[l]
            let cols = n * g.convolved[1] * g.convolved[2], o = g.convolved[0]
            let per = g.pooled[1] * g.pooled[2]
            routes[l].withUnsafeMutableBufferPointer { r in
                let db = grad + layout.biases[l].lowerBound
                for plane in 0..<(o * n) {
                    var s: T = 0
                    for u in (plane * per)..<((plane + 1) * per) where r[u] >= 0 { s += gA[u] }
                    db[plane / n] += s
                }
                MaxPooling<T>().unpool(gA, g, batch: n, selection: r.baseAddress!, into: scratch.pointer)
            }
            if architecture.normalization.isBatch {
                normaliseBackward(level: l, p, gradient: grad, count: o, length: cols, useBatch: useBatch)
                if deviationGradient { addDeviationGradient(level: l, count: o, length: cols) }
            }
            convolutionAdjoint(
                level: l, scratch.pointer, batch: n, parameters: p,
                input: (UnsafePointer(features[l].pointer), UnsafePointer(columns[l].pointer)),
                filterGradient: grad + layout.filters[l].lowerBound, inputGradient: l > 0 ? gB : nil)
            if l > 0 { swap(&gA, &gB) }
        }
    }
}

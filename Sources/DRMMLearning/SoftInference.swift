import DRMM
import Foundation

/// The sum-product E-step of a deep DRMM at temperature τ (spec §4.7, approximation (a),
/// layer-local mean field).
///
/// Bottom-up, the max over each nuisance becomes a log-sum-exp:
/// - translation: `u = τ ln( (1/p²) Σ_t exp(S_t/τ) ) + b` (log-sum-exp pooling, uniform `π_t`);
/// - switch: `I = τ softplus(u/τ) = τ ln(1 + e^{u/τ})` (the soft ReLU; `π_a` lives in `b`).
///
/// The local posteriors are `q(a = ON) = sigmoid(u/τ)` and `q(t) = softmax_t(S_t/τ)`, and the
/// class posterior is `q(c) = softmax(scores/τ)`. Top-down, the masks become expectations:
/// `z⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ ⋆ (q(a) q(t) ⊙ Unpool z⁽ˡ⁾)` from `z⁽ᴸ⁾ = Σ_c q(c) μ_c` (or `μ_label`).
///
/// As τ → 0 every operator becomes its max-sum counterpart (ReLU, max-pool, argmax class), so
/// this pass becomes the hard E-step of ``BatchPass``.
public enum SoftInference {
    public struct Result {
        /// `[N, classes]` class scores.
        public var scores: [Double]
        /// `[N, classes]` class posteriors at the temperature.
        public var classPosterior: [Double]
        /// `[N][C·H·W]` top-down reconstructions.
        public var reconstructions: [[Double]]
        /// Per level, `q(a = ON)` of every pooled unit, channel-major `[C, N, H, W]`.
        public var switchPosterior: [[Double]]
        /// Per level, the expected mask `q(a = ON)·q(t)` at the convolution's resolution.
        public var masks: [[Double]]
    }

    /// Runs the soft E-step on `images` (`[N, C, H, W]`); `labels[i] ≥ 0` clamps the class.
    public static func infer(_ network: RenderingNetwork<Double>, images: [Double], labels: [Int], temperature tau: Double) throws -> Result {
        let a = network.architecture, geo = network.geometry, layout = network.layout, p = network.parameters
        let n = labels.count
        guard tau > 0, tau.isFinite else { throw LearningError.invalidOption("temperature must be positive, got \(tau)") }
        let x = try RenderingLatents.channelMajorImages(network, images: images, labels: labels)
        let (c0, hw0) = (a.inputShape[0], a.inputShape[1] * a.inputShape[2])

        var level = x
        var qa: [[Double]] = [], qt: [[Double]] = []   // q(a) per pooled unit, q(t) per convolved position
        for (l, g) in geo.enumerated() {
            let rows = g.input[0] * g.kernel * g.kernel, cols = n * g.convolved[1] * g.convolved[2], o = g.convolved[0]
            var colsBuf = [Double](repeating: 0, count: rows * cols), s = [Double](repeating: 0, count: o * cols)
            level.withUnsafeBufferPointer { lp in colsBuf.withUnsafeMutableBufferPointer { Kernels.im2col(lp.baseAddress!, g, batch: n, into: $0.baseAddress!) } }
            p.withUnsafeBufferPointer { pp in colsBuf.withUnsafeBufferPointer { cp in s.withUnsafeMutableBufferPointer { sp in
                Double.gemm(transposeA: false, transposeB: false, m: o, n: cols, k: rows, alpha: 1, a: pp.baseAddress! + layout.filters[l].lowerBound,
                            lda: rows, b: cp.baseAddress!, ldb: cols, beta: 0, c: sp.baseAddress!, ldc: cols)
            } } }
            let (ho, wo, pool) = (g.convolved[1], g.convolved[2], g.pool)
            let (hp, wp) = (ho / pool, wo / pool)
            var out = [Double](repeating: 0, count: o * n * hp * wp), onP = out
            var tP = [Double](repeating: 0, count: o * cols)
            for plane in 0..<(o * n) {
                let b = p[layout.biases[l].lowerBound + plane / n]
                for i in 0..<hp {
                    for j in 0..<wp {
                        let window: [Int] = (0..<(pool * pool)).map { t in
                            let row: Int = i * pool + t / pool, col: Int = j * pool + t % pool
                            return plane * ho * wo + row * wo + col
                        }
                        var m = -Double.infinity
                        for k in window { m = max(m, s[k]) }
                        var z = 0.0
                        for k in window { tP[k] = exp((s[k] - m) / tau); z += tP[k] }
                        for k in window { tP[k] /= z }
                        let u = m + tau * log(z / Double(pool * pool)) + b
                        let unit = plane * hp * wp + i * wp + j
                        out[unit] = u > 0 ? u + tau * log1p(exp(-u / tau)) : tau * log1p(exp(u / tau))   // τ·softplus(u/τ), stably
                        onP[unit] = 1 / (1 + exp(-u / tau))
                    }
                }
            }
            qa.append(onP); qt.append(tP)
            level = out
        }
        let top = geo[geo.count - 1].pooled
        let (ct, hw) = (top[0], top[1] * top[2])
        let dT = layout.templateLength, k = a.classes
        var scores = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            var f = [Double](repeating: 0, count: dT)
            for c in 0..<ct { for q in 0..<hw {
                let v = level[(c * n + i) * hw + q]
                if a.top == .meanPool { f[c] += v / Double(hw) } else { f[c * hw + q] = v }
            } }
            for cl in 0..<k {
                var s = p[layout.classBias.lowerBound + cl]
                for j in 0..<dT { s += p[layout.classTemplates.lowerBound + cl * dT + j] * f[j] }
                scores[i * k + cl] = s
            }
        }
        var post = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            if labels[i] >= 0 { post[i * k + labels[i]] = 1; continue }
            let m = (0..<k).map { scores[i * k + $0] }.max() ?? 0
            let e = (0..<k).map { exp((scores[i * k + $0] - m) / tau) }
            let z = e.reduce(0, +)
            for c in 0..<k { post[i * k + c] = e[c] / z }
        }
        // The expected masks q(a)·q(t).
        var masks: [[Double]] = []
        for (l, g) in geo.enumerated() {
            let (o, ho, wo, pool) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
            let (hp, wp) = (ho / pool, wo / pool)
            var m = qt[l]
            for plane in 0..<(o * n) {
                for y in 0..<ho { for x in 0..<wo { m[(plane * ho + y) * wo + x] *= qa[l][(plane * hp + y / pool) * wp + x / pool] } }
            }
            masks.append(m)
        }
        // Top-down with expected masks, by the renderer hard and soft EM share.
        let z = RenderingLatents(classWeights: (0..<n).map { Array(post[($0 * k)..<(($0 + 1) * k)]) }, masks: masks).render(network, p)
        let recon = (0..<n).map { i in (0..<(c0 * hw0)).map { j in z[((j / hw0) * n + i) * hw0 + j % hw0] } }
        return Result(scores: scores, classPosterior: post, reconstructions: recon, switchPosterior: qa, masks: masks)
    }
}

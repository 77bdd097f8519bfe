import DRMM
import NumericalCore
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
/// this pass becomes the hard E-step of `BatchPass`. Each level is the one bottom-up and
/// top-down step of `LevelOperators` with the `SoftPooling` rule.
public enum SoftInference {
    /// What the soft E-step returns.
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
    public static func infer(
        _ network: RenderingNetwork<Double>, images: [Double], labels: [Int], temperature tau: Double
    ) throws -> Result {
        let a = network.architecture, geo = network.geometry, layout = network.layout, p = network.parameters
        let n = labels.count
        guard tau > 0, tau.isFinite else {
            throw LearningError.invalidOption("temperature must be positive, got \(tau)")
        }
        let x = try RenderingLatents.channelMajorImages(network, images: images, labels: labels)
        let (c0, hw0) = (a.inputShape[0], a.inputShape[1] * a.inputShape[2])

        var level = x
        var qa: [[Double]] = [], masks: [[Double]] = []  // q(a) per pooled unit, q(a)·q(t) per convolved position
        let rule = SoftPooling<Double>(temperature: tau)
        for (l, g) in geo.enumerated() {
            var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: n))
            var s = [Double](repeating: 0, count: n * g.convolved.reduce(1, *)), mask = s
            var out = [Double](repeating: 0, count: n * g.pooled.reduce(1, *)), on = out
            level.withUnsafeBufferPointer { x in
                p.withUnsafeBufferPointer { pp in
                    columns.withUnsafeMutableBufferPointer { c in
                        s.withUnsafeMutableBufferPointer { sp in
                            out.withUnsafeMutableBufferPointer { o in
                                on.withUnsafeMutableBufferPointer { q in
                                    mask.withUnsafeMutableBufferPointer { m in
                                        _ = LevelOperators.bottomUp(
                                            x.baseAddress!, filters: pp.baseAddress! + layout.filters[l].lowerBound,
                                            bias: pp.baseAddress! + layout.biases[l].lowerBound, g, batch: n,
                                            rule: rule,
                                            columns: c.baseAddress!, response: sp.baseAddress!, output: o.baseAddress!,
                                            selection: SoftSelection(
                                                switchPosterior: q.baseAddress!, mask: m.baseAddress!))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            qa.append(on); masks.append(mask)
            level = out
        }
        let top = geo[geo.count - 1].pooled
        let dT = layout.templateLength, k = a.classes
        var features = [Double](repeating: 0, count: n * dT), scores = [Double](repeating: 0, count: n * k)
        level.withUnsafeBufferPointer { f in
            features.withUnsafeMutableBufferPointer { fb in
                p.withUnsafeBufferPointer { pp in
                    scores.withUnsafeMutableBufferPointer { sb in
                        a.top.features(f.baseAddress!, top: top, batch: n, into: fb.baseAddress!)
                        Readout.scores(
                            fb.baseAddress!, weights: pp.baseAddress! + layout.classTemplates.lowerBound,
                            bias: pp.baseAddress! + layout.classBias.lowerBound, batch: n, classes: k,
                            featureLength: dT, into: sb.baseAddress!)
                    }
                }
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
        // Top-down with expected masks, by the renderer hard and soft EM share.
        let z = RenderingLatents(classWeights: (0..<n).map { Array(post[($0 * k)..<(($0 + 1) * k)]) }, masks: masks)
            .render(network, p)
        let recon = (0..<n).map { i in (0..<(c0 * hw0)).map { j in z[((j / hw0) * n + i) * hw0 + j % hw0] } }
        return Result(scores: scores, classPosterior: post, reconstructions: recon, switchPosterior: qa, masks: masks)
    }
}

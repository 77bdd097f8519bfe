import DRMM

/// An independent, loop-by-loop Conv → ReLU → MaxPool network over the same parameters:
/// no im2col, no BLAS, no shared code with the DRMM module beyond reading its fields.
struct NaiveConvNet {
    struct Level { var response: [[[Double]]]; var pooled: [[[Double]]]; var argmax: [[[Int]]]; var on: [[[Bool]]] }

    let model: DeepRenderingMixtureModel

    func forward(_ image: Tensor) -> (levels: [Level], scores: [Double]) {
        var x = (0..<image.shape[0]).map { c in
            (0..<image.shape[1]).map { y in (0..<image.shape[2]).map { image[c, y, $0] } }
        }
        var levels: [Level] = []
        for (l, spec) in model.layers.enumerated() {
            let w = model.filters[l]
            let (cin, h, wd) = (x.count, x[0].count, x[0][0].count)
            let k = spec.kernel
            let pad = spec.padding == .valid ? 0 : spec.padding == .same ? (k - 1) / 2 : k - 1
            let ho = h + 2 * pad - k + 1, wo = wd + 2 * pad - k + 1
            var s = [[[Double]]](
                repeating: [[Double]](repeating: [Double](repeating: 0, count: wo), count: ho), count: spec.channels)
            for o in 0..<spec.channels {
                for y in 0..<ho {
                    for xx in 0..<wo {
                        var acc = model.unitBias(level: l)[o]
                        for c in 0..<cin {
                            for r in 0..<k {
                                for q in 0..<k {
                                    let (iy, ix) = (y + r - pad, xx + q - pad)
                                    if iy >= 0 && iy < h && ix >= 0 && ix < wd { acc += w[o, c, r, q] * x[c][iy][ix] }
                                }
                            }
                        }
                        s[o][y][xx] = acc
                    }
                }
            }
            let relu = s.map { $0.map { $0.map { max(0, $0) } } }
            let p = spec.pool
            var pooled = [[[Double]]](
                repeating: [[Double]](repeating: [Double](repeating: 0, count: wo / p), count: ho / p),
                count: spec.channels)
            var arg = [[[Int]]](
                repeating: [[Int]](repeating: [Int](repeating: 0, count: wo / p), count: ho / p), count: spec.channels)
            var on = [[[Bool]]](
                repeating: [[Bool]](repeating: [Bool](repeating: false, count: wo / p), count: ho / p),
                count: spec.channels)
            for o in 0..<spec.channels {
                for i in 0..<(ho / p) {
                    for j in 0..<(wo / p) {
                        var best = -Double.infinity, bt = 0
                        for di in 0..<p {
                            for dj in 0..<p where s[o][i * p + di][j * p + dj] > best {
                                best = s[o][i * p + di][j * p + dj]; bt = di * p + dj
                            }
                        }
                        pooled[o][i][j] = relu[o][i * p + bt / p][j * p + bt % p]
                        arg[o][i][j] = bt
                        on[o][i][j] = best > 0
                    }
                }
            }
            levels.append(Level(response: s, pooled: pooled, argmax: arg, on: on))
            x = pooled
        }
        let top = x.flatMap { $0.flatMap { $0 } }
        let scores = model.classTemplates.map { mu in zip(mu, top).map { $0 * $1 }.reduce(0, +) }
        return (levels, scores)
    }
}

import DRMM
import NumericalCore

/// Independent implementations the tests compare the library against: written as loops, and
/// calling none of the operators they check.
public enum Oracles {
    /// `⟨a, b⟩`.
    public static func innerProduct(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// `count` values uniform on [0, 1) (GSL MT19937 with `seed`).
    public static func uniformValues(_ count: Int, seed: UInt64) -> [Double] {
        let rng = RandomSource(seed: seed)
        return (0..<count).map { _ in rng.uniform() }
    }

    /// `S[o, n, y, x] = Σ_{c,r,s} W[o, c, r, s] x[c, n, y + r − pad, x + s − pad]`, by loops.
    public static func directConvolution(_ x: [Double], _ w: [Double], _ g: LayerGeometry, batch n: Int) -> [Double] {
        let (c, h, wd, pad, k) = (g.input[0], g.input[1], g.input[2], g.pad, g.kernel)
        let (o, ho, wo) = (g.convolved[0], g.convolved[1], g.convolved[2])
        var s = [Double](repeating: 0, count: o * n * ho * wo)
        for oi in 0..<o {
            for img in 0..<n {
                for y in 0..<ho {
                    for xx in 0..<wo {
                        var acc = 0.0
                        for ci in 0..<c {
                            for r in 0..<k {
                                for q in 0..<k {
                                    let (iy, ix) = (y + r - pad, xx + q - pad)
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    acc +=
                                        w[((oi * c + ci) * k + r) * k + q] * x[(ci * n + img) * h * wd + iy * wd + ix]
                                }
                            }
                        }
                        s[((oi * n + img) * ho + y) * wo + xx] = acc
                    }
                }
            }
        }
        return s
    }
}

import DRMM
import DRMMTestSupport
import Foundation
import NumericalCore
import Testing

/// Winograd's F(2×2, 3×3) against a direct loop convolution, and its transforms against their
/// adjoints.
@Suite struct WinogradTests {
    /// The convolution by the four Winograd steps, with the 16 products as plain loops.
    static func winogradConvolution(_ x: [Double], _ w: [Double], _ g: LayerGeometry, batch n: Int) -> [Double] {
        let (c, o) = (g.input[0], g.convolved[0])
        let tiles = Winograd.tiles(g), t = n * tiles.high * tiles.wide
        var u = [Double](repeating: 0, count: Winograd.filterLength(g))
        var v = [Double](repeating: 0, count: Winograd.inputLength(g, batch: n))
        var m = [Double](repeating: 0, count: Winograd.outputLength(g, batch: n))
        var s = [Double](repeating: 0, count: o * n * g.convolved[1] * g.convolved[2])
        w.withUnsafeBufferPointer { Winograd.transformFilters($0.baseAddress!, g, into: &u) }
        x.withUnsafeBufferPointer { Winograd.transformInput($0.baseAddress!, g, batch: n, into: &v) }
        let (sv, sm) = (Winograd.planeStride(rows: c, tiles: t), Winograd.planeStride(rows: o, tiles: t))
        for xi in 0..<16 {
            for oi in 0..<o {
                for k in 0..<t {
                    var acc = 0.0
                    for ci in 0..<c { acc += u[xi * o * c + oi * c + ci] * v[xi * sv + ci * t + k] }
                    m[xi * sm + oi * t + k] = acc
                }
            }
        }
        m.withUnsafeBufferPointer { Winograd.transformOutput($0.baseAddress!, g, batch: n, into: &s) }
        return s
    }

    static let cases: [(input: [Int], padding: Padding)] = [
        ([2, 8, 8], .valid), ([2, 8, 8], .full), ([2, 8, 8], .same),
        ([3, 7, 9], .valid), ([3, 7, 9], .full), ([1, 5, 6], .same), ([2, 3, 3], .valid)
    ]

    /// Odd and even sides, every padding, partial last tiles: equal to the direct loops.
    @Test(arguments: 0..<cases.count)
    func convolutionEqualsDirectLoops(index: Int) throws {
        let (input, padding) = Self.cases[index]
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 4, kernel: 3, padding: padding, pool: 1), input: input, layer: 1)
        let n = 3
        let x = Oracles.uniformValues(input.reduce(n, *), seed: UInt64(index + 1)).map { $0 - 0.5 }
        let w = Oracles.uniformValues(4 * input[0] * 9, seed: UInt64(index + 50)).map { 2 * $0 - 1 }
        let direct = Oracles.directConvolution(x, w, g, batch: n), fast = Self.winogradConvolution(x, w, g, batch: n)
        let worst = zip(direct, fast).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-12, "\(input) \(padding): worst difference \(worst)")
        #expect(direct.contains { $0 != 0 })
    }

    /// Each backward transform is the adjoint of its forward one: `⟨Fa, b⟩ = ⟨a, F*b⟩`.
    @Test(arguments: 0..<cases.count)
    func transformsHaveTheirAdjoints(index: Int) throws {
        let (input, padding) = Self.cases[index]
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 4, kernel: 3, padding: padding, pool: 1), input: input, layer: 1)
        let n = 2
        let seed = UInt64(10 * index)
        let random = { (count: Int, s: UInt64) in Oracles.uniformValues(count, seed: s).map { $0 - 0.5 } }
        let close = { (a: Double, b: Double) in abs(a - b) < 1e-12 * max(1, abs(a)) }

        // Input: V = transformInput(x); the adjoint places B ∂V Bᵀ back on the patches.
        let x = random(input.reduce(n, *), seed + 1), dv = random(Winograd.inputLength(g, batch: n), seed + 2)
        var v = [Double](repeating: 0, count: dv.count), dx = [Double](repeating: 7, count: x.count)
        x.withUnsafeBufferPointer { Winograd.transformInput($0.baseAddress!, g, batch: n, into: &v) }
        dv.withUnsafeBufferPointer { Winograd.transformInputGradient($0.baseAddress!, g, batch: n, into: &dx) }
        #expect(close(Oracles.innerProduct(v, dv), Oracles.innerProduct(x, dx)))

        // Output: S = transformOutput(M); the adjoint is Δ = A δ Aᵀ.
        let m = random(Winograd.outputLength(g, batch: n), seed + 3),
            ds = random(4 * n * g.convolved[1] * g.convolved[2], seed + 4)
        var s = [Double](repeating: 0, count: ds.count), delta = [Double](repeating: 0, count: m.count)
        m.withUnsafeBufferPointer { Winograd.transformOutput($0.baseAddress!, g, batch: n, into: &s) }
        ds.withUnsafeBufferPointer { Winograd.transformOutputGradient($0.baseAddress!, g, batch: n, into: &delta) }
        #expect(close(Oracles.innerProduct(s, ds), Oracles.innerProduct(m, delta)))

        // Filters: U = G g Gᵀ; the adjoint adds Gᵀ ∂U G.
        let w = random(4 * input[0] * 9, seed + 5), du = random(Winograd.filterLength(g), seed + 6)
        var u = [Double](repeating: 0, count: du.count), dw = [Double](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { Winograd.transformFilters($0.baseAddress!, g, into: &u) }
        du.withUnsafeBufferPointer { Winograd.accumulateFilterGradient($0.baseAddress!, g, into: &dw) }
        #expect(close(Oracles.innerProduct(u, du), Oracles.innerProduct(w, dw)))
    }
}

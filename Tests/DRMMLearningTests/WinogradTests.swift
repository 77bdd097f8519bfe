import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// Winograd's F(2×2, 3×3) against a direct loop convolution, its transforms against their
/// adjoints, and the training pass run by Winograd against the same pass run by im2col.
@Suite struct WinogradTests {
    /// `S[o, n, y, x] = Σ_{c,r,s} W[o, c, r, s] x[c, n, y + r − pad, x + s − pad]`, by loops.
    static func directConvolution(_ x: [Double], _ w: [Double], _ g: LayerGeometry, batch n: Int) -> [Double] {
        let (c, h, wd, pad, k) = (g.input[0], g.input[1], g.input[2], g.pad, g.kernel)
        let (o, ho, wo) = (g.convolved[0], g.convolved[1], g.convolved[2])
        var s = [Double](repeating: 0, count: o * n * ho * wo)
        for oi in 0..<o { for img in 0..<n { for y in 0..<ho { for xx in 0..<wo {
            var acc = 0.0
            for ci in 0..<c { for r in 0..<k { for q in 0..<k {
                let (iy, ix) = (y + r - pad, xx + q - pad)
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                acc += w[((oi * c + ci) * k + r) * k + q] * x[(ci * n + img) * h * wd + iy * wd + ix]
            } } }
            s[((oi * n + img) * ho + y) * wo + xx] = acc
        } } } }
        return s
    }

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
        for xi in 0..<16 { for oi in 0..<o { for k in 0..<t {
            var acc = 0.0
            for ci in 0..<c { acc += u[xi * o * c + oi * c + ci] * v[xi * sv + ci * t + k] }
            m[xi * sm + oi * t + k] = acc
        } } }
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
        let g = try LayerGeometry.chain(LayerSpec(channels: 4, kernel: 3, padding: padding, pool: 1), input: input, layer: 1)
        let n = 3
        let x = Support.randomImages(1, size: input.reduce(n, *), seed: UInt64(index + 1)).map { $0 - 0.5 }
        let w = Support.randomImages(1, size: 4 * input[0] * 9, seed: UInt64(index + 50)).map { 2 * $0 - 1 }
        let direct = Self.directConvolution(x, w, g, batch: n), fast = Self.winogradConvolution(x, w, g, batch: n)
        let worst = zip(direct, fast).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-12, "\(input) \(padding): worst difference \(worst)")
        #expect(direct.contains { $0 != 0 })
    }

    /// Each backward transform is the adjoint of its forward one: `⟨Fa, b⟩ = ⟨a, F*b⟩`.
    @Test(arguments: 0..<cases.count)
    func transformsHaveTheirAdjoints(index: Int) throws {
        let (input, padding) = Self.cases[index]
        let g = try LayerGeometry.chain(LayerSpec(channels: 4, kernel: 3, padding: padding, pool: 1), input: input, layer: 1)
        let n = 2
        let seed = UInt64(10 * index)
        let random = { (count: Int, s: UInt64) in Support.randomImages(1, size: count, seed: s).map { $0 - 0.5 } }
        let close = { (a: Double, b: Double) in abs(a - b) < 1e-12 * max(1, abs(a)) }

        // Input: V = transformInput(x); the adjoint places B ∂V Bᵀ back on the patches.
        let x = random(input.reduce(n, *), seed + 1), dv = random(Winograd.inputLength(g, batch: n), seed + 2)
        var v = [Double](repeating: 0, count: dv.count), dx = [Double](repeating: 7, count: x.count)
        x.withUnsafeBufferPointer { Winograd.transformInput($0.baseAddress!, g, batch: n, into: &v) }
        dv.withUnsafeBufferPointer { Winograd.transformInputGradient($0.baseAddress!, g, batch: n, into: &dx) }
        #expect(close(innerProduct(v, dv), innerProduct(x, dx)))

        // Output: S = transformOutput(M); the adjoint is Δ = A δ Aᵀ.
        let m = random(Winograd.outputLength(g, batch: n), seed + 3), ds = random(4 * n * g.convolved[1] * g.convolved[2], seed + 4)
        var s = [Double](repeating: 0, count: ds.count), delta = [Double](repeating: 0, count: m.count)
        m.withUnsafeBufferPointer { Winograd.transformOutput($0.baseAddress!, g, batch: n, into: &s) }
        ds.withUnsafeBufferPointer { Winograd.transformOutputGradient($0.baseAddress!, g, batch: n, into: &delta) }
        #expect(close(innerProduct(s, ds), innerProduct(m, delta)))

        // Filters: U = G g Gᵀ; the adjoint adds Gᵀ ∂U G.
        let w = random(4 * input[0] * 9, seed + 5), du = random(Winograd.filterLength(g), seed + 6)
        var u = [Double](repeating: 0, count: du.count), dw = [Double](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { Winograd.transformFilters($0.baseAddress!, g, into: &u) }
        du.withUnsafeBufferPointer { Winograd.accumulateFilterGradient($0.baseAddress!, g, into: &dw) }
        #expect(close(innerProduct(u, du), innerProduct(w, dw)))
    }

    /// A 3-level model with 3×3 levels of every padding, odd sides and pooling: the pass
    /// by Winograd and the pass by im2col give the same loss terms, routes and gradient, with and
    /// without batch normalisation.
    @Test(arguments: [Architecture.Normalisation.none, .batch, .batchFolded])
    func trainingPassMatchesIm2col(normalisation: Architecture.Normalisation) throws {
        let plain = Architecture(name: "winograd-toy", inputShape: [1, 9, 9],
                                 layers: [LayerSpec(channels: 3, kernel: 3, padding: .full, pool: 1),    // 11×11
                                          LayerSpec(channels: 4, kernel: 3, padding: .valid, pool: 3),   // 9×9 → 3×3
                                          LayerSpec(channels: 5, kernel: 3, padding: .same, pool: 1)],   // 3×3
                                 classes: 3, top: .meanPool)
        let a = normalisation.isBatch ? plain.batchNormalised(folded: normalisation == .batchFolded) : plain
        let net = try Support.randomNetwork(a, seed: 7)
        let n = 5
        let images = Support.randomImages(n, size: 81, seed: 8)
        let labels = [0, -1, 2, 1, -1]
        let objective = Objective(crossEntropy: 1, reconstruction: 0.7, classPosterior: 0.3, nonnegativity: 0.5)
        func run(_ algorithm: ConvolutionAlgorithm) -> (LossTerms, [Double], [[Int32]]) {
            let pass = BatchPass(network: net, convolution: algorithm)
            #expect(pass.winograd == (algorithm == .winograd ? [true, true, true] : [false, false, false]))
            var grad = [Double](repeating: 0, count: net.parameters.count)
            let terms = net.parameters.withUnsafeBufferPointer { p in images.withUnsafeBufferPointer { x in
                grad.withUnsafeMutableBufferPointer { g in
                    pass.run(parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n, objective: objective,
                             labelledTotal: 3, total: n, gradient: g.baseAddress!)
                }
            } }
            return (terms, grad, pass.routes)
        }
        let (t1, g1, r1) = run(.im2col), (t2, g2, r2) = run(.winograd)
        #expect(r1 == r2)
        #expect(t1.reconstruction > 0 && t1.nonnegativity > 0 && t1.crossEntropy > 0)
        for (a, b) in [(t1.total, t2.total), (t1.crossEntropy, t2.crossEntropy), (t1.reconstruction, t2.reconstruction),
                       (t1.nonnegativity, t2.nonnegativity), (t1.classPosterior, t2.classPosterior)] {
            #expect(abs(a - b) < 1e-12 * max(1, abs(a)))
        }
        let worst = zip(g1, g2).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
        #expect(worst < 1e-11, "worst relative gradient difference \(worst)")
        #expect(g1.contains { $0 != 0 })
    }

    /// A configuration written before the choice existed decodes as im2col (what such runs
    /// used), so that `--resume` continues them bit-identically; new ones round-trip.
    @Test func configurationsWithoutTheChoiceDecodeAsIm2col() throws {
        let config = TrainingConfiguration(mode: .semi, labels: 100, epochs: 3, seed: 9, workers: 1)
        #expect(config.convolution == .winograd)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: data) == config)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.removeValue(forKey: "convolution") != nil)
        let old = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        var expected = config
        expected.convolution = .im2col
        #expect(old == expected)
    }
}

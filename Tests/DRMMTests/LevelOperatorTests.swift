import DRMM
import DRMMTestSupport
import Foundation
import NumericalCore
import Testing

/// The level operators and their kernels: the Float fast paths against the generic ones,
/// every top-down operator against the adjoint of its bottom-up one, the convolution against
/// loops, and soft pooling's limit at zero temperature.
@Suite struct LevelOperatorTests {
    /// The Float pooling kernels (eight windows at a time, 2×2 and 1×1) equal the generic one in
    /// Double: values, routes (ties to the first position, on a coarse grid with many ties) and
    /// the ON count, for widths with and without a remainder of eight windows.
    @Test(arguments: [16, 22, 6], [1, 2])
    func floatPoolingMatchesGenericPooling(width: Int, pool: Int) throws {
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 3, kernel: 1, padding: .valid, pool: pool), input: [2, 4, width], layer: 1)
        let n = 2
        let count = 3 * n * 4 * width, units = 3 * n * (4 / pool) * (width / pool)
        // ties on purpose
        let s = Oracles.uniformValues(count, seed: UInt64(width)).map { (($0 * 8).rounded() - 4) / 4 }
        let bias = [0.25, -0.5, 0.0]
        func run<T: BinaryFloatingPoint>(_: T.Type) -> ([Double], [Int32], Int) {
            let st = s.map { T($0) }, bt = bias.map { T($0) }
            var out = [T](repeating: 9, count: units)
            var route = [Int32](repeating: 9, count: units)
            let on = Kernels.biasReLUPool(st, bias: bt, g, batch: n, output: &out, route: &route)
            return (out.map { Double($0) }, route, on)
        }
        let (a, b) = (run(Float.self), run(Double.self))
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.2 == b.2 && a.2 > 0 && a.2 < units)
    }

    @Test(arguments: Padding.allCases)
    func kernelsAreAdjointPairs(padding: Padding) throws {
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 3, kernel: 3, padding: padding, pool: 2), input: [2, 8, 8], layer: 1)
        let n = 3
        let rows = 2 * 9, cols = n * g.convolved[1] * g.convolved[2]
        let x = Oracles.uniformValues(2 * n * 64, seed: 1)
        let y = Oracles.uniformValues(rows * cols, seed: 2)
        var colsX = [Double](repeating: 0, count: rows * cols), imY = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            colsX.withUnsafeMutableBufferPointer { Kernels.im2col(xp.baseAddress!, g, batch: n, into: $0.baseAddress!) }
        }
        y.withUnsafeBufferPointer { yp in
            imY.withUnsafeMutableBufferPointer { Kernels.col2im(yp.baseAddress!, g, batch: n, into: $0.baseAddress!) }
        }
        let lhs = Oracles.innerProduct(colsX, y), rhs = Oracles.innerProduct(x, imY)
        #expect(abs(lhs - rhs) < 1e-9 * max(1, abs(lhs)))

        let units = 3 * n * g.pooled[1] * g.pooled[2], full = 3 * cols
        let s = Oracles.uniformValues(full, seed: 3).map { $0 - 0.5 }
        var out = [Double](repeating: 0, count: units)
        var route = [Int32](repeating: 0, count: units)
        let bias = [0.1, -0.2, 0.0]
        s.withUnsafeBufferPointer { sp in
            bias.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { op in
                    route.withUnsafeMutableBufferPointer { rp in
                        _ = Kernels.biasReLUPool(
                            sp.baseAddress!, bias: b.baseAddress!, g, batch: n, output: op.baseAddress!,
                            route: rp.baseAddress!)
                    }
                }
            }
        }
        // The pooled value is the window max + bias where ON, and every OFF unit is ≤ 0.
        for plane in 0..<(3 * n) {
            for u in 0..<(g.pooled[1] * g.pooled[2]) {
                let (i, j) = (u / g.pooled[2], u % g.pooled[2])
                var m = -Double.infinity
                let (ho, wo) = (g.convolved[1], g.convolved[2])
                for di in 0..<2 {
                    for dj in 0..<2 {
                        let q: Int = plane * ho * wo + (2 * i + di) * wo + 2 * j + dj
                        m = max(m, s[q])
                    }
                }
                let v = m + bias[plane / n]
                let idx = plane * g.pooled[1] * g.pooled[2] + u
                #expect(out[idx] == max(0, v))
                #expect((route[idx] >= 0) == (v > 0))
            }
        }
        let z = Oracles.uniformValues(units, seed: 4)
        var scattered = [Double](repeating: 0, count: full), gathered = [Double](repeating: 0, count: units)
        route.withUnsafeBufferPointer { r in
            z.withUnsafeBufferPointer { zp in
                scattered.withUnsafeMutableBufferPointer {
                    Kernels.scatterRouted(zp.baseAddress!, g, batch: n, route: r.baseAddress!, into: $0.baseAddress!)
                }
            }
            s.withUnsafeBufferPointer { sp in
                gathered.withUnsafeMutableBufferPointer {
                    Kernels.gatherRouted(sp.baseAddress!, g, batch: n, route: r.baseAddress!, into: $0.baseAddress!)
                }
            }
        }
        let scatterSide = Oracles.innerProduct(scattered, s), gatherSide = Oracles.innerProduct(z, gathered)
        #expect(abs(scatterSide - gatherSide) < 1e-12)
    }

    /// The convolution of the level operators equals the loops, and the transposed convolution
    /// is its adjoint, `⟨W ⋆ x, y⟩ = ⟨x, Wᵀ ⋆ y⟩`, for every padding and a batch.
    @Test(arguments: Padding.allCases)
    func convolutionEqualsLoopsAndHasItsAdjoint(padding: Padding) throws {
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 4, kernel: 3, padding: padding, pool: 1), input: [2, 7, 6], layer: 1)
        let n = 3
        let x = Oracles.uniformValues(n * 2 * 7 * 6, seed: 21).map { $0 - 0.5 }
        let w = Oracles.uniformValues(4 * 2 * 9, seed: 22).map { $0 - 0.5 }
        let y = Oracles.uniformValues(n * g.convolved.reduce(1, *), seed: 23)
        var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: n))
        var s = [Double](repeating: 0, count: y.count), back = [Double](repeating: 0, count: x.count)
        LevelOperators.convolve(x, filters: w, g, batch: n, columns: &columns, into: &s)
        LevelOperators.transposedConvolve(y, filters: w, g, batch: n, columns: &columns, into: &back)
        let loops = Oracles.directConvolution(x, w, g, batch: n)
        #expect(zip(s, loops).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(Oracles.innerProduct(s, y) - Oracles.innerProduct(x, back)) < 1e-10)
    }

    /// Soft pooling at a small temperature is max pooling: the soft ReLU of the log-sum-exp is
    /// the ReLU of the max to within `τ ln(2p²)`, `q(a = ON)` is the switch and the expected
    /// mask is one at the route, wherever the response is clear of zero and of its runner-up.
    @Test(arguments: [1, 2, 3])
    func softPoolingAtZeroTemperatureIsMaxPooling(pool: Int) throws {
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 3, kernel: 1, padding: .valid, pool: pool), input: [1, 6, 6], layer: 1)
        let n = 2, tau = 1e-3
        let s = Oracles.uniformValues(n * g.convolved.reduce(1, *), seed: 31).map { 2 * $0 - 1 }
        let bias = [0.2, -0.3, 0.0]
        let units = n * g.pooled.reduce(1, *)
        var hard = [Double](repeating: 0, count: units), soft = hard, on = hard
        var routes = [Int32](repeating: 0, count: units), mask = [Double](repeating: 0, count: s.count)
        MaxPooling<Double>().pool(s, bias: bias, g, batch: n, planes: 0..<(3 * n), output: &hard, selection: &routes)
        on.withUnsafeMutableBufferPointer { q in
            mask.withUnsafeMutableBufferPointer { m in
                _ = SoftPooling(temperature: tau).pool(
                    s, bias: bias, g, batch: n, planes: 0..<(3 * n), output: &soft,
                    selection: SoftSelection(switchPosterior: q.baseAddress!, mask: m.baseAddress!))
            }
        }
        let (ho, wo, p) = (g.convolved[1], g.convolved[2], g.pool)
        var checked = 0
        for u in 0..<units {
            #expect(abs(soft[u] - hard[u]) <= tau * log(2 * Double(p * p)) + 1e-12, "unit \(u)")
            let plane = u / (g.pooled[1] * g.pooled[2]), (i, j) = ((u / g.pooled[2]) % g.pooled[1], u % g.pooled[2])
            let window = (0..<(p * p)).map { s[plane * ho * wo + (i * p + $0 / p) * wo + j * p + $0 % p] }
            let sorted = window.sorted(by: >), response = sorted[0] + bias[plane / n]
            guard abs(response) > 0.05, p == 1 || sorted[0] - sorted[1] > 0.05 else { continue }
            checked += 1
            #expect((on[u] > 0.5) == (routes[u] >= 0) && min(on[u], 1 - on[u]) < 1e-9)
            let q = Int(routes[u] >= 0 ? routes[u] : ~routes[u])
            #expect(abs(mask[plane * ho * wo + q] - on[u]) < 1e-9)
        }
        #expect(checked > units / 2)
    }

    /// The readouts and their adjoints: `⟨features(x), f⟩ = ⟨x, featuresAdjoint(f)⟩` and
    /// `⟨render(w), m⟩ = ⟨w, renderAdjoint(m)⟩`, and a mean-pool feature is the map's mean.
    @Test(arguments: Readout.allCases)
    func readoutsHaveTheirAdjoints(readout: Readout) throws {
        let top = [3, 2, 4], n = 2, d = readout.featureLength(top: top)
        let x = Oracles.uniformValues(n * 24, seed: 41), f = Oracles.uniformValues(n * d, seed: 42)
        var features = [Double](repeating: 0, count: n * d), spread = [Double](repeating: 0, count: n * 24)
        readout.features(x, top: top, batch: n, into: &features)
        readout.featuresAdjoint(f, top: top, batch: n, into: &spread)
        #expect(abs(Oracles.innerProduct(features, f) - Oracles.innerProduct(x, spread)) < 1e-12)
        if readout == .meanPool {
            #expect(abs(features[1 * d + 2] - (0..<8).map { x[(2 * n + 1) * 8 + $0] }.reduce(0, +) / 8) < 1e-12)
        }
        let w = Oracles.uniformValues(d, seed: 43)
        var rendered = [Double](repeating: 0, count: n * 24), dw = [Double](repeating: 0, count: d)
        readout.render(w, image: 1, top: top, batch: n, into: &rendered)
        readout.renderAdjoint(x, image: 1, top: top, batch: n, into: &dw)
        #expect(abs(Oracles.innerProduct(rendered, x) - Oracles.innerProduct(w, dw)) < 1e-12)
        #expect(rendered[0..<8].allSatisfy { $0 == 0 })  // image 0 is untouched
    }

    /// The mask unpooling with the one-hot masks of a set of routes is the routed unpooling.
    @Test func oneHotMasksUnpoolAsRoutes() throws {
        let g = try LayerGeometry.chain(
            LayerSpec(channels: 2, kernel: 1, padding: .valid, pool: 2), input: [1, 4, 6], layer: 1)
        let n = 2, units = n * g.pooled.reduce(1, *), full = n * g.convolved.reduce(1, *)
        let s = Oracles.uniformValues(full, seed: 51).map { $0 - 0.4 }, z = Oracles.uniformValues(units, seed: 52)
        var pooled = [Double](repeating: 0, count: units), routes = [Int32](repeating: 0, count: units)
        MaxPooling<Double>().pool(
            s, bias: [0, 0.1], g, batch: n, planes: 0..<(2 * n), output: &pooled, selection: &routes)
        var mask = [Double](repeating: 0, count: full)
        let per = g.convolved[1] * g.convolved[2], pooledPer = g.pooled[1] * g.pooled[2]
        for u in 0..<units where routes[u] >= 0 { mask[(u / pooledPer) * per + Int(routes[u])] = 1 }
        var routed = [Double](repeating: 0, count: full), masked = routed
        MaxPooling<Double>().unpool(z, g, batch: n, selection: &routes, into: &routed)
        LevelOperators.unpool(z, g, batch: n, mask: mask, into: &masked)
        #expect(routed == masked && routes.contains { $0 < 0 } && routes.contains { $0 >= 0 })
    }
}

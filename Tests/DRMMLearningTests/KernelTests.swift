import DRMM
import NumericalCore
import Testing
@testable import DRMMLearning

func innerProduct(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

@Suite struct KernelTests {
    /// `⟨im2col x, y⟩ = ⟨x, col2im y⟩` and `⟨scatter z, s⟩ = ⟨z, gather s⟩` for every padding.
    /// The Float pooling kernels (eight windows at a time, 2×2 and 1×1) equal the generic one in
    /// Double: values, routes (ties to the first position, on a coarse grid with many ties) and
    /// the ON count, for widths with and without a remainder of eight windows.
    @Test(arguments: [16, 22, 6], [1, 2])
    func floatPoolingMatchesGenericPooling(width: Int, pool: Int) throws {
        let g = try LayerGeometry.chain(LayerSpec(channels: 3, kernel: 1, padding: .valid, pool: pool), input: [2, 4, width], layer: 1)
        let n = 2
        let count = 3 * n * 4 * width, units = 3 * n * (4 / pool) * (width / pool)
        let s = Support.randomImages(1, size: count, seed: UInt64(width)).map { (($0 * 8).rounded() - 4) / 4 }   // ties on purpose
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
        let g = try LayerGeometry.chain(LayerSpec(channels: 3, kernel: 3, padding: padding, pool: 2), input: [2, 8, 8], layer: 1)
        let n = 3
        let rows = 2 * 9, cols = n * g.convolved[1] * g.convolved[2]
        let x = Support.randomImages(1, size: 2 * n * 64, seed: 1)
        let y = Support.randomImages(1, size: rows * cols, seed: 2)
        var colsX = [Double](repeating: 0, count: rows * cols), imY = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in colsX.withUnsafeMutableBufferPointer { Kernels.im2col(xp.baseAddress!, g, batch: n, into: $0.baseAddress!) } }
        y.withUnsafeBufferPointer { yp in imY.withUnsafeMutableBufferPointer { Kernels.col2im(yp.baseAddress!, g, batch: n, into: $0.baseAddress!) } }
        let lhs = innerProduct(colsX, y), rhs = innerProduct(x, imY)
        #expect(abs(lhs - rhs) < 1e-9 * max(1, abs(lhs)))

        let units = 3 * n * g.pooled[1] * g.pooled[2], full = 3 * cols
        let s = Support.randomImages(1, size: full, seed: 3).map { $0 - 0.5 }
        var out = [Double](repeating: 0, count: units)
        var route = [Int32](repeating: 0, count: units)
        let bias = [0.1, -0.2, 0.0]
        s.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { op in
            route.withUnsafeMutableBufferPointer { rp in
                _ = Kernels.biasReLUPool(sp.baseAddress!, bias: b.baseAddress!, g, batch: n, output: op.baseAddress!, route: rp.baseAddress!)
            }
        } } }
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
        let z = Support.randomImages(1, size: units, seed: 4)
        var scattered = [Double](repeating: 0, count: full), gathered = [Double](repeating: 0, count: units)
        route.withUnsafeBufferPointer { r in
            z.withUnsafeBufferPointer { zp in scattered.withUnsafeMutableBufferPointer {
                Kernels.scatterRouted(zp.baseAddress!, g, batch: n, route: r.baseAddress!, into: $0.baseAddress!)
            } }
            s.withUnsafeBufferPointer { sp in gathered.withUnsafeMutableBufferPointer {
                Kernels.gatherRouted(sp.baseAddress!, g, batch: n, route: r.baseAddress!, into: $0.baseAddress!)
            } }
        }
        let scatterSide = innerProduct(scattered, s), gatherSide = innerProduct(z, gathered)
        #expect(abs(scatterSide - gatherSide) < 1e-12)
    }

    /// The training pass's class scores equal the DRMM module's convnet (an independent
    /// implementation of the same bottom-up max-sum) on the same weights.
    @Test(arguments: [Architecture.Top.dense, .meanPool])
    func scoresEqualTheConvNetForwardPass(top: Architecture.Top) throws {
        let a = Support.toy(top: top)
        let net = try Support.randomNetwork(a, seed: 11).converted(to: Float.self)
        var cn = try ConvNet(inputShape: a.inputShape, layers: a.layers, classes: a.classes, meanPoolTop: top == .meanPool, seed: 1)
        for l in cn.layers.indices {
            cn.layers[l].filters = Array(net.parameters[net.layout.filters[l]])
            cn.layers[l].bias = Array(net.parameters[net.layout.biases[l]])
        }
        let w = Array(net.parameters[net.layout.classTemplates]), b = Array(net.parameters[net.layout.classBias])
        cn.classifier = top == .meanPool ? .meanPoolDense(weights: w, bias: b) : .dense(weights: w, bias: b)
        let n = 5
        let images = Support.randomImages(n, size: 64, seed: 12).map(Float.init)
        let reference = try cn.forward(images, count: n)
        let ours = try Evaluation.classify(net, ImageSet(shape: a.inputShape, pixels: images, labels: [Int](repeating: 0, count: n)), workers: 2)
        let argmax = (0..<n).map { i in (0..<a.classes).max { reference.scores[i * a.classes + $0] < reference.scores[i * a.classes + $1] }! }
        #expect(ours.predictions == argmax)
    }
}

import COpenBLAS
import Dispatch

/// The DCN view of a DRMM (spec §3.9–3.10): a plain Float32 convnet — convolution filters and
/// biases, ReLU, max-pool, and a linear classifier — whose forward pass is the DRMM's
/// bottom-up max-sum.
///
/// The forward pass is batched and allocation-free per pixel: activations stay in one
/// channel-major buffer `[C, N, H, W]` across the batch, so every convolution is a single
/// im2col and one OpenBLAS `sgemm` with `N·H'·W'` columns; im2col and pooling are split over
/// both cores. Pool argmaxes and switches are recorded on the way (the MAP nuisances).
public struct ConvNet: Sendable {
    public struct Layer: Sendable {
        /// `[O, C, K, K]`, row-major.
        public var filters: [Float]
        public var bias: [Float]
        public let geometry: LayerGeometry
    }

    /// How class scores are read off the top feature map.
    public enum Classifier: Sendable {
        /// `score_c = ⟨μ_c, I⁽ᴸ⁾⟩ + b_c` with `weights[c]` over the whole `[C, H, W]` map.
        case dense(weights: [Float], bias: [Float])
        /// Global mean-pool over `H × W`, then `score_c = Σ_k weights[c, k]·mean_k + b_c`.
        case meanPoolDense(weights: [Float], bias: [Float])
    }

    public let inputShape: [Int]
    public var layers: [Layer]
    /// Worker threads of the forward pass (im2col, GEMM column blocks, pooling). Each GEMM block
    /// calls OpenBLAS, so run with one BLAS thread (`OPENBLAS_NUM_THREADS=1`) when this is > 1.
    public var workers = 2
    public var classifier: Classifier
    public let classes: Int

    /// Builds a convnet with Xavier-uniform filters and zero biases (for benchmarks and initialisation).
    public init(inputShape: [Int], layers specs: [LayerSpec], classes: Int, meanPoolTop: Bool, seed: UInt64) throws {
        let model = try DeepRenderingMixtureModel(inputShape: inputShape, layers: specs, classes: classes)
        var state = seed | 1
        func uniform() -> Float {   // xorshift64*, enough for initial weights
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Float(Double((state &* 2685821657736338717) >> 11) / Double(1 << 53))
        }
        layers = model.geometry.map { g in
            let fanIn = g.input[0] * g.kernel * g.kernel, fanOut = g.convolved[0] * g.kernel * g.kernel
            let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return Layer(filters: (0..<(fanOut * g.input[0])).map { _ in (2 * uniform() - 1) * limit },
                         bias: [Float](repeating: 0, count: g.convolved[0]), geometry: g)
        }
        let top = model.topShape
        let d = meanPoolTop ? top[0] : top.reduce(1, *)
        let limit = Float((6.0 / Double(d + classes)).squareRoot())
        let w = (0..<(classes * d)).map { _ in (2 * uniform() - 1) * limit }
        classifier = meanPoolTop ? .meanPoolDense(weights: w, bias: [Float](repeating: 0, count: classes))
                                 : .dense(weights: w, bias: [Float](repeating: 0, count: classes))
        self.inputShape = inputShape
        self.classes = classes
    }

    /// Exports a DRMM as a convnet: filters `W⁽ˡ⁾`, the biases `β` (convnet bias plus the switch
    /// prior's log-odds, ``DeepRenderingMixtureModel/unitBias(level:)``), and the class templates
    /// as the dense classifier with bias `σ² ln π_c` (scores are then `σ²·` the DRMM's
    /// posterior scores, with the same argmax).
    public init(exporting model: DeepRenderingMixtureModel) throws {
        try model.validate()
        inputShape = model.inputShape
        layers = model.geometry.enumerated().map { l, g in
            Layer(filters: model.filters[l].elements.map(Float.init), bias: model.unitBias(level: l).map(Float.init), geometry: g)
        }
        classifier = .dense(weights: model.classTemplates.flatMap { $0.map(Float.init) },
                            bias: model.classPrior.map { Float(model.noiseVariance * Foundation.log($0)) })
        classes = model.classCount
    }

    /// Floating-point operations of one image's forward pass (multiply–adds count two).
    public var flopsPerImage: Double {
        var f = 0.0
        for l in layers {
            let g = l.geometry
            f += 2 * Double(g.convolved.reduce(1, *)) * Double(g.input[0] * g.kernel * g.kernel)
        }
        let top = layers[layers.count - 1].geometry.pooled
        switch classifier {
        case .dense: f += 2 * Double(classes * top.reduce(1, *))
        case .meanPoolDense: f += Double(top.reduce(1, *)) + 2 * Double(classes * top[0])
        }
        return f
    }

    /// The output of a batched forward pass.
    public struct Output: Sendable {
        /// `[N, classes]` row-major.
        public var scores: [Float]
        /// Per level, per (channel, image, pooled unit) in `[C, N, H, W]` order: the pool argmax.
        public var translations: [[UInt8]]
        /// Per level, same order: the switch (pooled value > 0).
        public var switches: [[Bool]]
    }

    /// Reusable buffers for ``forward(_:count:workspace:)``; one per thread of callers.
    public final class Workspace {
        var columns: [Float] = []
        var activations: [Float] = []
        var next: [Float] = []
        var pooled: [Float] = []
        /// How many leading entries of `activations` are live.
        var activationCount = 0
        public init() {}
    }

    /// The forward pass of `count` images, `images` in NCHW order.
    public func forward(_ images: [Float], count n: Int, workspace ws: Workspace = Workspace()) throws -> Output {
        let d = inputShape.reduce(1, *)
        guard images.count == n * d else {
            throw DRMMError.invalidInput("batch has \(images.count) values; \(n) images of shape \(inputShape) need \(n * d)")
        }
        // NCHW → CNHW (a no-op copy for one channel).
        let (c0, hw0) = (inputShape[0], inputShape[1] * inputShape[2])
        // Both activation buffers are sized once for the largest map of the network.
        let largest = n * max(d, layers.map { $0.geometry.pooled.reduce(1, *) }.max() ?? 0)
        if ws.activations.count < largest { ws.activations = [Float](repeating: 0, count: largest) }
        if ws.pooled.count < largest { ws.pooled = [Float](repeating: 0, count: largest) }
        ws.activationCount = n * d
        images.withUnsafeBufferPointer { src in
            ws.activations.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { for c in 0..<c0 { for p in 0..<hw0 { dst[(c * n + i) * hw0 + p] = src[(i * c0 + c) * hw0 + p] } } }
            }
        }
        var translations: [[UInt8]] = [], switches: [[Bool]] = []
        for layer in layers {
            let (t, a) = convReluPool(layer, batch: n, ws)
            translations.append(t); switches.append(a)
        }
        return Output(scores: classify(batch: n, features: Array(ws.activations.prefix(ws.activationCount))), translations: translations, switches: switches)
    }

    private func convReluPool(_ layer: Layer, batch n: Int, _ ws: Workspace) -> ([UInt8], [Bool]) {
        let g = layer.geometry
        let c = g.input[0]
        let (o, ho, wo) = (g.convolved[0], g.convolved[1], g.convolved[2])
        let (k, p) = (g.kernel, g.pool)
        let rows = c * k * k, cols = n * ho * wo
        if ws.columns.count < rows * cols { ws.columns = [Float](repeating: 0, count: rows * cols) }
        // im2col over the batch (the kernel the training pass uses), rows split across the cores.
        ws.activations.withUnsafeBufferPointer { xs in
            ws.columns.withUnsafeMutableBufferPointer { colsBuf in
                let xS = Shared(xs.baseAddress!), outS = Shared(colsBuf.baseAddress!)
                let chunks = min(workers, rows)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    Kernels.im2col(UnsafePointer(xS.pointer), g, batch: n, rows: (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks), into: outS.pointer)
                }
            }
        }
        // Y[O, N·Ho·Wo] = W · cols (the bias is added while pooling), the columns split between
        // the workers (each a single-threaded sgemm on its part: no oversubscription of the cores).
        if ws.next.count < o * cols { ws.next = [Float](repeating: 0, count: o * cols) }
        ws.next.withUnsafeMutableBufferPointer { y in
            layer.filters.withUnsafeBufferPointer { wf in
                ws.columns.withUnsafeBufferPointer { cb in
                    let yS = Shared(y.baseAddress!), wS = Shared(wf.baseAddress!), cS = Shared(cb.baseAddress!)
                    let parts = workers
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let lo = cols * part / parts, hi = cols * (part + 1) / parts
                        guard hi > lo else { return }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(hi - lo), Int32(rows),
                                    1, wS.pointer, Int32(rows), cS.pointer + lo, Int32(cols), 0, yS.pointer + lo, Int32(cols))
                    }
                }
            }
        }
        // Bias + ReLU + max-pool with argmax (max(y) + b = max(y + b)), planes split across the cores.
        let bias = layer.bias
        let (hp, wp) = (ho / p, wo / p)
        let units = o * n * hp * wp
        var t = [UInt8](repeating: 0, count: units), a = [Bool](repeating: false, count: units)
        ws.next.withUnsafeBufferPointer { ys in
            ws.pooled.withUnsafeMutableBufferPointer { pb in
                t.withUnsafeMutableBufferPointer { tb in
                    a.withUnsafeMutableBufferPointer { ab in
                        let yS = Shared(ys.baseAddress!), outS = Shared(pb.baseAddress!), tS = Shared(tb.baseAddress!), aS = Shared(ab.baseAddress!)
                        DispatchQueue.concurrentPerform(iterations: min(workers, o * n)) { chunk in
                            let y = yS.pointer, out = outS.pointer, tp = tS.pointer, ap = aS.pointer
                            for plane in stride(from: chunk, to: o * n, by: min(workers, o * n)) {
                                let src = y + plane * ho * wo
                                let b = bias[plane / n]
                                let base = plane * hp * wp
                                let (o_, t_, a_) = (out + base, tp + base, ap + base)
                                switch p {
                                case 1:   // no pooling: bias + ReLU
                                    for u in 0..<(hp * wp) {
                                        let v = src[u] + b
                                        a_[u] = v > 0; o_[u] = v > 0 ? v : 0; t_[u] = 0
                                    }
                                case 2:   // 2×2 windows, ties to the first position
                                    for i in 0..<hp {
                                        let r0 = src + 2 * i * wo, r1 = r0 + wo
                                        for j in 0..<wp {
                                            var best = r0[2 * j], bt: UInt8 = 0
                                            if r0[2 * j + 1] > best { best = r0[2 * j + 1]; bt = 1 }
                                            if r1[2 * j] > best { best = r1[2 * j]; bt = 2 }
                                            if r1[2 * j + 1] > best { best = r1[2 * j + 1]; bt = 3 }
                                            best += b
                                            let u = i * wp + j
                                            t_[u] = bt; a_[u] = best > 0; o_[u] = best > 0 ? best : 0
                                        }
                                    }
                                default:
                                    for i in 0..<hp { for j in 0..<wp {
                                        var best = -Float.infinity, bt = 0
                                        for di in 0..<p { for dj in 0..<p {
                                            let v = src[(i * p + di) * wo + j * p + dj]
                                            if v > best { best = v; bt = di * p + dj }
                                        } }
                                        best += b
                                        let u = i * wp + j
                                        t_[u] = UInt8(bt); a_[u] = best > 0; o_[u] = best > 0 ? best : 0
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The pooled map becomes the next level's input; the old input buffer is reused next time.
        swap(&ws.activations, &ws.pooled)
        ws.activationCount = units
        return (t, a)
    }

    private func classify(batch n: Int, features f: [Float]) -> [Float] {
        let top = layers[layers.count - 1].geometry.pooled
        let (ct, hw) = (top[0], top[1] * top[2])
        var scores = [Float](repeating: 0, count: n * classes)
        switch classifier {
        case let .dense(weights, bias):
            // Back to [N, C·H·W], then scores = F · Wᵀ (sgemm).
            var nd = [Float](repeating: 0, count: n * ct * hw)
            for c in 0..<ct { for i in 0..<n { for q in 0..<hw { nd[(i * ct + c) * hw + q] = f[(c * n + i) * hw + q] } } }
            for i in 0..<n { for c in 0..<classes { scores[i * classes + c] = bias[c] } }
            nd.withUnsafeBufferPointer { a in weights.withUnsafeBufferPointer { w in scores.withUnsafeMutableBufferPointer { s in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(classes), Int32(ct * hw),
                            1, a.baseAddress, Int32(ct * hw), w.baseAddress, Int32(ct * hw), 1, s.baseAddress, Int32(classes))
            } } }
        case let .meanPoolDense(weights, bias):
            for i in 0..<n {
                for cl in 0..<classes {
                    var s = bias[cl]
                    for c in 0..<ct {
                        var m: Float = 0
                        for q in 0..<hw { m += f[(c * n + i) * hw + q] }
                        s += weights[cl * ct + c] * m / Float(hw)
                    }
                    scores[i * classes + cl] = s
                }
            }
        }
        return scores
    }
}

import Foundation

/// A raw pointer handed to the worker closures of `concurrentPerform`; each worker writes a
/// disjoint part of the buffer, which is what makes the sharing safe.
struct Shared<P>: @unchecked Sendable {
    let pointer: P
    init(_ pointer: P) { self.pointer = pointer }
}

extension DeepRenderingMixtureModel {
    /// Imports a convnet's weights as a discriminatively relaxed DRMM (spec §3.9): the filters
    /// become the rendering filters, each level's mean bias becomes its switch prior
    /// (`π_ON = 1/(1 + e^{−b̄})`) and the rest stays as free per-channel biases, the classifier
    /// becomes the class templates (a mean-pool top spreads each weight evenly over the map,
    /// `μ_c[k, i, j] = w[c, k] / (H·W)`), and the class biases become the prior
    /// `π_c ∝ exp(b_c)` (σ² = 1), which leaves every score difference unchanged.
    public init(importing net: ConvNet) throws {
        try self.init(inputShape: net.inputShape, layers: net.layers.map { l in
            LayerSpec(channels: l.geometry.convolved[0], kernel: l.geometry.kernel,
                      padding: l.geometry.pad == 0 ? .valid : (l.geometry.pad == l.geometry.kernel - 1 ? .full : .same),
                      pool: l.geometry.pool, switchPrior: Self.switchPrior(relaxedBiases: l.bias.map(Double.init)))
        }, classes: net.classes, noiseVariance: 1)
        for (l, layer) in net.layers.enumerated() {
            filters[l] = try Tensor(shape: filters[l].shape, elements: layer.filters.map(Double.init))
            setUnitBias(level: l, to: layer.bias.map(Double.init))
        }
        let top = topShape
        let bias: [Float]
        switch net.classifier {
        case let .dense(w, b):
            let d = top.reduce(1, *)
            classTemplates = (0..<net.classes).map { c in (0..<d).map { Double(w[c * d + $0]) } }
            bias = b
        case let .meanPoolDense(w, b):
            let hw = top[1] * top[2]
            classTemplates = (0..<net.classes).map { c in (0..<(top[0] * hw)).map { Double(w[c * top[0] + $0 / hw]) / Double(hw) } }
            bias = b
        }
        classPrior = Self.classPrior(relaxedBiases: bias.map(Double.init))
    }
}

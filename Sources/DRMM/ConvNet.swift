import Dispatch
import NumericalCore

/// The DCN view of a DRMM (spec §3.9–3.10): a plain Float32 convnet — convolution filters and
/// biases, ReLU, max-pool, and a linear classifier — whose forward pass is the DRMM's
/// bottom-up max-sum.
///
/// The forward pass is batched and allocation-free per pixel: activations stay in one
/// channel-major buffer `[C, N, H, W]` across the batch, so every convolution is a single
/// im2col and one OpenBLAS `sgemm` with `N·H'·W'` columns; im2col and pooling are split over
/// both cores. Pool argmaxes and switches are recorded on the way (the MAP nuisances).
public struct ConvNet: Sendable {
    /// One Conv → ReLU → MaxPool level: filters, biases and shapes.
    public struct Layer: Sendable {
        /// `[O, C, K, K]`, row-major.
        public var filters: [Float]
        /// One bias per output channel, added before the ReLU.
        public var bias: [Float]
        /// The level's input, convolution and pooled shapes.
        public let geometry: LayerGeometry

        /// A level with `[O, C, K, K]` filters and one bias per output channel.
        public init(filters: [Float], bias: [Float], geometry: LayerGeometry) {
            self.filters = filters
            self.bias = bias
            self.geometry = geometry
        }
    }

    /// How class scores are read off the top feature map.
    public enum Classifier: Sendable {
        /// `score_c = ⟨μ_c, I⁽ᴸ⁾⟩ + b_c` with `weights[c]` over the whole `[C, H, W]` map.
        case dense(weights: [Float], bias: [Float])
        /// Global mean-pool over `H × W`, then `score_c = Σ_k weights[c, k]·mean_k + b_c`.
        case meanPoolDense(weights: [Float], bias: [Float])

        /// How the scores read the top map.
        public var readout: Readout {
            switch self {
            case .dense: return .dense
            case .meanPoolDense: return .meanPool
            }
        }

        /// The weights `[classes, d]` and the class biases.
        public var parameters: (weights: [Float], bias: [Float]) {
            switch self {
            case let .dense(w, b), let .meanPoolDense(w, b): return (w, b)
            }
        }
    }

    /// `[C, H, W]` of an image.
    public let inputShape: [Int]
    /// The levels, bottom first.
    public var layers: [Layer]
    /// Worker threads of the forward pass (im2col, GEMM column blocks, pooling). Each GEMM block
    /// calls OpenBLAS, so run with one BLAS thread (`OPENBLAS_NUM_THREADS=1`) when this is > 1.
    public var workers = 2
    /// How the class scores read the top map.
    public var classifier: Classifier
    /// The number of classes.
    public let classes: Int

    /// Builds a convnet with Xavier-uniform filters and zero biases (for benchmarks and initialisation).
    public init(inputShape: [Int], layers specs: [LayerSpec], classes: Int, meanPoolTop: Bool, seed: UInt64) throws {
        let model = try DeepRenderingMixtureModel(inputShape: inputShape, layers: specs, classes: classes)
        var state = seed | 1
        func uniform() -> Float {  // xorshift64*, enough for initial weights
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Float(Double((state &* 2685821657736338717) >> 11) / Double(1 << 53))
        }
        layers = model.geometry.map { g in
            let fanIn = g.input[0] * g.kernel * g.kernel, fanOut = g.convolved[0] * g.kernel * g.kernel
            let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return Layer(
                filters: (0..<(fanOut * g.input[0])).map { _ in (2 * uniform() - 1) * limit },
                bias: [Float](repeating: 0, count: g.convolved[0]), geometry: g)
        }
        let top = model.topShape
        let d = meanPoolTop ? top[0] : top.reduce(1, *)
        let limit = Float((6.0 / Double(d + classes)).squareRoot())
        let w = (0..<(classes * d)).map { _ in (2 * uniform() - 1) * limit }
        classifier =
            meanPoolTop
            ? .meanPoolDense(weights: w, bias: [Float](repeating: 0, count: classes))
            : .dense(weights: w, bias: [Float](repeating: 0, count: classes))
        self.inputShape = inputShape
        self.classes = classes
    }

    /// A convnet from its parts, checking that the levels chain from `inputShape` and that
    /// every filter, bias and classifier has its shape.
    public init(inputShape: [Int], layers: [Layer], classifier: Classifier, classes: Int) throws {
        var shape = inputShape
        for (l, layer) in layers.enumerated() {
            let g = layer.geometry
            guard g.input == shape else {
                throw DRMMError.shapeMismatch(what: "level \(l + 1) input", expected: shape, actual: g.input)
            }
            let filterShape = [g.convolved[0], g.input[0], g.kernel, g.kernel]
            guard layer.filters.count == filterShape.reduce(1, *) else {
                throw DRMMError.shapeMismatch(
                    what: "level \(l + 1) filters", expected: filterShape, actual: [layer.filters.count])
            }
            guard layer.bias.count == g.convolved[0] else {
                throw DRMMError.shapeMismatch(
                    what: "level \(l + 1) bias", expected: [g.convolved[0]], actual: [layer.bias.count])
            }
            shape = g.pooled
        }
        guard !layers.isEmpty, classes >= 1 else {
            throw DRMMError.invalidParameter("a convnet needs a level and a class")
        }
        let (w, b) = classifier.parameters, d = classifier.readout.featureLength(top: shape)
        guard w.count == classes * d, b.count == classes else {
            throw DRMMError.shapeMismatch(
                what: "classifier weights and biases", expected: [classes, d], actual: [w.count / max(1, d), b.count])
        }
        self.inputShape = inputShape
        self.layers = layers
        self.classifier = classifier
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
            Layer(
                filters: model.filters[l].elements.map(Float.init), bias: model.unitBias(level: l).map(Float.init),
                geometry: g)
        }
        classifier = .dense(
            weights: model.classTemplates.flatMap { $0.map(Float.init) },
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
        /// Per level, per (channel, image, pooled unit) in `[C, N, H, W]` order: the
        /// ``MaxPooling`` route (the argmax's in-plane offset, complemented when the switch is OFF).
        public var routes: [[Int32]]
        /// The levels' geometry, to read the routes.
        public let geometry: [LayerGeometry]
        /// Per level, same order: the pool argmax `t` within its window.
        public var translations: [[UInt8]] {
            zip(routes, geometry).map { r, g in r.map { UInt8(MaxPooling<Float>.translation(route: $0, g)) } }
        }
        /// Per level, same order: the switch (pooled value > 0).
        public var switches: [[Bool]] { routes.map { $0.map { $0 >= 0 } } }
    }

    /// Reusable buffers for ``forward(_:count:workspace:)``; one per thread of callers.
    public final class Workspace {
        var columns: [Float] = []
        var activations: [Float] = []
        var next: [Float] = []
        var pooled: [Float] = []
        /// How many leading entries of `activations` are live.
        var activationCount = 0
        /// Empty buffers; the first forward pass sizes them.
        public init() {}
    }

    /// The forward pass of `count` images, `images` in NCHW order.
    public func forward(_ images: [Float], count n: Int, workspace ws: Workspace = Workspace()) throws -> Output {
        let d = inputShape.reduce(1, *)
        guard images.count == n * d else {
            throw DRMMError.invalidInput(
                "batch has \(images.count) values; \(n) images of shape \(inputShape) need \(n * d)")
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
                for i in 0..<n {
                    for c in 0..<c0 { for p in 0..<hw0 { dst[(c * n + i) * hw0 + p] = src[(i * c0 + c) * hw0 + p] } }
                }
            }
        }
        let routes = layers.map { convReluPool($0, batch: n, ws) }
        return Output(scores: classify(batch: n, ws), routes: routes, geometry: layers.map(\.geometry))
    }

    /// One level's bottom-up step (``LevelOperators``), its im2col, GEMM and pooling split
    /// over the workers; returns the routes.
    private func convReluPool(_ layer: Layer, batch n: Int, _ ws: Workspace) -> [Int32] {
        let g = layer.geometry
        let (o, rows, cols) = (g.convolved[0], g.input[0] * g.kernel * g.kernel, n * g.convolved[1] * g.convolved[2])
        if ws.columns.count < rows * cols { ws.columns = [Float](repeating: 0, count: rows * cols) }
        if ws.next.count < o * cols { ws.next = [Float](repeating: 0, count: o * cols) }
        var routes = [Int32](repeating: 0, count: o * n * g.pooled[1] * g.pooled[2])
        ws.activations.withUnsafeBufferPointer { xs in
            ws.columns.withUnsafeMutableBufferPointer { cb in
                ws.next.withUnsafeMutableBufferPointer { y in
                    layer.filters.withUnsafeBufferPointer { wf in
                        layer.bias.withUnsafeBufferPointer { bb in
                            ws.pooled.withUnsafeMutableBufferPointer { pb in
                                routes.withUnsafeMutableBufferPointer { rb in
                                    let (x, c, s, w) = (
                                        Shared(xs.baseAddress!), Shared(cb.baseAddress!), Shared(y.baseAddress!),
                                        Shared(wf.baseAddress!)
                                    )
                                    let (b, out, r) = (
                                        Shared(bb.baseAddress!), Shared(pb.baseAddress!), Shared(rb.baseAddress!)
                                    )
                                    // im2col, rows split across the cores.
                                    let chunks = min(workers, rows)
                                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                                        Kernels.im2col(
                                            x.pointer, g, batch: n,
                                            rows: (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks),
                                            into: c.pointer)
                                    }
                                    // S[O, N·H'·W'] = W · cols, the columns split between the workers (each a
                                    // single-threaded sgemm on its part: no oversubscription of the cores).
                                    DispatchQueue.concurrentPerform(iterations: workers) { part in
                                        let lo = cols * part / workers, hi = cols * (part + 1) / workers
                                        Float.gemm(
                                            transposeA: false, transposeB: false, m: o, n: hi - lo, k: rows, alpha: 1,
                                            a: w.pointer, lda: rows,
                                            b: c.pointer + lo, ldb: cols, beta: 0, c: s.pointer + lo, ldc: cols)
                                    }
                                    // Bias, switch and pool (the max-sum rule), planes split across the cores.
                                    let planes = o * n, parts = min(workers, planes)
                                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                                        MaxPooling<Float>().pool(
                                            s.pointer, bias: b.pointer, g, batch: n,
                                            planes: (planes * part / parts)..<(planes * (part + 1) / parts),
                                            output: out.pointer, selection: r.pointer)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The pooled map becomes the next level's input; the old input buffer is reused next time.
        swap(&ws.activations, &ws.pooled)
        ws.activationCount = routes.count
        return routes
    }

    private func classify(batch n: Int, _ ws: Workspace) -> [Float] {
        let top = layers[layers.count - 1].geometry.pooled
        let readout = classifier.readout, d = readout.featureLength(top: top)
        var features = [Float](repeating: 0, count: n * d), scores = [Float](repeating: 0, count: n * classes)
        let (weights, bias) = classifier.parameters
        ws.activations.withUnsafeBufferPointer { f in
            features.withUnsafeMutableBufferPointer { fb in
                readout.features(f.baseAddress!, top: top, batch: n, into: fb.baseAddress!)
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        scores.withUnsafeMutableBufferPointer { sb in
                            Readout.scores(
                                fb.baseAddress!, weights: w.baseAddress!, bias: b.baseAddress!, batch: n,
                                classes: classes, featureLength: d,
                                into: sb.baseAddress!)
                        }
                    }
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
        try self.init(
            inputShape: net.inputShape,
            layers: net.layers.map { l in
                LayerSpec(
                    channels: l.geometry.convolved[0], kernel: l.geometry.kernel,
                    padding: l.geometry.pad == 0 ? .valid : (l.geometry.pad == l.geometry.kernel - 1 ? .full : .same),
                    pool: l.geometry.pool, switchPrior: Self.switchPrior(relaxedBiases: l.bias.map(Double.init)))
            }, classes: net.classes, noiseVariance: 1)
        for (l, layer) in net.layers.enumerated() {
            filters[l] = try Tensor(shape: filters[l].shape, elements: layer.filters.map(Double.init))
            setUnitBias(level: l, to: layer.bias.map(Double.init))
        }
        let (w, bias) = net.classifier.parameters, d = net.classifier.readout.featureLength(top: topShape)
        classTemplates = (0..<net.classes).map { c in
            net.classifier.readout.denseTemplate((0..<d).map { Double(w[c * d + $0]) }, top: topShape)
        }
        classPrior = Self.classPrior(relaxedBiases: bias.map(Double.init))
    }
}

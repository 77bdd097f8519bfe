import DRMM
import NumericalCore

/// The latent variables of a batch as the top-down pass uses them, hard or soft:
/// per image a weight on every class (one-hot for hard EM, `q(c)` for soft EM), and per level
/// a mask at the convolution's resolution (one at the argmax of an ON unit for hard EM,
/// `q(a = ON)·q(t)` for soft EM). With them fixed, the rendered images are linear in the class
/// templates and in each level's filters — which is what makes the M-step least squares.
struct RenderingLatents {
    /// `[N][classes]`.
    var classWeights: [[Double]]
    /// Per level, channel-major `[C_ℓ, N, H'_ℓ, W'_ℓ]`.
    var masks: [[Double]]

    /// Hard latents: classes and routes.
    init(classes: [Int], routes: [[Int32]], network: RenderingNetwork<Double>) {
        let k = network.architecture.classes, n = classes.count
        classWeights = classes.map { c in (0..<k).map { $0 == c ? 1 : 0 } }
        masks = network.geometry.enumerated().map { l, g in
            let (o, ho, wo, p) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
            let per = (ho / p) * (wo / p)
            var m = [Double](repeating: 0, count: o * n * ho * wo)
            for plane in 0..<(o * n) {
                for u in (plane * per)..<((plane + 1) * per) where routes[l][u] >= 0 {
                    m[plane * ho * wo + Int(routes[l][u])] = 1
                }
            }
            return m
        }
    }

    /// Checks a batch for the exact learners (`[N, C, H, W]` images, labels below the class
    /// count, −1 for unlabelled) and returns it channel-major, the layout of the renderer.
    static func channelMajorImages(_ network: RenderingNetwork<Double>, images: [Double], labels: [Int]) throws
        -> [Double]
    {
        guard network.architecture.normalization == .none else {
            throw LearningError.invalidOption(
                "the exact learners (hard EM, soft EM, soft inference) take a DRMM without batch normalisation; "
                    + "\(network.architecture.name) has it"
            )
        }
        let d = network.architecture.inputShape.reduce(1, *)
        guard !labels.isEmpty, images.count == labels.count * d else {
            throw LearningError.invalidData(
                "\(labels.count) labels and \(images.count) pixel values for images of \(d) pixels")
        }
        guard images.allSatisfy(\.isFinite) else { throw LearningError.invalidData("an image has a non-finite pixel") }
        guard labels.allSatisfy({ $0 < network.architecture.classes }) else {
            throw LearningError.invalidData("a label is not below the \(network.architecture.classes) classes")
        }
        let n = labels.count, c0 = network.architecture.inputShape[0], hw = d / c0
        var t = [Double](repeating: 0, count: images.count)
        for i in 0..<n {
            for c in 0..<c0 { for q in 0..<hw { t[(c * n + i) * hw + q] = images[(i * c0 + c) * hw + q] } }
        }
        return t
    }

    init(classWeights: [[Double]], masks: [[Double]]) {
        self.classWeights = classWeights
        self.masks = masks
    }

    /// `Î` (channel-major) rendered with parameters `p`: `z⁽ᴸ⁾ = Σ_c w_c μ_c`, then per level
    /// `z⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ ⋆ (mask ⊙ Unpool z⁽ˡ⁾)`.
    func render(_ network: RenderingNetwork<Double>, _ p: [Double]) -> [Double] {
        let n = classWeights.count, geo = network.geometry, layout = network.layout
        let top = geo[geo.count - 1].pooled
        var z = [Double](repeating: 0, count: n * top.reduce(1, *))
        p.withUnsafeBufferPointer { pp in
            z.withUnsafeMutableBufferPointer { zb in
                for i in 0..<n {
                    for (c, w) in classWeights[i].enumerated() where w != 0 {
                        network.architecture.top.render(
                            pp.baseAddress! + layout.classTemplates.lowerBound + c * layout.templateLength,
                            weight: w, image: i, top: top, batch: n, into: zb.baseAddress!)
                    }
                }
            }
        }
        for (l, g) in geo.enumerated().reversed() {
            var unpooled = [Double](repeating: 0, count: n * g.convolved.reduce(1, *))
            var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: n))
            var below = [Double](repeating: 0, count: n * g.input.reduce(1, *))
            z.withUnsafeBufferPointer { zb in
                masks[l].withUnsafeBufferPointer { m in
                    p.withUnsafeBufferPointer { pp in
                        unpooled.withUnsafeMutableBufferPointer { u in
                            columns.withUnsafeMutableBufferPointer { c in
                                below.withUnsafeMutableBufferPointer { b in
                                    LevelOperators.unpool(
                                        zb.baseAddress!, g, batch: n, mask: m.baseAddress!, into: u.baseAddress!)
                                    LevelOperators.transposedConvolve(
                                        u.baseAddress!, filters: pp.baseAddress! + layout.filters[l].lowerBound, g,
                                        batch: n,
                                        columns: c.baseAddress!, into: b.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            z = below
        }
        return z
    }

    /// The ridge least-squares minimiser of `‖target − Î‖² + λ‖θ_B‖²` over one parameter
    /// block, the other parameters fixed. `Î` is linear in the block; its design matrix is
    /// built by rendering with unit parameters, and the normal equations are solved by
    /// Cholesky (LAPACK).
    ///
    /// Over the ranks of a `communicator` (each holding its own images), `AᵀA` and `Aᵀ I` are
    /// sums over the images: they are summed over the ranks in one reduction, rank 0 solves,
    /// and the solution is broadcast.
    func solveBlock(
        _ network: RenderingNetwork<Double>, _ block: Range<Int>, target: [Double], ridge lambda: Double,
        communicator: any Communicator
    ) throws -> [Double] {
        guard communicator.size > 1 else { return try solveBlock(network, block, target: target, ridge: lambda) }
        var (gram, rhs) = try normalEquations(network, block, target: target)
        let b = block.count
        var packed = gram.elements + rhs.elements
        try communicator.sum(&packed)
        var solution = [Double](repeating: 0, count: b + 1)  // the last: 0, or 1 if rank 0's solve failed
        var failure: Error? = nil
        if communicator.isRoot {
            gram.elements = Array(packed[0..<(b * b)])
            for k in 0..<b { gram.elements[k * b + k] += lambda }
            rhs.elements = Array(packed[(b * b)...])
            do { solution = try Cholesky(gram).solve(rhs.elements) + [0] } catch {
                failure = error
                solution[b] = 1
            }
        }
        try communicator.broadcast(&solution, from: 0)
        if let failure { throw failure }
        guard solution[b] == 0 else {
            throw DistributedError.communication("rank 0 could not solve the normal equations of the M-step")
        }
        return Array(solution[0..<b])
    }

    /// `(AᵀA, Aᵀ target)` of one block, without the ridge.
    func normalEquations(_ network: RenderingNetwork<Double>, _ block: Range<Int>, target: [Double]) throws
        -> (gram: Matrix, rhs: Matrix)
    {
        let m = target.count
        var a = Matrix(rows: m, columns: block.count)
        var probe = network.parameters
        for j in block { probe[j] = 0 }
        for (k, j) in block.enumerated() {
            probe[j] = 1
            let col = render(network, probe)
            probe[j] = 0
            for r in 0..<m { a.elements[r * block.count + k] = col[r] }
        }
        var gram = Matrix(rows: block.count, columns: block.count)
        try Matrix.multiply(a, a, transposeA: true, into: &gram)
        var rhs = Matrix(rows: block.count, columns: 1)
        try Matrix.multiply(a, Matrix(rows: m, columns: 1, elements: target), transposeA: true, into: &rhs)
        return (gram, rhs)
    }

    /// The one-process ``solveBlock(_:_:target:ridge:communicator:)``.
    func solveBlock(_ network: RenderingNetwork<Double>, _ block: Range<Int>, target: [Double], ridge lambda: Double)
        throws -> [Double]
    {
        var (gram, rhs) = try normalEquations(network, block, target: target)
        for k in 0..<block.count { gram.elements[k * block.count + k] += lambda }
        return try Cholesky(gram).solve(rhs.elements)
    }
}

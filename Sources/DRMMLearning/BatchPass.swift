import DRMM
import NumericalCore

/// A growable, uninitialised-on-growth buffer owned by a pass (no per-batch allocation).
final class ScratchBuffer<T: BLASScalar> {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var capacity = 0
    init() { pointer = UnsafeMutablePointer<T>.allocate(capacity: 1) }
    deinit { pointer.deallocate() }
    func reserve(_ n: Int) {
        guard n > capacity else { return }
        pointer.deallocate()
        pointer = UnsafeMutablePointer<T>.allocate(capacity: n)
        pointer.initialize(repeating: 0, count: n)
        capacity = n
    }
}

/// One E-step and G-step gradient on a batch of images, single-threaded (the trainer runs one
/// pass per core on disjoint shards).
///
/// **E-step, bottom-up** (spec §3.7, max-sum): for ℓ = 1…L, `S = W⁽ˡ⁾ ⋆ I⁽ˡ⁻¹⁾` (im2col + GEMM,
/// or Winograd's F(2×2, 3×3) for 3×3 levels, see ``ConvolutionAlgorithm``),
/// `I⁽ˡ⁾ = MaxPool(ReLU(S + b⁽ˡ⁾))`, recording each pooled unit's MAP translation `t` and switch
/// `a` as one *route* (the argmax offset, or −1 when OFF). The class scores are
/// `⟨μ_c, I⁽ᴸ⁾⟩ + b_c` and `q = softmax`.
///
/// **E-step, top-down** (spec §3.8): `ĉ` is the label, or `argmax q` for an unlabelled image;
/// `z⁽ᴸ⁾ = μ_ĉ`, and `z⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ ⋆ (a ⊙ t ⊙ Unpool z⁽ˡ⁾)` (GEMM + col2im), so `Î = z⁽⁰⁾`.
///
/// **G-step gradient** (spec §4.3), by hand, with the routes and `ĉ` held constant:
/// - softmax + cross-entropy and the class-posterior term give `∂L/∂scores`;
/// - back through the classifier, then per level: ReLU/pool routes the gradient to the argmax
///   (`∂b` is its per-channel sum), `∂W += ∂S · colsᵀ`, `∂I⁽ˡ⁻¹⁾ = col2im(Wᵀ ∂S)`;
/// - the reconstruction goes back through the tied transposed convolutions:
///   `∂W += m · im2col(g)ᵀ`, `∂z⁽ˡ⁾ = gather(W · im2col(g))`, plus the nonnegativity term, and at
///   the top `∂μ_ĉ`.
///
/// The products are written above in their im2col form. A Winograd level computes the same
/// three (the convolution, `∂W`, and the transposed convolution `Wᵀ ⋆`) from the transformed
/// tiles, in ``convolve(level:_:batch:parameters:lowered:into:)`` and
/// ``convolutionAdjoint(level:_:batch:parameters:input:filterGradient:inputGradient:)``.
///
/// **Batch normalisation** (when the architecture has it): `S ← γ (S − m) / √(v + ε)` before
/// the bias, with the shard's own channel statistics in training (kept in
/// ``batchStatistics`` for the running averages) and the running ones otherwise. Its backward
/// step is the usual one, `∂S = γ/σ (∂A − mean ∂A − x̂ mean(∂A x̂))`, with `∂γ = Σ ∂A x̂`.
final class BatchPass<T: BLASScalar> {
    let geometry: [LayerGeometry]
    let layout: RenderingNetwork<T>.Layout
    let architecture: Architecture
    /// Per level: whether its convolution runs by Winograd's algorithm.
    let winograd: [Bool]
    /// Whether the top-down pass renders with the normalised filters `γ W/σ` (`.batchFolded`).
    var folded: Bool { architecture.normalization == .batchFolded }

    /// `features[ℓ]`: the input of level ℓ+1 (`features[0]` the image), `[C, N, H, W]`.
    var features: [ScratchBuffer<T>]
    /// The im2col columns of every im2col level, kept for the filter gradient. (A Winograd
    /// level transforms its input again, a few images at a time, when it needs it.)
    var columns: [ScratchBuffer<T>]
    /// Winograd levels: the transformed filters `U[16, O, C]` of the current parameters.
    var filterTiles: [ScratchBuffer<T>]
    /// Winograd scratch for one chunk of images: products `M` or output gradients `Δ`
    /// (`[16, O, T]`), transformed inputs `V` or their gradients `∂V` (`[16, C, T]`), and the
    /// filter gradient `∂U` (`[16, O, C]`).
    let products = ScratchBuffer<T>(), inputTiles = ScratchBuffer<T>(), filterTileGradient = ScratchBuffer<T>()
    var routes: [[Int32]]
    /// `z[ℓ]`: the top-down signal at the resolution of `features[ℓ]`; `z[0] = Î`.
    var z: [ScratchBuffer<T>]
    let scratch = ScratchBuffer<T>(), scratch2 = ScratchBuffer<T>()
    let gradA = ScratchBuffer<T>(), gradB = ScratchBuffer<T>()
    let top = ScratchBuffer<T>(), dTop = ScratchBuffer<T>()
    var scores: [T] = [], dScores: [T] = []
    var predictions: [Int] = []
    /// `q(c | I)` of every image of the last pass, `[N, K]`.
    var posteriors: [T] = []
    /// `ĉ` of every image of the last pass.
    var renderedClasses: [Int] = []
    /// Whether the last ``classificationLoss`` left a nonzero gradient on any class score.
    var anyScoreGradient = false
    /// ON switches per level in the last pass.
    var switchesOn: [Int] = []
    /// `ε` of batch normalisation.
    static var normalizationEpsilon: T { T(1e-5) }
    /// With batch normalisation: `x̂ = (S − m)/σ` per level, and `1/σ` per channel.
    var normalised: [ScratchBuffer<T>]
    var inverseDeviation: [[T]]
    /// With `.batchFolded`: `∂L/∂σ` per channel from the top-down pass, for the bottom-up backward.
    var deviationGradient: [[T]]
    /// The channel means then variances of every level in the last training-mode pass.
    var batchStatistics: [[T]]

    init(network: RenderingNetwork<T>, convolution: ConvolutionAlgorithm = .winograd) {
        geometry = network.geometry
        layout = network.layout
        architecture = network.architecture
        winograd = network.geometry.map { convolution.usesWinograd($0) }
        features = (0...geometry.count).map { _ in ScratchBuffer<T>() }
        columns = geometry.map { _ in ScratchBuffer<T>() }
        filterTiles = geometry.map { _ in ScratchBuffer<T>() }
        z = (0...geometry.count).map { _ in ScratchBuffer<T>() }
        routes = geometry.map { _ in [] }
        normalised = geometry.map { _ in ScratchBuffer<T>() }
        inverseDeviation = geometry.map { [T](repeating: 0, count: $0.convolved[0]) }
        deviationGradient = inverseDeviation
        batchStatistics = geometry.map { [T](repeating: 0, count: 2 * $0.convolved[0]) }
    }

    func size(ofLevel l: Int) -> Int {
        l == 0 ? architecture.inputShape.reduce(1, *) : geometry[l - 1].pooled.reduce(1, *)
    }

    private func reserve(batch n: Int) {
        var s1 = 0, s2 = 0, g = 0
        for (l, geo) in geometry.enumerated() {
            let cols = n * geo.convolved[1] * geo.convolved[2]
            let rows = geo.input[0] * geo.kernel * geo.kernel
            if winograd[l] {
                let images = winogradChunk(level: l, batch: n)
                filterTiles[l].reserve(Winograd.filterLength(geo))
                filterTileGradient.reserve(Winograd.filterLength(geo))
                products.reserve(Winograd.outputLength(geo, batch: images))
                inputTiles.reserve(Winograd.inputLength(geo, batch: images))
            } else {
                columns[l].reserve(rows * cols)
                s2 = max(s2, rows * cols)
            }
            if architecture.normalization.isBatch { normalised[l].reserve(geo.convolved[0] * cols) }
            s1 = max(s1, geo.convolved[0] * cols)
            if routes[l].count != n * geo.pooled.reduce(1, *) {
                routes[l] = [Int32](repeating: -1, count: n * geo.pooled.reduce(1, *))
            }
        }
        for l in 0...geometry.count {
            features[l].reserve(n * size(ofLevel: l))
            z[l].reserve(n * size(ofLevel: l))
            g = max(g, n * size(ofLevel: l))
        }
        scratch.reserve(s1); scratch2.reserve(s2); gradA.reserve(g); gradB.reserve(g)
        top.reserve(n * layout.templateLength); dTop.reserve(n * layout.templateLength)
        let k = architecture.classes
        if scores.count != n * k { scores = [T](repeating: 0, count: n * k); dScores = scores }
    }

    /// Runs the E-step on `n` images (`images` in `[N, C, H, W]` order; `labels[i] < 0` marks an
    /// unlabelled image) and, when `gradient` is given, adds `∂L/∂θ` to it. The loss is
    /// normalised by the whole batch (`labelledTotal`, `total`), so shards' gradients add up
    /// (without batch normalisation; with it, each shard normalises by its own statistics).
    /// `batchStatistics` chooses the statistics of batch normalisation: the batch's (the default
    /// when a gradient is wanted) or the running ones.
    ///
    /// The class-balance term depends on the batch's mean class posterior `q̄`. A caller that cuts
    /// the batch into shards runs ``bottomUp(parameters:images:count:batchStatistics:)`` on every
    /// shard, adds up their ``posteriorSum``, and passes `q̄` to
    /// ``finish(parameters:labels:objective:labelledTotal:total:gradient:batchStatistics:classMarginal:)``;
    /// this method, for a batch in one piece, takes `q̄` from its own images.
    ///
    /// `pseudoTargets`, when given, holds a target distribution over the K classes for every
    /// image (`[N, K]`; a row of zeros for none); the pseudo-label term of the objective reads
    /// it for the unlabelled images. A hard pseudo-label is a one-hot row.
    func run(
        parameters p: UnsafePointer<T>, images: UnsafePointer<T>, labels: ArraySlice<Int>, count n: Int,
        objective: Objective, labeledTotal: Int, total: Int,
        gradient: UnsafeMutablePointer<T>?, batchStatistics useBatch: Bool? = nil,
        pseudoTargets: ArraySlice<T>? = nil
    ) -> LossTerms {
        let statistics = useBatch ?? (gradient != nil)
        bottomUp(parameters: p, images: images, count: n, batchStatistics: statistics)
        let marginal = posteriorSum.map { $0 / Double(n) }
        return finish(
            parameters: p, labels: labels, objective: objective, labeledTotal: labeledTotal, total: total,
            gradient: gradient, batchStatistics: statistics, classMarginal: marginal, pseudoTargets: pseudoTargets)
    }

    /// The images of the last ``bottomUp(parameters:images:count:batchStatistics:)``.
    var batchCount = 0
    /// `Σ_n q(·|I_n)` over the images of the last bottom-up pass.
    private(set) var posteriorSum: [Double] = []
    /// `ln Σ_c exp(score_nc)` of every image of the last bottom-up pass.
    var logPartition: [T] = []

    /// The bottom-up E-step on `n` images, through the class scores and their posterior sum.
    func bottomUp(
        parameters p: UnsafePointer<T>, images: UnsafePointer<T>, count n: Int, batchStatistics useBatch: Bool
    ) {
        reserve(batch: n)
        batchCount = n
        let L = geometry.count
        let k = architecture.classes
        let d = layout.templateLength
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        let x = features[0].pointer
        for i in 0..<n {
            for c in 0..<c0 { (x + (c * n + i) * hw0).update(from: images + (i * c0 + c) * hw0, count: hw0) }
        }

        // Bottom-up.
        switchesOn = []
        for (l, g) in geometry.enumerated() where winograd[l] {
            Winograd.transformFilters(p + layout.filters[l].lowerBound, g, into: filterTiles[l].pointer)
        }
        for (l, g) in geometry.enumerated() {
            let cols = n * g.convolved[1] * g.convolved[2], o = g.convolved[0]
            convolve(
                level: l, features[l].pointer, batch: n, parameters: p, lowered: winograd[l] ? nil : columns[l].pointer,
                into: scratch.pointer)
            if architecture.normalization.isBatch {
                normaliseForward(level: l, p, count: o, length: cols, useBatch: useBatch)
            }
            let on = routes[l].withUnsafeMutableBufferPointer { r in
                MaxPooling<T>().pool(
                    scratch.pointer, bias: p + layout.biases[l].lowerBound, g, batch: n, planes: 0..<(o * n),
                    output: features[l + 1].pointer, selection: r.baseAddress!)
            }
            switchesOn.append(on)
        }
        architecture.top.features(features[L].pointer, top: geometry[L - 1].pooled, batch: n, into: top.pointer)
        scores.withUnsafeMutableBufferPointer { s in
            Readout.scores(
                top.pointer, weights: p + layout.classTemplates.lowerBound, bias: p + layout.classBias.lowerBound,
                batch: n, classes: k, featureLength: d, into: s.baseAddress!)
        }

        posteriorSum = [Double](repeating: 0, count: k)
        if logPartition.count != n { logPartition = [T](repeating: 0, count: n) }
        for i in 0..<n {
            var m = scores[i * k]
            for c in 1..<k { m = max(m, scores[i * k + c]) }
            var z: T = 0
            for c in 0..<k { z += T.exponential(scores[i * k + c] - m) }
            logPartition[i] = m + T.logarithm(z)
            for c in 0..<k { posteriorSum[c] += Double(T.exponential(scores[i * k + c] - logPartition[i])) }
        }
    }

    /// The rest of the pass after ``bottomUp(parameters:images:count:batchStatistics:)``: the
    /// loss terms, the top-down E-step and, when `gradient` is given, the G-step gradient.
    /// `classMarginal` is the batch's mean class posterior `q̄`, for the class-balance term;
    /// `pseudoTargets` (`[N, K]`, a distribution or a row of zeros per image) feeds the
    /// pseudo-label term.
    func finish(
        parameters p: UnsafePointer<T>, labels: ArraySlice<Int>, objective: Objective, labeledTotal: Int, total: Int,
        gradient: UnsafeMutablePointer<T>?, batchStatistics useBatch: Bool, classMarginal: [Double],
        pseudoTargets: ArraySlice<T>? = nil
    ) -> LossTerms {
        var terms = classificationLoss(
            labels: labels, objective: objective, labeledTotal: labeledTotal, total: total,
            classMarginal: classMarginal, pseudoTargets: pseudoTargets)
        if objective.needsTopDown { renderTopDown(parameters: p, objective: objective, total: total, terms: &terms) }
        terms.total =
            objective.crossEntropy * terms.crossEntropy + objective.reconstruction * terms.reconstruction
            + objective.classPosterior * terms.classPosterior + objective.nonnegativity * terms.nonnegativity
            + objective.classBalance * terms.classBalance + objective.pseudoLabel * terms.pseudoLabel
        guard let grad = gradient else { return terms }
        if objective.needsTopDown {
            reconstructionBackward(
                parameters: p, objective: objective, total: total, gradient: grad, batchStatistics: useBatch)
        }
        let deviationGradient = folded && objective.needsTopDown && useBatch
        if anyScoreGradient || deviationGradient {
            classificationBackward(
                parameters: p, gradient: grad, batchStatistics: useBatch, deviationGradient: deviationGradient)
        }
        return terms
    }

    /// The reconstruction `Î` of image `i` of the last pass (after a top-down pass), `[C, H, W]`.
    func reconstruction(of i: Int, batch n: Int) -> [T] {
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        var out = [T](repeating: 0, count: c0 * hw0)
        for c in 0..<c0 { for q in 0..<hw0 { out[c * hw0 + q] = z[0].pointer[(c * n + i) * hw0 + q] } }
        return out
    }
}

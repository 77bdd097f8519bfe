import DRMM

/// A growable, uninitialised-on-growth buffer owned by a pass (no per-batch allocation).
final class ScratchBuffer<T: TrainingScalar> {
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
final class BatchPass<T: TrainingScalar> {
    let geometry: [LayerGeometry]
    let layout: RenderingNetwork<T>.Layout
    let architecture: Architecture
    /// Per level: whether its convolution runs by Winograd's algorithm.
    let winograd: [Bool]
    /// Whether the top-down pass renders with the normalised filters `γ W/σ` (`.batchFolded`).
    var folded: Bool { architecture.normalisation == .batchFolded }

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
    private(set) var routes: [[Int32]]
    /// `z[ℓ]`: the top-down signal at the resolution of `features[ℓ]`; `z[0] = Î`.
    var z: [ScratchBuffer<T>]
    let scratch = ScratchBuffer<T>(), scratch2 = ScratchBuffer<T>()
    let gradA = ScratchBuffer<T>(), gradB = ScratchBuffer<T>()
    let top = ScratchBuffer<T>(), dTop = ScratchBuffer<T>()
    var scores: [T] = [], dScores: [T] = []
    private(set) var predictions: [Int] = []
    /// `q(c | I)` of every image of the last pass, `[N, K]`.
    private(set) var posteriors: [T] = []
    /// `ĉ` of every image of the last pass.
    private(set) var renderedClasses: [Int] = []
    /// ON switches per level in the last pass.
    private(set) var switchesOn: [Int] = []
    /// `ε` of batch normalisation.
    static var normalisationEpsilon: T { T(1e-5) }
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

    private func size(ofLevel l: Int) -> Int {
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
            if architecture.normalisation.isBatch { normalised[l].reserve(geo.convolved[0] * cols) }
            s1 = max(s1, geo.convolved[0] * cols)
            if routes[l].count != n * geo.pooled.reduce(1, *) { routes[l] = [Int32](repeating: -1, count: n * geo.pooled.reduce(1, *)) }
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
    func run(parameters p: UnsafePointer<T>, images: UnsafePointer<T>, labels: ArraySlice<Int>, count n: Int,
             objective: Objective, labelledTotal: Int, total: Int,
             gradient: UnsafeMutablePointer<T>?, batchStatistics useBatch: Bool? = nil,
             pseudoTargets: ArraySlice<T>? = nil) -> LossTerms {
        let statistics = useBatch ?? (gradient != nil)
        bottomUp(parameters: p, images: images, count: n, batchStatistics: statistics)
        let marginal = posteriorSum.map { $0 / Double(n) }
        return finish(parameters: p, labels: labels, objective: objective, labelledTotal: labelledTotal, total: total,
                      gradient: gradient, batchStatistics: statistics, classMarginal: marginal, pseudoTargets: pseudoTargets)
    }

    /// The images of the last ``bottomUp(parameters:images:count:batchStatistics:)``.
    var batchCount = 0
    /// `Σ_n q(·|I_n)` over the images of the last bottom-up pass.
    private(set) var posteriorSum: [Double] = []
    /// `ln Σ_c exp(score_nc)` of every image of the last bottom-up pass.
    var logPartition: [T] = []

    /// The bottom-up E-step on `n` images, through the class scores and their posterior sum.
    func bottomUp(parameters p: UnsafePointer<T>, images: UnsafePointer<T>, count n: Int, batchStatistics useBatch: Bool) {
        reserve(batch: n)
        batchCount = n
        let L = geometry.count
        let k = architecture.classes
        let d = layout.templateLength
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        let x = features[0].pointer
        for i in 0..<n { for c in 0..<c0 { (x + (c * n + i) * hw0).update(from: images + (i * c0 + c) * hw0, count: hw0) } }

        // Bottom-up.
        switchesOn = []
        for (l, g) in geometry.enumerated() where winograd[l] {
            Winograd.transformFilters(p + layout.filters[l].lowerBound, g, into: filterTiles[l].pointer)
        }
        for (l, g) in geometry.enumerated() {
            let cols = n * g.convolved[1] * g.convolved[2], o = g.convolved[0]
            convolve(level: l, features[l].pointer, batch: n, parameters: p, lowered: winograd[l] ? nil : columns[l].pointer, into: scratch.pointer)
            if architecture.normalisation.isBatch { normaliseForward(level: l, p, count: o, length: cols, useBatch: useBatch) }
            let on = routes[l].withUnsafeMutableBufferPointer { r in
                Kernels.biasReLUPool(scratch.pointer, bias: p + layout.biases[l].lowerBound, g, batch: n,
                                     output: features[l + 1].pointer, route: r.baseAddress!)
            }
            switchesOn.append(on)
        }
        let topShape = geometry[L - 1].pooled
        let (ct, hw) = (topShape[0], topShape[1] * topShape[2])
        let f = top.pointer, fl = features[L].pointer
        for i in 0..<n {
            for c in 0..<ct {
                let plane = fl + (c * n + i) * hw
                switch architecture.top {
                case .meanPool:
                    var s: T = 0
                    for q in 0..<hw { s += plane[q] }
                    f[i * d + c] = s / T(hw)
                case .dense:
                    (f + i * d + c * hw).update(from: plane, count: hw)
                }
            }
        }
        let wTop = p + layout.classTemplates.lowerBound, bTop = p + layout.classBias.lowerBound
        scores.withUnsafeMutableBufferPointer { s in
            for i in 0..<n { for c in 0..<k { s[i * k + c] = bTop[c] } }
            T.gemm(transposeA: false, transposeB: true, m: n, n: k, k: d, alpha: 1, a: f, lda: d, b: wTop, ldb: d, beta: 1, c: s.baseAddress!, ldc: k)
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
    func finish(parameters p: UnsafePointer<T>, labels: ArraySlice<Int>, objective: Objective, labelledTotal: Int, total: Int,
                gradient: UnsafeMutablePointer<T>?, batchStatistics useBatch: Bool, classMarginal: [Double],
                pseudoTargets: ArraySlice<T>? = nil) -> LossTerms {
        let n = batchCount
        let L = geometry.count
        let k = architecture.classes
        let d = layout.templateLength
        let (c0, hw0) = (architecture.inputShape[0], architecture.inputShape[1] * architecture.inputShape[2])
        let x = features[0].pointer
        let topShape = geometry[L - 1].pooled
        let (ct, hw) = (topShape[0], topShape[1] * topShape[2])
        let f = top.pointer
        let wTop = p + layout.classTemplates.lowerBound

        // Class posterior, cross-entropy, the class-posterior and class-balance terms, ∂L/∂scores.
        var terms = LossTerms()
        predictions = [Int](repeating: 0, count: n)
        if posteriors.count != n * k { posteriors = [T](repeating: 0, count: n * k) }
        renderedClasses = [Int](repeating: 0, count: n)
        let sign: T = objective.classPosteriorSign == .klToPrior ? 1 : -1
        let aCE = T(objective.crossEntropy), aKL = T(objective.classPosterior)
        let logC = T.logarithm(T(k))
        // The class-balance term `KL(q̄ ‖ U) = Σ_c q̄_c ln(C q̄_c)`, written shard by shard as
        // `Σ_c (Σ_shard q_c / N) ln(C q̄_c)`; its gradient `∂/∂s_nc = q_nc (λ_c − Σ_j q_nj λ_j) / N`
        // with `λ_c = ln(C q̄_c)`.
        let aB = T(objective.classBalance), aPL = T(objective.pseudoLabel)
        var logBalance = [T](repeating: 0, count: k)
        for c in 0..<k {
            logBalance[c] = T.logarithm(T(Swift.max(classMarginal[c], 1e-30) * Double(k)))
            terms.classBalance += posteriorSum[c] / Double(total) * Double(logBalance[c])
        }
        var anyScoreGradient = false
        for (i, label) in labels.enumerated() {
            var m = scores[i * k], best = 0
            for c in 1..<k where scores[i * k + c] > m { m = scores[i * k + c]; best = c }
            let logZ = logPartition[i]
            var negEntropy: T = 0   // Σ q ln q
            var meanBalance: T = 0  // Σ q λ
            for c in 0..<k {
                let lq = scores[i * k + c] - logZ
                negEntropy += T.exponential(lq) * lq
                meanBalance += T.exponential(lq) * logBalance[c]
            }
            predictions[i] = best
            renderedClasses[i] = label >= 0 ? label : best
            terms.classPosterior += Double(sign * (negEntropy + logC)) / Double(total)
            if label >= 0 {
                terms.labelled += 1
                if best == label { terms.correct += 1 }
                terms.crossEntropy -= Double(scores[i * k + label] - logZ) / Double(max(1, labelledTotal))
            }
            // The pseudo-label target `t` of an unlabelled image: `−Σ_c t_c ln q_c / N`, whose
            // gradient is `(q_c Σ_j t_j − t_c) / N`.
            var targetRow: Int? = nil
            var targetMass: T = 0
            if label < 0, let pt = pseudoTargets {
                let row = pt.startIndex + i * k
                for c in 0..<k { targetMass += pt[row + c] }
                if targetMass > 0 {
                    targetRow = row
                    var ce: T = 0
                    for c in 0..<k where pt[row + c] != 0 { ce -= pt[row + c] * (scores[i * k + c] - logZ) }
                    terms.pseudoLabelled += 1
                    terms.pseudoLabel += Double(ce) / Double(total)
                }
            }
            for c in 0..<k {
                let lq = scores[i * k + c] - logZ, q = T.exponential(lq)
                posteriors[i * k + c] = q
                var g: T = 0
                if label >= 0, aCE != 0 { g += aCE * (q - (c == label ? 1 : 0)) / T(max(1, labelledTotal)) }
                if let row = targetRow, let pt = pseudoTargets, aPL != 0 { g += aPL * (q * targetMass - pt[row + c]) / T(total) }
                if aKL != 0 { g += aKL * sign * q * (lq - negEntropy) / T(total) }
                if aB != 0 { g += aB * q * (logBalance[c] - meanBalance) / T(total) }
                dScores[i * k + c] = g
                if g != 0 { anyScoreGradient = true }
            }
        }

        // Top-down reconstruction.
        if objective.needsTopDown {
            let zt = z[L].pointer
            for i in 0..<n {
                let mu = wTop + renderedClasses[i] * d
                for c in 0..<ct {
                    let plane = zt + (c * n + i) * hw
                    switch architecture.top {
                    case .meanPool: plane.update(repeating: mu[c], count: hw)
                    case .dense: plane.update(from: mu + c * hw, count: hw)
                    }
                }
            }
            for l in stride(from: L - 1, through: 0, by: -1) {
                routes[l].withUnsafeBufferPointer { r in Kernels.scatterRouted(z[l + 1].pointer, geometry[l], batch: n, route: r.baseAddress!, into: scratch.pointer) }
                if folded { scaleByRenderingScale(level: l, scratch.pointer, p, planeLength: n * geometry[l].convolved[1] * geometry[l].convolved[2]) }
                convolutionAdjoint(level: l, scratch.pointer, batch: n, parameters: p, input: nil, filterGradient: nil, inputGradient: z[l].pointer)
            }
            var rc: T = 0
            let xHat = z[0].pointer
            for j in 0..<(n * c0 * hw0) { let e = xHat[j] - x[j]; rc += e * e }
            terms.reconstruction = Double(rc) / Double(total * c0 * hw0)
            for l in 1...L {
                let per = size(ofLevel: l), zl = z[l].pointer
                var s: T = 0
                for j in 0..<(n * per) where zl[j] < 0 { s += zl[j] * zl[j] }
                terms.nonnegativity += Double(s) / Double(total * per)
            }
        }
        terms.total = objective.crossEntropy * terms.crossEntropy + objective.reconstruction * terms.reconstruction
            + objective.classPosterior * terms.classPosterior + objective.nonnegativity * terms.nonnegativity
            + objective.classBalance * terms.classBalance + objective.pseudoLabel * terms.pseudoLabel

        guard let grad = gradient else { return terms }

        // ∂ of the reconstruction and nonnegativity terms, through the tied top-down pass.
        if objective.needsTopDown {
            var gA = gradA.pointer, gB = gradB.pointer
            let scale = T(2 * objective.reconstruction) / T(total * c0 * hw0)
            let xHat = z[0].pointer
            for j in 0..<(n * c0 * hw0) { gA[j] = scale * (xHat[j] - x[j]) }
            for (l, g) in geometry.enumerated() {
                // ∂z⁽ˡ⁺¹⁾ = gather(W ⋆ g), and ∂W += m ⋆ g with m the masked unpooled z⁽ˡ⁺¹⁾.
                // Folded: m is scaled by κ = γ/σ per channel, so ∂z⁽ˡ⁺¹⁾ is too, and
                // ∂κ = Σ gather(W ⋆ g) z⁽ˡ⁺¹⁾ goes to γ and σ.
                convolve(level: l, gA, batch: n, parameters: p, lowered: winograd[l] ? nil : scratch2.pointer, into: scratch.pointer)
                routes[l].withUnsafeBufferPointer { r in Kernels.gatherRouted(scratch.pointer, g, batch: n, route: r.baseAddress!, into: gB) }
                if folded { renderingScaleBackward(level: l, gB, p, gradient: grad, batch: n, useBatch: useBatch) }
                routes[l].withUnsafeBufferPointer { r in Kernels.scatterRouted(z[l + 1].pointer, g, batch: n, route: r.baseAddress!, into: scratch.pointer) }
                if folded { scaleByRenderingScale(level: l, scratch.pointer, p, planeLength: n * g.convolved[1] * g.convolved[2]) }
                convolutionAdjoint(level: l, scratch.pointer, batch: n, parameters: p, input: (UnsafePointer(gA), UnsafePointer(scratch2.pointer)),
                                   filterGradient: grad + layout.filters[l].lowerBound, inputGradient: nil)
                if objective.nonnegativity != 0 {
                    let per = size(ofLevel: l + 1), zl = z[l + 1].pointer
                    let nn = T(2 * objective.nonnegativity) / T(total * per)   // ∂(z²)/∂z, z < 0
                    for j in 0..<(n * per) where zl[j] < 0 { gB[j] += nn * zl[j] }
                }
                swap(&gA, &gB)
            }
            let gTop = grad + layout.classTemplates.lowerBound
            for i in 0..<n {
                let dmu = gTop + renderedClasses[i] * d
                for c in 0..<ct {
                    let plane = gA + (c * n + i) * hw
                    switch architecture.top {
                    case .meanPool:
                        var s: T = 0
                        for q in 0..<hw { s += plane[q] }
                        dmu[c] += s
                    case .dense:
                        for q in 0..<hw { dmu[c * hw + q] += plane[q] }
                    }
                }
            }
        }

        // ∂ of the classification terms (and, folded, of σ), back through the bottom-up pass.
        let anyDeviationGradient = folded && objective.needsTopDown && useBatch
        guard anyScoreGradient || anyDeviationGradient else { return terms }
        let gTop = grad + layout.classTemplates.lowerBound, gBias = grad + layout.classBias.lowerBound
        dScores.withUnsafeBufferPointer { ds in
            let dsp = ds.baseAddress!
            T.gemm(transposeA: true, transposeB: false, m: k, n: d, k: n, alpha: 1, a: dsp, lda: k, b: f, ldb: d, beta: 1, c: gTop, ldc: d)
            for i in 0..<n { for c in 0..<k { gBias[c] += dsp[i * k + c] } }
            T.gemm(transposeA: false, transposeB: false, m: n, n: d, k: k, alpha: 1, a: dsp, lda: k, b: wTop, ldb: d, beta: 0, c: dTop.pointer, ldc: d)
        }
        var gA = gradA.pointer, gB = gradB.pointer
        let df = dTop.pointer
        for i in 0..<n {
            for c in 0..<ct {
                let plane = gA + (c * n + i) * hw
                switch architecture.top {
                case .meanPool: plane.update(repeating: df[i * d + c] / T(hw), count: hw)
                case .dense: plane.update(from: df + i * d + c * hw, count: hw)
                }
            }
        }
        for l in stride(from: L - 1, through: 0, by: -1) {
            let g = geometry[l]
            let cols = n * g.convolved[1] * g.convolved[2], o = g.convolved[0]
            let per = g.pooled[1] * g.pooled[2]
            routes[l].withUnsafeBufferPointer { r in
                let db = grad + layout.biases[l].lowerBound
                for plane in 0..<(o * n) {
                    var s: T = 0
                    for u in (plane * per)..<((plane + 1) * per) where r[u] >= 0 { s += gA[u] }
                    db[plane / n] += s
                }
                Kernels.scatterRouted(gA, g, batch: n, route: r.baseAddress!, into: scratch.pointer)
            }
            if architecture.normalisation.isBatch {
                normaliseBackward(level: l, p, gradient: grad, count: o, length: cols, useBatch: useBatch)
                if anyDeviationGradient { addDeviationGradient(level: l, count: o, length: cols) }
            }
            convolutionAdjoint(level: l, scratch.pointer, batch: n, parameters: p, input: (UnsafePointer(features[l].pointer), UnsafePointer(columns[l].pointer)),
                               filterGradient: grad + layout.filters[l].lowerBound, inputGradient: l > 0 ? gB : nil)
            if l > 0 { swap(&gA, &gB) }
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

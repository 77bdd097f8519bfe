import NumericalCore

extension DeepRenderingMixtureModel {
    /// Checks that `nuisances` has one translation and one switch per pooled unit of every level.
    func check(_ g: Nuisances) throws {
        guard g.translations.count == geometry.count, g.switches.count == geometry.count else {
            throw DRMMError.invalidInput(
                "nuisances cover \(g.translations.count) levels, the model has \(geometry.count)")
        }
        for (l, geo) in geometry.enumerated() {
            let units = geo.pooled.reduce(1, *)
            guard g.translations[l].count == units, g.switches[l].count == units else {
                throw DRMMError.invalidInput(
                    "level \(l + 1): nuisances for \(g.translations[l].count) units, the level has \(units)")
            }
            if let bad = g.translations[l].firstIndex(where: { $0 < 0 || $0 >= geo.pool * geo.pool }) {
                throw DRMMError.invalidInput(
                    "level \(l + 1) unit \(bad): translation \(g.translations[l][bad]) outside the "
                        + "\(geo.pool)×\(geo.pool) window"
                )
            }
        }
    }

    func checkClass(_ c: Int) throws {
        guard (0..<classCount).contains(c) else { throw DRMMError.invalidInput("class \(c) outside 0..<\(classCount)") }
    }

    /// One top-down step `z⁽ˡ⁻¹⁾ = Λ⁽ˡ⁾_g z⁽ˡ⁾`: unpool by `t`, switch by `a`, transposed
    /// convolution with `W⁽ˡ⁾`, plus `α⁽ˡ⁾`.
    func renderStep(_ z: Tensor, level l: Int, translations t: [Int], switches a: [Bool]) -> Tensor {
        let g = geometry[l]
        var routes = (0..<z.count).map { MaxPooling<Double>.route(unit: $0, translation: t[$0], on: a[$0], g) }
        var x = Tensor(shape: g.input)
        var unpooled = [Double](repeating: 0, count: g.convolved.reduce(1, *))
        var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: 1))
        z.elements.withUnsafeBufferPointer { pz in
            filters[l].elements.withUnsafeBufferPointer { pw in
                routes.withUnsafeMutableBufferPointer { pr in
                    unpooled.withUnsafeMutableBufferPointer { pu in
                        columns.withUnsafeMutableBufferPointer { pc in
                            x.elements.withUnsafeMutableBufferPointer { px in
                                LevelOperators.topDown(
                                    pz.baseAddress!, filters: pw.baseAddress!, g, batch: 1, rule: MaxPooling<Double>(),
                                    selection: pr.baseAddress!, unpooled: pu.baseAddress!, columns: pc.baseAddress!,
                                    into: px.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        let plane = g.input[1] * g.input[2]
        for c in 0..<g.input[0] where renderBias[l][c] != 0 {
            for i in 0..<plane { x.elements[c * plane + i] += renderBias[l][c] }
        }
        return x
    }

    /// The template `μ_cg = Λ⁽¹⁾_{g¹} ⋯ Λ⁽ᴸ⁾_{gᴸ} μ_c` by the recursive form (spec §3.4); with
    /// `intermediate`, every `z⁽ˡ⁾` from the top down to `z⁽⁰⁾`.
    public func render(class c: Int, nuisances g: Nuisances) throws -> Tensor {
        try renderLevels(class: c, nuisances: g).last!
    }

    /// `[z⁽ᴸ⁾, z⁽ᴸ⁻¹⁾, …, z⁽⁰⁾]`: the intermediate rendered templates.
    public func renderLevels(class c: Int, nuisances g: Nuisances) throws -> [Tensor] {
        try checkClass(c)
        try check(g)
        var z = try Tensor(shape: topShape, elements: classTemplates[c])
        var levels = [z]
        for l in stride(from: geometry.count - 1, through: 0, by: -1) {
            z = renderStep(z, level: l, translations: g.translations[l], switches: g.switches[l])
            if nonnegativeRendering && l > 0 {
                for i in z.elements.indices where z.elements[i] < 0 { z.elements[i] = 0 }
            }
            levels.append(z)
        }
        return levels
    }

    /// The same template by the sum-over-paths form (spec §3.3): every pixel is the sum, over
    /// root-to-pixel paths whose switches are all ON, of the product of the weights along the
    /// path (α terms start paths at their own level). An independent computation of
    /// ``render(class:nuisances:)`` for small models.
    /// The NN-DRMM's clamp is not linear, so a model with ``nonnegativeRendering`` is accepted
    /// only when its intermediate templates cannot go negative (nonnegative `W⁽ˡ⁾` for ℓ ≥ 2,
    /// `α`, and `μ_c`), where the clamp never acts.
    public func renderBySumOverPaths(class c: Int, nuisances g: Nuisances) throws -> Tensor {
        try checkClass(c)
        try check(g)
        if nonnegativeRendering {
            let signed =
                filters.dropFirst().contains { $0.elements.contains { $0 < 0 } }
                || renderBias.dropFirst().contains { $0.contains { $0 < 0 } }
                || classTemplates.contains { $0.contains { $0 < 0 } }
            if signed {
                throw DRMMError.invalidParameter(
                    "the sum-over-paths form is linear; this NN-DRMM has signed weights above level 1, where its "
                        + "clamp acts"
                )
            }
        }
        var image = Tensor(shape: inputShape)
        // descend(level, unit value at a pooled unit of `level`'s output) stamps downward.
        func descend(_ level: Int, channel k: Int, y: Int, x: Int, weight: Double) {
            // (k, y, x) is a unit of the pooled map of `level` (level 0 = the image itself).
            if level == 0 { image[k, y, x] += weight; return }
            let geo = geometry[level - 1]
            let u = (k * geo.pooled[1] + y) * geo.pooled[2] + x
            guard g.switches[level - 1][u] else { return }
            let t = g.translations[level - 1][u]
            let (cy, cx) = (y * geo.pool + t / geo.pool, x * geo.pool + t % geo.pool)
            for ci in 0..<geo.input[0] {
                for r in 0..<geo.kernel {
                    for s in 0..<geo.kernel {
                        let (iy, ix) = (cy + r - geo.pad, cx + s - geo.pad)
                        guard iy >= 0, iy < geo.input[1], ix >= 0, ix < geo.input[2] else { continue }
                        let w = filters[level - 1][k, ci, r, s]
                        if w != 0 { descend(level - 1, channel: ci, y: iy, x: ix, weight: weight * w) }
                    }
                }
            }
        }
        let top = topShape
        for k in 0..<top[0] {
            for y in 0..<top[1] {
                for x in 0..<top[2] {
                    let v = classTemplates[c][(k * top[1] + y) * top[2] + x]
                    if v != 0 { descend(geometry.count, channel: k, y: y, x: x, weight: v) }
                }
            }
        }
        for l in 0..<geometry.count {  // α⁽ˡ⁾ sits on every unit of level ℓ−1
            let shape = geometry[l].input
            for k in 0..<shape[0] where renderBias[l][k] != 0 {
                for y in 0..<shape[1] {
                    for x in 0..<shape[2] { descend(l, channel: k, y: y, x: x, weight: renderBias[l][k]) }
                }
            }
        }
        return image
    }

    /// Top-down reconstruction `Î = Λ_ĝ μ_ĉ` from a bottom-up pass, for the inferred class or
    /// a given one (e.g. the label).
    public func reconstruct(_ inference: BottomUpInference, class c: Int? = nil) throws -> Tensor {
        try render(class: c ?? inference.predictedClass, nuisances: inference.nuisances)
    }

    /// `Σ_ℓ Σ_u z⁽ˡ⁾_u a_u β⁽ˡ⁾_{k(u)}`: the prior part of a configuration's max-sum score (in
    /// units of σ², like ``BottomUpInference/classScores``), where `z⁽ˡ⁾_u` is the value the
    /// top-down rendering ``renderLevels(class:nuisances:)`` gives pooled unit `u` of level ℓ
    /// and `β` is ``unitBias(level:)``.
    public func priorScore(class c: Int, nuisances g: Nuisances) throws -> Double {
        priorScore(levels: try renderLevels(class: c, nuisances: g), nuisances: g)
    }

    /// `⟨μ_cg, I⟩ + P(c, g)`: the max-sum score of a configuration (units of σ², like
    /// ``BottomUpInference/classScores``), rendered once.
    public func linearScore(_ image: Tensor, class c: Int, nuisances g: Nuisances) throws -> Double {
        let levels = try renderLevels(class: c, nuisances: g)
        return levels[levels.count - 1].dot(image) + priorScore(levels: levels, nuisances: g)
    }

    /// ``priorScore(class:nuisances:)`` from the rendered `levels` of the configuration.
    func priorScore(levels: [Tensor], nuisances g: Nuisances) -> Double {
        var total = 0.0
        for (l, geo) in geometry.enumerated() {
            let z = levels[geometry.count - 1 - l]  // the template on level l's pooled units
            let beta = unitBias(level: l)
            let plane = geo.pooled[1] * geo.pooled[2]
            for u in 0..<geo.pooled.reduce(1, *) where g.switches[l][u] { total += z.elements[u] * beta[u / plane] }
        }
        return total
    }

    /// Draws `c ~ π_c`, every unit's `t` uniformly and `a ~ Bernoulli(switchPrior)` (the prior
    /// of a unit whose rendering coefficient is one; see the type's notes on priors), and an
    /// image `μ_cg + N(0, σ² I)`.
    public func sample(using rng: RandomSource) throws -> (class: Int, nuisances: Nuisances, image: Tensor) {
        let c = rng.categorical(classPrior)
        var ts: [[Int]] = [], as_: [[Bool]] = []
        for (l, geo) in geometry.enumerated() {
            let units = geo.pooled.reduce(1, *)
            ts.append((0..<units).map { _ in rng.integer(below: geo.pool * geo.pool) })
            as_.append((0..<units).map { _ in rng.uniform() < layers[l].switchPrior })
        }
        let g = Nuisances(translations: ts, switches: as_)
        var image = try render(class: c, nuisances: g)
        let sd = noiseVariance.squareRoot()
        for i in image.elements.indices { image.elements[i] += rng.gaussian(standardDeviation: sd) }
        return (c, g, image)
    }
}

import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// The Deep Rendering Mixture Model (spec §3): a class `c` picks a top template `μ_c`; each
/// level ℓ = L…1 renders it down with the affine operator `Λ⁽ˡ⁾_g` (the rendering matrix):
/// unpool by the translations `t`, switch by `a`, transposed convolution with the filters
/// `W⁽ˡ⁾`, plus the bias `α⁽ˡ⁾`; the image is the rendered template plus `N(0, σ² I)` noise.
///
/// `filters[ℓ−1]` is `W⁽ˡ⁾`, shaped `[C_ℓ, C_{ℓ−1}, K, K]`: the same tensor renders top-down
/// (as a transposed convolution) and infers bottom-up (as a convolution).
///
/// **Priors in the max-sum score.** A configuration `(c, g)` is scored by
/// `S(c, g) = (⟨μ_cg, I⟩ + Σ_ℓ Σ_u z⁽ˡ⁾_u a_u β⁽ˡ⁾_{k(u)}) / σ² + ln π_c`: the linear score
/// (spec E4) plus, for every ON unit `u`, its bias ``unitBias(level:)`` — the switch prior's
/// log-odds `ln(π_ON/π_OFF)` and the convnet bias — weighted by `z⁽ˡ⁾_u`, the coefficient the
/// top-down rendering gives the unit (see ``priorScore(class:nuisances:)``). This is spec E5:
/// a per-unit prior enters additively at its own level, in the unit's message, and is carried
/// up with it. With that score, bottom-up max-sum is exactly `Conv → +β → ReLU → MaxPool`
/// under E1–E3. Where every coefficient is one (a single level under an all-ones template, the
/// shallow RMM) it is the Bernoulli prior `ln π(a)` up to a constant; with `π_ON = ½` and zero
/// convnet biases the term vanishes. ``sample(using:)`` draws each switch from
/// `Bernoulli(π_ON)`, the prior of a unit of coefficient one.
public struct DeepRenderingMixtureModel: Sendable {
    /// `[C, H, W]` of an image.
    public let inputShape: [Int]
    /// The levels, bottom (ℓ = 1) first.
    public let layers: [LayerSpec]
    /// Shapes of every level, chained from the input.
    public let geometry: [LayerGeometry]
    /// `W⁽ˡ⁾` for ℓ = 1…L.
    public var filters: [Tensor]
    /// `α⁽ˡ⁾`: the rendering bias added per channel of level ℓ−1 (zero in the theorem).
    public var renderBias: [[Double]]
    /// The convnet bias per output channel of level ℓ, used by the bottom-up pass (zero in the
    /// generative model; free after the discriminative relaxation).
    public var convBias: [[Double]]
    /// `μ_c` for every class, each over the top level's pooled map.
    public var classTemplates: [[Double]]
    /// `π_c`.
    public var classPrior: [Double]
    /// `σ²`, the pixel noise variance.
    public var noiseVariance: Double
    /// The NN-DRMM (spec §3.4): clamp every intermediate rendered template `z⁽ˡ⁾`,
    /// ℓ = 1…L−1, at zero from below during top-down rendering.
    public var nonnegativeRendering = false

    /// The number of classes.
    public var classCount: Int { classTemplates.count }
    /// `D`, the number of pixels (times channels).
    public var inputSize: Int { inputShape.reduce(1, *) }

    /// A model with zero parameters of the right shapes. Checks that the layers chain.
    public init(inputShape: [Int], layers: [LayerSpec], classes: Int, noiseVariance: Double = 1) throws {
        let limits = ResourceLimits.standard
        let geometry = try LayerGeometry.chain(layers, input: inputShape, limits: limits)
        guard classes >= 1 else {
            throw DRMMError.invalidParameter("the number of classes must be at least 1, got \(classes)")
        }
        guard classes <= ResourceLimits.standard.architectureSize else {
            throw DRMMError.tooLarge(
                "\(classes) classes is above the limit of \(ResourceLimits.standard.architectureSize)")
        }
        guard noiseVariance > 0, noiseVariance.isFinite else {
            throw DRMMError.invalidParameter("σ² must be positive and finite, got \(noiseVariance)")
        }
        var parameters = 0
        for (i, g) in geometry.enumerated() {
            // Every tensor this model allocates, checked before any is.
            do {
                let filters = try limits.checkedProduct(
                    [g.convolved[0], g.input[0], g.kernel, g.kernel], limit: \.modelParameters,
                    what: "layer \(i + 1)'s filters")
                parameters = try limits.check(
                    parameters + filters, limit: \.modelParameters, what: "the filters of layers 1...\(i + 1)")
                try limits.checkedProduct(
                    g.convolved, limit: \.activationsPerImage, what: "layer \(i + 1)'s convolution output")
            } catch let e as ResourceLimitError { throw DRMMError.tooLarge("\(e)") }
        }
        let shape = geometry[geometry.count - 1].pooled
        do {
            try limits.checkedProduct(
                [classes, shape.reduce(1, *)], limit: \.modelParameters, what: "the class templates")
        } catch let e as ResourceLimitError { throw DRMMError.tooLarge("\(e)") }
        self.inputShape = inputShape
        self.layers = layers
        self.geometry = geometry
        filters = geometry.map { Tensor(shape: [$0.convolved[0], $0.input[0], $0.kernel, $0.kernel]) }
        renderBias = geometry.map { [Double](repeating: 0, count: $0.input[0]) }
        convBias = geometry.map { [Double](repeating: 0, count: $0.convolved[0]) }
        classTemplates = [[Double]](repeating: [Double](repeating: 0, count: shape.reduce(1, *)), count: classes)
        classPrior = [Double](repeating: 1 / Double(classes), count: classes)
        self.noiseVariance = noiseVariance
    }

    /// The top level's pooled shape (the shape of each `μ_c`).
    public var topShape: [Int] { geometry[geometry.count - 1].pooled }

    /// `ln(π_ON / π_OFF)` of level ℓ's switches (`level` is 0-based): the switch prior's
    /// log-odds, which enters each unit's response when the unit is ON.
    public func switchLogOdds(level l: Int) -> Double {
        let p = layers[l].switchPrior
        return log(p / (1 - p))
    }

    /// The bias `β⁽ˡ⁾_k = b⁽ˡ⁾_k + ln(π_ON/π_OFF)` that the bottom-up pass adds to channel `k`'s
    /// convolution before the switch (`level` is 0-based): the convnet bias and the switch
    /// prior's log-odds. An ON unit of channel `k` adds `β_k` to its response, an OFF unit
    /// nothing.
    public func unitBias(level l: Int) -> [Double] {
        let logOdds = switchLogOdds(level: l)
        return convBias[l].map { $0 + logOdds }
    }

    /// Checks every parameter's shape and value.
    public func validate() throws {
        for (l, g) in geometry.enumerated() {
            let expected = [g.convolved[0], g.input[0], g.kernel, g.kernel]
            guard filters[l].shape == expected else {
                throw DRMMError.shapeMismatch(
                    what: "layer \(l + 1) filters", expected: expected, actual: filters[l].shape)
            }
            if let bad = filters[l].elements.firstIndex(where: { !$0.isFinite }) {
                throw DRMMError.invalidParameter("layer \(l + 1) filter entry \(bad) is \(filters[l].elements[bad])")
            }
            guard renderBias[l].count == g.input[0] else {
                throw DRMMError.shapeMismatch(
                    what: "layer \(l + 1) rendering bias α", expected: [g.input[0]], actual: [renderBias[l].count])
            }
            guard convBias[l].count == g.convolved[0] else {
                throw DRMMError.shapeMismatch(
                    what: "layer \(l + 1) convolution bias", expected: [g.convolved[0]], actual: [convBias[l].count])
            }
        }
        let d = topShape.reduce(1, *)
        for (c, mu) in classTemplates.enumerated() {
            guard mu.count == d else {
                throw DRMMError.shapeMismatch(what: "class template μ_\(c)", expected: topShape, actual: [mu.count])
            }
            if mu.contains(where: { !$0.isFinite }) {
                throw DRMMError.invalidParameter("class template μ_\(c) has a non-finite entry")
            }
        }
        guard classPrior.count == classCount, classPrior.allSatisfy({ $0 > 0 && $0.isFinite }),
            abs(classPrior.reduce(0, +) - 1) < 1e-9
        else {
            throw DRMMError.invalidParameter(
                "class prior must be \(classCount) positive numbers summing to one, got \(classPrior)")
        }
        guard noiseVariance > 0, noiseVariance.isFinite else {
            throw DRMMError.invalidParameter("σ² must be positive and finite, got \(noiseVariance)")
        }
    }

    /// Checks an image against ``inputShape``.
    func check(_ image: Tensor) throws {
        guard image.shape == inputShape else {
            throw DRMMError.invalidInput(
                "image has shape \(image.shape) (channels, height, width), the model expects \(inputShape)")
        }
        if let bad = image.elements.firstIndex(where: { !$0.isFinite }) {
            throw DRMMError.invalidInput("pixel \(bad) is \(image.elements[bad])")
        }
    }

    /// Random parameters for tests and demos: filters `N(0, scale²)` (nonnegative from level 2
    /// up and for `μ_c` when `nonnegative`, the NN-DRMM conditions of the theorem).
    public static func random(
        inputShape: [Int], layers: [LayerSpec], classes: Int, seed: UInt64,
        nonnegative: Bool = true, noiseVariance: Double = 1
    ) throws -> DeepRenderingMixtureModel {
        var m = try DeepRenderingMixtureModel(
            inputShape: inputShape, layers: layers, classes: classes, noiseVariance: noiseVariance)
        let rng = RandomSource(seed: seed)
        for l in m.filters.indices {
            for i in m.filters[l].elements.indices {
                let v = rng.gaussian()
                m.filters[l].elements[i] = (nonnegative && l >= 1) ? abs(v) : v
            }
        }
        for c in 0..<classes {
            for i in m.classTemplates[c].indices {
                let v = rng.gaussian()
                m.classTemplates[c][i] = nonnegative ? abs(v) : v
            }
        }
        return m
    }
}

extension DeepRenderingMixtureModel {
    /// Sets a global-mean-pool + dense top (the 5-layer MNIST net of spec §6.5): class `c`'s
    /// score is `Σ_k weights[c][k] · mean_{i,j} I⁽ᴸ⁾[k, i, j]`. As a rendering model this is the
    /// dense template `μ_c[k, i, j] = weights[c][k] / (H·W)` (and top-down, each weight is
    /// broadcast over the map), so everything else — inference, rendering, the proof — is
    /// unchanged.
    public mutating func setMeanPoolTop(weights: [[Double]]) throws {
        let top = topShape
        guard weights.count == classCount, weights.allSatisfy({ $0.count == top[0] }) else {
            throw DRMMError.shapeMismatch(
                what: "mean-pool classifier weights", expected: [classCount, top[0]],
                actual: [weights.count, weights.first?.count ?? 0])
        }
        classTemplates = weights.map { Readout.meanPool.denseTemplate($0, top: top) }
    }
}

import DRMM
import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

extension RenderingNetwork {
    /// The network without normalisation that a batch-normalised network is at test time: each
    /// level's `γ, m, v` folded into the filters `W' = γ W / √(v + ε)` and the bias
    /// `b' = b − γ m / √(v + ε)` (a rescaled rendering matrix and a shifted switch prior). A
    /// network without normalisation is returned as it is.
    public func foldingNormalization() throws -> RenderingNetwork<T> {
        guard architecture.normalization.isBatch else { return self }
        var plainArchitecture = architecture
        plainArchitecture.normalization = .none
        for suffix in ["-bnf", "-bn"] where plainArchitecture.name.hasSuffix(suffix) {
            plainArchitecture.name.removeLast(suffix.count)
        }
        var plain = try RenderingNetwork<T>(architecture: plainArchitecture)
        let epsilon = Double(BatchPass<T>.normalizationEpsilon)
        for l in geometry.indices {
            let o = geometry[l].convolved[0], per = layout.filters[l].count / o
            for c in 0..<o {
                let gamma = Double(parameters[layout.scales[l].lowerBound + c])
                let mean = Double(parameters[layout.statistics[l].lowerBound + c])
                let variance = Double(parameters[layout.statistics[l].lowerBound + o + c])
                let k = gamma / (variance + epsilon).squareRoot()
                for q in 0..<per {
                    plain.parameters[plain.layout.filters[l].lowerBound + c * per + q] = T(
                        k * Double(parameters[layout.filters[l].lowerBound + c * per + q]))
                }
                plain.parameters[plain.layout.biases[l].lowerBound + c] = T(
                    Double(parameters[layout.biases[l].lowerBound + c]) - k * mean)
            }
        }
        for (to, from) in [
            (plain.layout.classTemplates, layout.classTemplates), (plain.layout.classBias, layout.classBias)
        ] {
            for (i, j) in zip(to, from) { plain.parameters[i] = parameters[j] }
        }
        return plain
    }
}

extension DeepRenderingMixtureModel {
    /// The DRMM a trained network is: batch normalisation folded (``RenderingNetwork/foldingNormalization()``),
    /// the filters as rendering filters, each level's biases as its switch prior (the logistic
    /// of their mean) and per-channel convnet biases (`unitBias(level:)` gives back the
    /// network's biases), and the class biases as the prior `π_c ∝ exp(b_c)`.
    ///
    /// The top renders as the trainer renders it: a dense template is `μ_c` itself (σ² = 1); a
    /// mean-pool top broadcasts each weight over the map, `μ_c[k, i, j] = w_ck`, and its scores
    /// read the mean, so σ² = H·W of the top map. Either way `⟨μ_c, I⁽ᴸ⁾⟩/σ² + ln π_c` is the
    /// network's logit, the routes and switches are the network's, and `reconstruct(_:class:)`
    /// is the trainer's reconstruction (exactly so when the top-down pass renders the rendering
    /// matrix the bottom-up pass infers with: without normalisation, or with
    /// ``Architecture/Normalization/batchFolded`` at its running statistics). Set
    /// `noiseVariance` afterwards to sample with another pixel noise; that rescales the
    /// class scores' weight against the prior.
    public init<T: BLASScalar>(trained network: RenderingNetwork<T>) throws {
        // Folded in Double, so that the folded filters are not rounded to the network's precision.
        let net = try network.converted(to: Double.self).foldingNormalization()
        let arch = net.architecture
        let layers = arch.layers.enumerated().map { l, spec in
            var s = spec
            s.switchPrior = Self.switchPrior(relaxedBiases: Array(net.parameters[net.layout.biases[l]]))
            return s
        }
        let top = net.geometry[net.geometry.count - 1].pooled
        let variance = arch.top == .meanPool ? Double(top[1] * top[2]) : 1
        try self.init(inputShape: arch.inputShape, layers: layers, classes: arch.classes, noiseVariance: variance)
        for l in geometry.indices {
            filters[l] = try Tensor(shape: filters[l].shape, elements: Array(net.parameters[net.layout.filters[l]]))
            setUnitBias(level: l, to: Array(net.parameters[net.layout.biases[l]]))
        }
        let d = net.layout.templateLength
        classTemplates = (0..<arch.classes).map { c in
            let start = net.layout.classTemplates.lowerBound + c * d
            let w = Array(net.parameters[start..<(start + d)])
            return arch.top.denseTemplate(w, top: top).map { $0 * variance }
        }
        classPrior = Self.classPrior(relaxedBiases: Array(net.parameters[net.layout.classBias]))
        try validate()
    }
}

extension ConvNet {
    /// The Float convnet of a trained network, batch normalisation folded
    /// (``RenderingNetwork/foldingNormalization()``): the network's filters and biases, and its
    /// top as the classifier, so the scores are the network's logits and the routes its routes.
    public init<T: BLASScalar>(trained network: RenderingNetwork<T>) throws {
        let net = try network.converted(to: Double.self).foldingNormalization()
        let layers = net.geometry.enumerated().map { l, g in
            Layer(
                filters: net.parameters[net.layout.filters[l]].map(Float.init),
                bias: net.parameters[net.layout.biases[l]].map(Float.init),
                geometry: g)
        }
        let (w, b) = (
            net.parameters[net.layout.classTemplates].map(Float.init),
            net.parameters[net.layout.classBias].map(Float.init)
        )
        try self.init(
            inputShape: net.architecture.inputShape, layers: layers,
            classifier: net.architecture.top == .dense
                ? .dense(weights: w, bias: b) : .meanPoolDense(weights: w, bias: b),
            classes: net.architecture.classes)
    }
}

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
    public func foldingNormalisation() throws -> RenderingNetwork<T> {
        guard architecture.normalisation.isBatch else { return self }
        var plainArchitecture = architecture
        plainArchitecture.normalisation = .none
        for suffix in ["-bnf", "-bn"] where plainArchitecture.name.hasSuffix(suffix) { plainArchitecture.name.removeLast(suffix.count) }
        var plain = try RenderingNetwork<T>(architecture: plainArchitecture)
        let epsilon = Double(BatchPass<T>.normalisationEpsilon)
        for l in geometry.indices {
            let o = geometry[l].convolved[0], per = layout.filters[l].count / o
            for c in 0..<o {
                let gamma = Double(parameters[layout.scales[l].lowerBound + c])
                let mean = Double(parameters[layout.statistics[l].lowerBound + c])
                let variance = Double(parameters[layout.statistics[l].lowerBound + o + c])
                let k = gamma / (variance + epsilon).squareRoot()
                for q in 0..<per {
                    plain.parameters[plain.layout.filters[l].lowerBound + c * per + q] = T(k * Double(parameters[layout.filters[l].lowerBound + c * per + q]))
                }
                plain.parameters[plain.layout.biases[l].lowerBound + c] = T(Double(parameters[layout.biases[l].lowerBound + c]) - k * mean)
            }
        }
        for (to, from) in [(plain.layout.classTemplates, layout.classTemplates), (plain.layout.classBias, layout.classBias)] {
            for (i, j) in zip(to, from) { plain.parameters[i] = parameters[j] }
        }
        return plain
    }
}

extension DeepRenderingMixtureModel {
    /// The DRMM a trained network is: batch normalisation folded (``RenderingNetwork/foldingNormalisation()``),
    /// the filters as rendering filters, each level's biases as its switch prior (the logistic
    /// of their mean) and per-channel convnet biases (``unitBias(level:)`` gives back the
    /// network's biases), the class templates as `μ_c` (a mean-pool top spreads each weight over
    /// the map, `μ_c[k, i, j] = w[c, k]/(H·W)`), and the class biases as the prior
    /// `π_c ∝ exp(b_c)` with σ² = 1, so the posterior scores differ by exactly the network's
    /// logit differences.
    public init<T: TrainingScalar>(trained network: RenderingNetwork<T>) throws {
        // Folded in Double, so that the folded filters are not rounded to the network's precision.
        let net = try network.converted(to: Double.self).foldingNormalisation()
        let arch = net.architecture
        let layers = arch.layers.enumerated().map { l, spec in
            var s = spec
            s.switchPrior = Self.switchPrior(relaxedBiases: Array(net.parameters[net.layout.biases[l]]))
            return s
        }
        try self.init(inputShape: arch.inputShape, layers: layers, classes: arch.classes, noiseVariance: 1)
        for l in geometry.indices {
            filters[l] = try Tensor(shape: filters[l].shape, elements: Array(net.parameters[net.layout.filters[l]]))
            setUnitBias(level: l, to: Array(net.parameters[net.layout.biases[l]]))
        }
        let templates = Array(net.parameters[net.layout.classTemplates])
        let d = net.layout.templateLength
        switch arch.top {
        case .dense:
            classTemplates = (0..<arch.classes).map { c in (0..<d).map { templates[c * d + $0] } }
        case .meanPool:
            try setMeanPoolTop(weights: (0..<arch.classes).map { c in (0..<d).map { templates[c * d + $0] } })
        }
        classPrior = Self.classPrior(relaxedBiases: Array(net.parameters[net.layout.classBias]))
        try validate()
    }
}

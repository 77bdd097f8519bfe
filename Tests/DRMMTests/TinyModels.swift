import DRMM
import NumericalCore

/// Small DRMMs whose every rendering path can be enumerated, with architectures drawn at
/// random: 2–4 levels, 1–3 channels per level, kernels 1–4, every padding at every level,
/// pools 1–3 at any level (non-overlapping: stride = pool), non-square inputs of 1–2 channels,
/// 2–3 classes, a random switch prior per level and (optionally) random convnet biases. Draws
/// are rejected until the model has at most `maximumConfigurations` joint configurations.
enum TinyModels {
    static let maximumConfigurations = 1 << 15

    static func architecture(_ rng: RandomSource) -> (input: [Int], layers: [LayerSpec], classes: Int) {
        while true {
            let classes = 2 + rng.integer(below: 2)
            let input = [1 + rng.integer(below: 2), 2 + rng.integer(below: 5), 2 + rng.integer(below: 5)]
            var shape = input
            var layers: [LayerSpec] = []
            var configurations = Double(classes)
            var ok = true
            for _ in 0..<(2 + rng.integer(below: 3)) {
                let kernel = 1 + rng.integer(below: 4)
                var padding = Padding.allCases[rng.integer(below: 3)]
                if padding == .same && kernel % 2 == 0 { padding = .full }
                let pad = padding.amount(kernel: kernel)
                let (h, w) = (shape[1] + 2 * pad - kernel + 1, shape[2] + 2 * pad - kernel + 1)
                guard h >= 1, w >= 1 else { ok = false; break }
                let pools = (1...3).filter { h % $0 == 0 && w % $0 == 0 }
                let pool = pools[rng.integer(below: pools.count)]
                let channels = 1 + rng.integer(below: 3)
                let prior = 0.1 + 0.8 * rng.uniform()
                layers.append(
                    LayerSpec(channels: channels, kernel: kernel, padding: padding, pool: pool, switchPrior: prior))
                shape = [channels, h / pool, w / pool]
                configurations *= pow(Double(2 * pool * pool), Double(shape.reduce(1, *)))
                if configurations > Double(maximumConfigurations) { ok = false; break }
            }
            if ok { return (input, layers, classes) }
        }
    }

    /// A random model; `nonnegative` keeps `W⁽ˡ⁾` (ℓ ≥ 2) and `μ_c` nonnegative (E2), `priors`
    /// draws a switch prior per level (else ½), `biases` random convnet biases (else zero).
    static func model(seed: UInt64, nonnegative: Bool = true, priors: Bool = true, biases: Bool = false) throws
        -> DeepRenderingMixtureModel
    {
        let rng = RandomSource(seed: seed)
        var (input, layers, classes) = architecture(rng)
        if !priors { for l in layers.indices { layers[l].switchPrior = 0.5 } }
        var model = try DeepRenderingMixtureModel.random(
            inputShape: input, layers: layers, classes: classes,
            seed: seed &* 7919, nonnegative: nonnegative)
        if biases {
            for l in model.convBias.indices {
                for k in model.convBias[l].indices { model.convBias[l][k] = 0.5 * rng.gaussian() }
            }
        }
        return model
    }

    static func image(for model: DeepRenderingMixtureModel, seed: UInt64) -> Tensor {
        let rng = RandomSource(seed: seed ^ 0xABCDEF)
        var t = Tensor(shape: model.inputShape)
        for i in t.elements.indices { t.elements[i] = rng.gaussian() }
        return t
    }
}

import Foundation

import Testing

@Suite("Random architectures of the proof tests")
struct TinyModelCoverageTests {
    /// The proof tests draw from ``TinyModels``; this checks that the draws range over what the
    /// theorem claims: every depth, pools (translation nuisances) above level 1, every padding
    /// above level 1, non-square inputs, kernels 1–4.
    @Test("the drawn architectures cover depths 2–4, pools and paddings at every level, non-square inputs")
    func coverage() {
        var depths = Set<Int>(), kernels = Set<Int>(), upperPaddings = Set<Padding>()
        var upperPools = 0, nonSquare = 0, multiChannel = 0
        for seed in UInt64(1)...200 {
            let (input, layers, _) = TinyModels.architecture(RandomSource(seed: seed))
            depths.insert(layers.count)
            for l in layers { kernels.insert(l.kernel) }
            for l in layers.dropFirst() { upperPaddings.insert(l.padding); if l.pool > 1 { upperPools += 1 } }
            if input[1] != input[2] { nonSquare += 1 }
            if layers.contains(where: { $0.channels > 1 }) { multiChannel += 1 }
        }
        print(
            "200 draws: depths \(depths.sorted()), kernels \(kernels.sorted()), pools > 1 above level 1: "
                + "\(upperPools), non-square: \(nonSquare)"
        )
        #expect(depths == [2, 3, 4] && kernels == [1, 2, 3, 4] && upperPaddings.count == 3)
        #expect(upperPools >= 10 && nonSquare >= 50 && multiChannel >= 50)
    }
}

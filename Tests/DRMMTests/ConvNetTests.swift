import Foundation
import Testing
import NumericalCore
import DRMM

/// The Float32 batched convnet (im2col + sgemm over the whole batch) is the DRMM's bottom-up
/// pass: same scores to single precision, same switches and pool argmaxes.
@Suite("DCN view")
struct ConvNetTests {
    @Test("exported convnet = DRMM bottom-up pass, image by image, in one batch", arguments: Array(UInt64(1)...12))
    func export(seed: UInt64) throws {
        var model = try TinyModels.model(seed: seed, nonnegative: false)
        let rng = RandomSource(seed: seed)
        for l in model.convBias.indices {
            for k in model.convBias[l].indices { model.convBias[l][k] = 0.3 * rng.gaussian() }
        }
        let net = try ConvNet(exporting: model)
        let n = 7
        let images = (0..<n).map { TinyModels.image(for: model, seed: seed &+ UInt64($0)) }
        let out = try net.forward(images.flatMap { $0.elements.map(Float.init) }, count: n)
        for (i, image) in images.enumerated() {
            let ref = try model.infer(image)
            for c in 0..<model.classCount {
                let expected = ref.classScores[c] + model.noiseVariance * log(model.classPrior[c])
                #expect(abs(Double(out.scores[i * model.classCount + c]) - expected) <= 1e-4 * max(1, abs(expected)))
            }
            for (l, g) in model.geometry.enumerated() {
                let units = g.pooled[1] * g.pooled[2]
                for k in 0..<g.pooled[0] {
                    for q in 0..<units {
                        let u = k * units + q, v = (k * n + i) * units + q
                        // Single precision can only flip a switch or argmax at a near-tie.
                        let margin = abs(ref.features[l].elements[u])
                        if margin > 1e-4 { #expect(out.switches[l][v] == ref.nuisances.switches[l][u]) }
                        if ref.nuisances.switches[l][u] && margin > 1e-3 {
                            let s = ref.responses[l], p = g.pool
                            let (y, x) = (q / g.pooled[2], q % g.pooled[2])
                            var window = [Double]()
                            for di in 0..<p { for dj in 0..<p { window.append(s[k, y * p + di, x * p + dj]) } }
                            let sorted = window.sorted(by: >)
                            if sorted.count < 2 || sorted[0] - sorted[1] > 1e-3 {
                                #expect(Int(out.translations[l][v]) == ref.nuisances.translations[l][u])
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("a convnet's biases become switch priors and back: export(import(net)) has the net's biases")
    func biasesAreSwitchPriors() throws {
        var net = try ConvNet(
            inputShape: [1, 8, 8],
            layers: [
                LayerSpec(channels: 3, kernel: 3, padding: .same, pool: 2),
                LayerSpec(channels: 4, kernel: 3, pool: 2)
            ], classes: 5, meanPoolTop: true, seed: 4)
        let rng = RandomSource(seed: 4)
        for l in net.layers.indices {
            for k in net.layers[l].bias.indices { net.layers[l].bias[k] = Float(rng.gaussian()) }
        }
        let model = try DeepRenderingMixtureModel(importing: net)
        for (l, layer) in net.layers.enumerated() {
            let mean = layer.bias.reduce(0) { $0 + Double($1) } / Double(layer.bias.count)
            #expect(abs(model.layers[l].switchPrior - 1 / (1 + exp(-mean))) < 1e-12)
            #expect(abs(model.switchLogOdds(level: l) - mean) < 1e-9)
            for (a, b) in zip(model.unitBias(level: l), layer.bias) { #expect(abs(a - Double(b)) < 1e-6) }
        }
        let back = try ConvNet(exporting: model)
        for (a, b) in zip(back.layers, net.layers) { for (x, y) in zip(a.bias, b.bias) { #expect(abs(x - y) < 1e-6) } }
    }

    @Test("importing a convnet gives a relaxed DRMM with the same argmax and score differences")
    func importing() throws {
        let net = try ConvNet(
            inputShape: [1, 8, 8],
            layers: [
                LayerSpec(channels: 3, kernel: 3, padding: .same, pool: 2),
                LayerSpec(channels: 4, kernel: 3, pool: 2)
            ], classes: 5, meanPoolTop: true, seed: 3)
        let model = try DeepRenderingMixtureModel(importing: net)
        let rng = RandomSource(seed: 12)
        for _ in 0..<5 {
            var image = Tensor(shape: [1, 8, 8])
            for i in image.elements.indices { image.elements[i] = rng.gaussian() }
            let out = try net.forward(image.elements.map(Float.init), count: 1)
            let ref = try model.infer(image)
            let posterior = (0..<5).map { ref.classScores[$0] + log(model.classPrior[$0]) }
            for c in 1..<5 {
                #expect(abs(Double(out.scores[c] - out.scores[0]) - (posterior[c] - posterior[0])) < 1e-4)
            }
        }
        #expect(throws: DRMMError.self) { try net.forward([0, 1], count: 1) }
    }
}

@Suite("Mean-pool top")
struct MeanPoolTopTests {
    @Test("a mean-pool + dense top scores Σ_k w[c][k]·mean_k, as the convnet does")
    func meanPoolTop() throws {
        var model = try DeepRenderingMixtureModel.random(
            inputShape: [1, 8, 8], layers: [LayerSpec(channels: 3, kernel: 3, padding: .same, pool: 2)],
            classes: 4, seed: 9)
        let rng = RandomSource(seed: 9)
        let w = (0..<4).map { _ in (0..<3).map { _ in rng.gaussian() } }
        try model.setMeanPoolTop(weights: w)
        var image = Tensor(shape: [1, 8, 8])
        for i in image.elements.indices { image.elements[i] = rng.gaussian() }
        let r = try model.infer(image)
        let f = r.features[0]
        for c in 0..<4 {
            var expected = 0.0
            for k in 0..<3 { expected += w[c][k] * f.elements[(k * 16)..<((k + 1) * 16)].reduce(0, +) / 16 }
            #expect(abs(r.classScores[c] - expected) < 1e-12)
        }
        #expect(throws: DRMMError.self) { try model.setMeanPoolTop(weights: [[1, 2]]) }
    }
}

import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// A trained network becomes a `DeepRenderingMixtureModel`, and the certificate that it is
/// max-sum inference in that model.
@Suite("Trained networks as DRMMs", .serialized)
struct TrainedModelTests {
    static func architecture(top: Architecture.Top) -> Architecture {
        Architecture(
            name: "small-\(top.rawValue)", inputShape: [1, 28, 28],
            layers: [
                LayerSpec(channels: 4, kernel: 5, padding: .full, pool: 2),
                LayerSpec(channels: 6, kernel: 3, padding: .valid, pool: 2)
            ],
            classes: 10, top: top
        ).batchNormalized()
    }

    /// A few EG steps on 200 digits.
    static func trained(top: Architecture.Top, nonnegative: Bool) throws -> (RenderingNetwork<Float>, ImageSet) {
        let (train, test) = try Support.mnist(train: 200, test: 30)
        var configuration = TrainingConfiguration(
            epochs: 1, batchSize: 50, optimizer: Optimizer(learningRate: 3e-3), seed: 3, workers: 1)
        configuration.nonnegativeUpperWeights = nonnegative
        let trainer = try EGTrainer(
            network: RenderingNetwork<Float>(architecture: architecture(top: top), seed: 3),
            configuration: configuration, train: train)
        _ = try trainer.runEpoch()
        return (trainer.network, test)
    }

    @Test(
        "converted after training: the Double inference gives the training pass's scores, switches and routes",
        arguments: [Architecture.Top.dense, .meanPool])
    func conversion(top: Architecture.Top) throws {
        let (network, test) = try Self.trained(top: top, nonnegative: false)
        let model = try DeepRenderingMixtureModel(trained: network)
        // The library's folding equals the independent one of the normalisation tests.
        var plain = Self.architecture(top: top)
        plain.normalization = .none
        plain.name = "small-\(top.rawValue)"
        let oracle = try BatchNormalizationTests.fold(network.converted(to: Double.self), into: plain)
        let folded = try network.converted(to: Double.self).foldingNormalization()
        #expect(zip(oracle.parameters, folded.parameters).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0)) })
        // The training pass at test time (running statistics), in Double.
        let n = test.count, d = 784
        let pass = BatchPass(network: network.converted(to: Double.self))
        let images = test.pixels.map(Double.init)
        let labels = test.labels
        let parameters = network.converted(to: Double.self).parameters
        _ = parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                pass.run(
                    parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n,
                    objective: Objective(crossEntropy: 1),
                    labeledTotal: n, total: n, gradient: nil, batchStatistics: false)
            }
        }
        var switchesCompared = 0, translationsCompared = 0
        for i in 0..<n {
            let image = try Tensor(shape: [1, 28, 28], elements: Array(images[(i * d)..<((i + 1) * d)]))
            let r = try model.infer(image)
            #expect(r.predictedClass == pass.predictions[i])
            // log q(c | I) differences are the posterior score differences of the DRMM.
            func posteriorScore(_ c: Int) -> Double {
                r.classScores[c] / model.noiseVariance + log(model.classPrior[c])
            }
            for c in 1..<10 {
                let drmm = posteriorScore(c) - posteriorScore(0)
                let network = log(Double(pass.posteriors[i * 10 + c])) - log(Double(pass.posteriors[i * 10]))
                #expect(abs(drmm - network) <= 1e-8 * max(1, abs(drmm)), "image \(i) class \(c)")
            }
            // Routes: the argmax position in the unpooled plane, complemented when OFF.
            for (l, g) in model.geometry.enumerated() {
                let (hp, wp, wo, p) = (g.pooled[1], g.pooled[2], g.convolved[2], g.pool)
                for k in 0..<g.pooled[0] {
                    for y in 0..<hp {
                        for x in 0..<wp {
                            let u = (k * hp + y) * wp + x
                            let route = Int(pass.routes[l][((k * n + i) * hp + y) * wp + x])
                            // exact ties are not compared
                            guard abs(r.features[l].elements[u]) > 1e-9 else { continue }
                            switchesCompared += 1
                            #expect((route >= 0) == r.nuisances.switches[l][u])
                            // A window whose two largest responses tie to rounding has two argmaxes; the
                            // batched and the single-image GEMMs may round them apart either way.
                            let window = (0..<(p * p)).map { r.responses[l][k, y * p + $0 / p, x * p + $0 % p] }.sorted(
                                by: >)
                            if route >= 0, window[0] - window[1] > 1e-9 * max(1, abs(window[0])) {
                                translationsCompared += 1
                                let t = (route / wo - y * p) * p + (route % wo - x * p)
                                #expect(t == r.nuisances.translations[l][u], "level \(l + 1) unit \(u)")
                            }
                        }
                    }
                }
            }
        }
        #expect(switchesCompared > 1000 && translationsCompared > 1000)
    }

    @Test("a declared switch prior is the network's starting bias, and the converted DRMM's prior")
    func declaredPriors() throws {
        var a = Self.architecture(top: .dense)
        a.layers[0].switchPrior = 0.2
        a.layers[1].switchPrior = 0.7
        let network = try RenderingNetwork<Float>(architecture: a, seed: 1)
        for (l, p) in [(0, 0.2), (1, 0.7)] {
            #expect(
                network.parameters[network.layout.biases[l]].allSatisfy { abs(Double($0) - log(p / (1 - p))) < 1e-6 })
        }
        let model = try DeepRenderingMixtureModel(trained: network)
        // Running statistics 0 and 1 and γ = 1 leave the folded bias at the log-odds (up to ε).
        #expect(abs(model.layers[0].switchPrior - 0.2) < 1e-5 && abs(model.layers[1].switchPrior - 0.7) < 1e-5)
        #expect(model.convBias.allSatisfy { $0.allSatisfy { abs($0) < 1e-9 } })
    }

    @Test("the certificate: exact max-sum when trained with nonnegative upper weights, a search otherwise")
    func certificate() throws {
        let (signed, test) = try Self.trained(top: .meanPool, nonnegative: false)
        let (nonnegative, _) = try Self.trained(top: .meanPool, nonnegative: true)
        // Projection keeps E2 and leaves level 1 signed.
        #expect(nonnegative.upperWeightIndices.allSatisfy { $0.allSatisfy { nonnegative.parameters[$0] >= 0 } })
        #expect(nonnegative.parameters[nonnegative.layout.filters[0]].contains { $0 < 0 })
        let exact = try NetworkCertificate.certify(nonnegative, on: test, workers: 1)
        #expect(exact.provesExactMaxSum && exact.largestGapFound == nil && exact.imagesChecked == test.count)
        #expect(exact.predictionsAgreeing == test.count)
        let loose = try NetworkCertificate.certify(signed, on: test, searchImages: 2, searchMoves: 40, workers: 1)
        let model = try DeepRenderingMixtureModel(trained: signed)
        #expect(loose.negativeUpperFilterEntries == model.filters[1].elements.filter { $0 < 0 }.count)
        #expect(loose.negativeTemplateEntries == model.classTemplates.joined().filter { $0 < 0 }.count)
        #expect(
            !loose.provesExactMaxSum && loose.largestRelativeScoreDifference <= NetworkCertificate.relativeTolerance)
        #expect(loose.searchedImages == 2 && (loose.largestGapFound ?? -1) >= 0)
    }
}

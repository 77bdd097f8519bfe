import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

@Suite struct InferenceModelTests {
    static let kinds: [InferenceModel.Kind] = [.factorized, .deep(units: 4)]

    /// `q(h | x)` is a distribution, and factorised over the units.
    @Test(arguments: kinds)
    func distributionIsNormalisedAndFactorised(kind: InferenceModel.Kind) throws {
        let model = try InferenceModel(kind: kind, visible: 5, hidden: 3, rng: RandomSource(seed: 1))
        let q = model.distribution([1, 0, 1, 1, 0])
        #expect(abs(q.reduce(0, +) - 1) < 1e-12)
        var p = [Double](repeating: 0, count: 3)
        for s in q.indices { for i in 0..<3 where (s >> i) & 1 == 1 { p[i] += q[s] } }
        for s in q.indices {
            var product = 1.0
            for i in 0..<3 { product *= (s >> i) & 1 == 1 ? p[i] : 1 - p[i] }
            #expect(abs(q[s] - product) < 1e-12)
        }
    }

    /// The gradients of both criteria, in the decoder and in either encoder, equal central
    /// differences of the criteria.
    @Test(arguments: kinds, AutoEncoder.Criterion.allCases)
    func criterionGradientsMatchFiniteDifferences(kind: InferenceModel.Kind, criterion: AutoEncoder.Criterion) throws {
        let rng = RandomSource(seed: 7)
        let data = (0..<12).map { _ in (0..<5).map { _ in rng.uniform() < 0.4 ? 1.0 : 0.0 } }
        let ae = try AutoEncoder(visible: 5, hidden: 3, inference: kind, seed: 3)
        let (mean, gDecoder, gEncoder) = try ae.gradient(criterion, data)
        #expect(abs(mean - (try ae.criterion(criterion, data))) < 1e-12)
        let h = 1e-6
        func value(_ edit: (inout AutoEncoder) -> Void) throws -> Double {
            var copy = ae
            edit(&copy)
            return try copy.criterion(criterion, data)
        }
        let w = ae.decoder.weights.count
        for q in 0..<(w + ae.decoder.bias.count) {
            let up = try value { q < w ? ($0.decoder.weights[q] += h) : ($0.decoder.bias[q - w] += h) }
            let down = try value { q < w ? ($0.decoder.weights[q] -= h) : ($0.decoder.bias[q - w] -= h) }
            #expect(abs((up - down) / (2 * h) - gDecoder[q]) < 1e-6, "decoder parameter \(q)")
        }
        for q in ae.encoder.parameters.indices {
            let up = try value { $0.encoder.parameters[q] += h }
            let down = try value { $0.encoder.parameters[q] -= h }
            #expect(abs((up - down) / (2 * h) - gEncoder[q]) < 1e-6, "encoder parameter \(q)")
        }
    }

    /// The smallest case where a richer inference model is needed: a code bit that is the XOR of
    /// two pixels. No logistic unit of the input can do better than ln ½ on it; an encoder with a
    /// hidden layer of its own fits it.
    @Test func aDeepEncoderRepresentsWhatAFactorisedOneCannot() throws {
        let inputs: [[Double]] = [[0, 0], [0, 1], [1, 0], [1, 1]]
        let codes = [0, 1, 1, 0]  // state index of h (one unit) for each input
        func fit(_ kind: InferenceModel.Kind) throws -> Double {
            var model = try InferenceModel(kind: kind, visible: 2, hidden: 1, rng: RandomSource(seed: 5))
            for _ in 0..<4000 {
                var g = [Double](repeating: 0, count: model.parameters.count)
                for (x, c) in zip(inputs, codes) {
                    var target = [0.0, 0.0]
                    target[c] = 1
                    model.accumulateScoreGradient(x, weights: target, into: &g)
                }
                for i in g.indices { model.parameters[i] += 0.5 * g[i] }
            }
            return zip(inputs, codes).reduce(0) { $0 + log(model.distribution($1.0)[$1.1]) } / 4
        }
        let factorized = try fit(.factorized), deep = try fit(.deep(units: 4))
        #expect(factorized <= log(0.5) + 1e-9, "a logistic unit fitted XOR: \(factorized)")
        #expect(deep > -0.05, "the deep encoder did not fit XOR: \(deep)")
    }

    /// With the decoder held fixed, the deep encoder reaches a higher mixture criterion — a
    /// tighter lower bound of the decoder's BLM bound — than the factorised one. The data are
    /// drawn from a random decoder with strong weights, so the best code of an image (its
    /// `argmax_h P(x | h)`) is a tangled function of its pixels. Both stay below the per-example
    /// optimum `E_D max_h ln P(x | h)` and below the bound.
    @Test func theDeepEncoderTightensTheBound() throws {
        let (visible, hidden) = (10, 5)
        let rng = RandomSource(seed: 11)
        let decoder = try SigmoidLayer(
            visible: visible, hidden: hidden,
            weights: (0..<(visible * hidden)).map { _ in rng.gaussian(standardDeviation: 3) },
            bias: (0..<visible).map { _ in rng.gaussian(standardDeviation: 1) })
        let data: [[Double]] = (0..<200).map { _ in
            let s = rng.integer(below: 1 << hidden)
            return (0..<visible).map { j in
                var a = decoder.bias[j]
                for i in 0..<hidden where (s >> i) & 1 == 1 { a += decoder.weights[j * hidden + i] }
                return rng.uniform() < 1 / (1 + exp(-a)) ? 1 : 0
            }
        }
        let logP = try BestLatentMarginal.conditionalLogLikelihoods(decoder, data)
        let perExampleOptimum = logP.reduce(0) { $0 + ($1.max() ?? 0) } / Double(data.count)
        let u = try BestLatentMarginal.bound(decoder, data: data, iterations: 20_000, tolerance: 1e-13).bound
        let h = BestLatentMarginal.dataEntropy(data)
        var reached: [Double] = []
        for kind in [InferenceModel.Kind.factorized, .deep(units: 24)] {
            var ae = try AutoEncoder(visible: visible, hidden: hidden, inference: kind, seed: 9)
            ae.decoder = decoder
            let trace = try ae.train(
                data, criterion: .mixture, epochs: 1500, step: .adam(rate: 0.05), freezingDecoder: true)
            #expect(ae.decoder.weights == decoder.weights)
            #expect(trace.last! <= perExampleOptimum + 1e-9)
            #expect(trace.last! - h <= u + 1e-9)
            reached.append(trace.last!)
        }
        // Measured: optimum −2.044, factorised −2.128, deep −2.051.
        #expect(reached[1] > reached[0] + 0.05, "deep \(reached[1]) vs factorised \(reached[0])")
        #expect(
            perExampleOptimum - reached[1] < 0.25 * (perExampleOptimum - reached[0]),
            "the deep encoder closed too little of the gap")
    }

    @Test func badShapesAreRefused() {
        #expect(throws: GenerativeNetworkError.self) {
            try InferenceModel(kind: .deep(units: 0), visible: 2, hidden: 1, rng: RandomSource(seed: 1))
        }
        #expect(throws: GenerativeNetworkError.self) {
            try InferenceModel(kind: .factorized, visible: 0, hidden: 1, rng: RandomSource(seed: 1))
        }
        #expect(throws: GenerativeNetworkError.self) {
            try InferenceModel(kind: .factorized, visible: 2, hidden: 13, rng: RandomSource(seed: 1))
        }
    }
}

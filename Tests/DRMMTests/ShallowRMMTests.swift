import Foundation
import Testing
import NumericalCore
import DRMM

/// Spec §2: the shallow RMM's max-sum classifier is a convnet layer.
@Suite("Shallow RMM")
struct ShallowRMMTests {
    static func random(_ rng: RandomSource, classes: Int, nuisances: Int, dimension: Int) throws -> ShallowRMM {
        func simplex(_ n: Int) -> [Double] {
            let v = (0..<n).map { _ in 0.2 + rng.uniform() }; let s = v.reduce(0, +); return v.map { $0 / s }
        }
        return try ShallowRMM(
            templates: (0..<classes).map { _ in (0..<nuisances).map { _ in (0..<dimension).map { _ in rng.gaussian() } }
            },
            noiseVariance: 0.3 + rng.uniform(), classPrior: simplex(classes), nuisancePrior: simplex(nuisances),
            switchPrior: 0.1 + 0.8 * rng.uniform())
    }

    @Test(
        "max over a and g of the log posterior is max_g ReLU(⟨w_cg, I⟩ + b_cg + b_0) + ln π_0",
        arguments: Array(UInt64(1)...30))
    func reluForm(seed: UInt64) throws {
        let rng = RandomSource(seed: seed)
        let m = try Self.random(
            rng, classes: 2 + rng.integer(below: 4), nuisances: 1 + rng.integer(below: 6),
            dimension: 1 + rng.integer(below: 10))
        let image = (0..<m.dimension).map { _ in rng.gaussian(standardDeviation: 2) }
        let scores = try m.classScores(image)
        let common =
            image.reduce(0) { $0 + $1 * $1 } / (2 * m.noiseVariance) + 0.5 * Double(m.dimension)
            * log(2 * Double.pi * m.noiseVariance)
        var bruteBest = (score: -Double.infinity, c: 0)
        for c in 0..<m.classCount {
            var best = -Double.infinity
            for g in 0..<m.nuisanceCount {
                for a in [false, true] { best = max(best, m.logJoint(image, class: c, nuisance: g, switchOn: a)) }
            }
            #expect(abs(best + common - scores[c]) <= 1e-10 * max(1, abs(scores[c])), "class \(c)")
            if best > bruteBest.score { bruteBest = (best, c) }
        }
        #expect(scores.indices.max { scores[$0] < scores[$1] } == bruteBest.c)
    }

    @Test("moment ↔ natural parameters, both directions; a relaxed bias is rejected")
    func parameters() throws {
        let rng = RandomSource(seed: 4)
        let m = try Self.random(rng, classes: 3, nuisances: 2, dimension: 5)
        let n = m.naturalParameters
        let back = try ShallowRMM(natural: n, noiseVariance: m.noiseVariance)
        for c in 0..<3 {
            for g in 0..<2 { for i in 0..<5 { #expect(abs(back.templates[c][g][i] - m.templates[c][g][i]) < 1e-12) } }
        }
        #expect(abs(back.switchPrior - m.switchPrior) < 1e-12)
        #expect(abs(n.switchLogOdds - log(m.switchPrior / (1 - m.switchPrior))) < 1e-12)
        var relaxed = n
        relaxed.biases[1][0] += 0.5
        #expect(throws: DRMMError.self) { try ShallowRMM(natural: relaxed, noiseVariance: m.noiseVariance) }
    }

    /// Templates that are shifted copies of one kernel (placed at every valid position) give
    /// responses that are exactly a convolution, the same bias at every position (one bias per
    /// channel), and max over the positions is max-pooling.
    @Test("translation-tied templates: convolution, one bias per channel, max over t = max-pool")
    func translationGivesConvolution() throws {
        let rng = RandomSource(seed: 8)
        let (h, w, k, classes) = (6, 5, 3, 2)
        let kernels = (0..<classes).map { _ in (0..<(k * k)).map { _ in rng.gaussian() } }
        var templates: [[[Double]]] = []
        var positions: [(Int, Int)] = []
        for y in 0...(h - k) { for x in 0...(w - k) { positions.append((y, x)) } }
        for c in 0..<classes {
            templates.append(
                positions.map { (py, px) in
                    var t = [Double](repeating: 0, count: h * w)
                    for r in 0..<k { for s in 0..<k { t[(py + r) * w + px + s] = kernels[c][r * k + s] } }
                    return t
                })
        }
        let m = try ShallowRMM(templates: templates, noiseVariance: 0.5)
        let n = m.naturalParameters
        let image = (0..<(h * w)).map { _ in rng.gaussian() }
        for c in 0..<classes {
            var filter = Tensor(shape: [1, 1, k, k])
            for i in 0..<(k * k) { filter.elements[i] = kernels[c][i] / m.noiseVariance }
            let conv = Convolution.forward(try Tensor(shape: [1, h, w], elements: image), filters: filter, pad: 0)
            for (t, _) in positions.enumerated() {
                let response = zip(n.weights[c][t], image).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(response - conv.elements[t]) < 1e-12)  // a convolution
                #expect(abs(n.biases[c][t] - n.biases[c][0]) < 1e-12)  // one bias per channel
            }
            // max over (t, a) = ReLU(global max-pool of conv + b + b0) + ln π_0 + ln π_t + ln π_c
            let pooled = conv.elements.max()! + n.biases[c][0] + n.switchLogOdds
            let expected = log(0.5) + log(1 / Double(positions.count)) + log(1 - m.switchPrior) + max(0, pooled)
            #expect(abs(try m.classScores(image)[c] - expected) < 1e-12)
        }
    }
}

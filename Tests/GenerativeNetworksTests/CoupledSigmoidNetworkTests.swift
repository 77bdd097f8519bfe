import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

@Suite struct CoupledSigmoidNetworkTests {
    /// The hand-written gradient of the symmetric objective against central differences.
    @Test(arguments: CoupledSigmoidNetwork.Objective.allCases)
    func gradientEqualsFiniteDifferences(objective: CoupledSigmoidNetwork.Objective) throws {
        var net = try CoupledSigmoidNetwork(sizes: [6, 4, 3], seed: 1)
        let rng = RandomSource(seed: 2)
        var p = net.parameterVector.map { $0 + rng.gaussian(standardDeviation: 0.3) }
        net.setParameters(p)
        let x = try Matrix(rows: 5, columns: 6, elements: (0..<30).map { _ in Double(rng.integer(below: 2)) })
        let y = try CoupledSigmoidNetwork.oneHot([0, 2, 1, 1, 0], classes: 3)
        let g = try net.lossAndGradient(images: x, targets: y, objective: objective)
        let analytic = g.dW.flatMap(\.elements) + g.db.flatMap { $0 } + g.da.flatMap { $0 }
        func loss(_ q: [Double]) throws -> Double {
            var other = net
            other.setParameters(q)
            let r = try other.lossAndGradient(images: x, targets: y, objective: objective)
            return r.recognition + r.generation
        }
        var worst = 0.0
        for i in p.indices {
            let h = 1e-6
            let keep = p[i]
            p[i] = keep + h; let up = try loss(p)
            p[i] = keep - h; let down = try loss(p)
            p[i] = keep
            worst = max(worst, abs((up - down) / (2 * h) - analytic[i]) / max(1, abs(analytic[i])))
        }
        #expect(worst < 1e-6, "worst relative error \(worst)")
        if objective == .discriminative { #expect(g.da.flatMap { $0 }.allSatisfy { $0 == 0 }) }
    }

    /// On two noisy prototypes, symmetric training learns to recognise and to generate.
    @Test func symmetricTrainingRecognisesAndGenerates() throws {
        let rng = RandomSource(seed: 3)
        let prototypes: [[Double]] = [(0..<12).map { $0 < 6 ? 1 : 0 }, (0..<12).map { $0 % 2 == 0 ? 1 : 0 }]
        var images: [[Double]] = [], labels: [Int] = []
        for _ in 0..<200 {
            let c = rng.integer(below: 2)
            images.append(prototypes[c].map { rng.uniform() < 0.1 ? 1 - $0 : $0 })
            labels.append(c)
        }
        var net = try CoupledSigmoidNetwork(sizes: [12, 6, 2], seed: 4)
        let x = try Matrix(rows: 200, columns: 12, elements: images.flatMap { $0 })
        let y = try CoupledSigmoidNetwork.oneHot(labels, classes: 2)
        let before = try net.lossAndGradient(images: x, targets: y, objective: .symmetric)
        try net.train(
            images: images, labels: labels, objective: .symmetric, epochs: 60, batchSize: 20, rate: 1e-2, seed: 5)
        let after = try net.lossAndGradient(images: x, targets: y, objective: .symmetric)
        #expect(after.recognition < 0.3 * before.recognition)
        #expect(after.generation < before.generation - 2)
        let mu = try net.recognize(x)[1]
        let correct = (0..<200).filter { (mu[$0, 1] > mu[$0, 0] ? 1 : 0) == labels[$0] }.count
        #expect(correct > 190)
        // The generator renders each class close to its prototype.
        let nu = try net.generate(try CoupledSigmoidNetwork.oneHot([0, 1], classes: 2))[0]
        for c in 0..<2 { for j in 0..<12 { #expect(abs(nu[c, j] - prototypes[c][j]) < 0.35) } }
        #expect(throws: GenerativeNetworkError.self) {
            try net.train(images: [[0.5]], labels: [0], objective: .symmetric, epochs: 1, seed: 1)
        }
    }

    /// Ancestral sampling draws the hidden layer from `q(x₁ | y)` and the pixels from
    /// `q(x₀ | x₁)`: pixel frequencies equal the exact marginal `Σ_{x₁} q(x₁ | y) q(x₀ = 1 | x₁)`,
    /// computed by enumerating the 3 hidden units. (The mean-field pass `generate` is only an
    /// approximation of it.)
    @Test func samplesFollowTheGeneratorsMarginals() throws {
        let net = try CoupledSigmoidNetwork(sizes: [4, 3, 2], seed: 8)
        var scaled = net
        for k in scaled.weights.indices {
            for i in scaled.weights[k].elements.indices { scaled.weights[k].elements[i] *= 4 }
        }
        scaled.generationBias[1] = [0.5, -1, 0.25]
        let y = try CoupledSigmoidNetwork.oneHot([1], classes: 2)
        func sigma(_ a: Double) -> Double { 1 / (1 + exp(-a)) }
        let w1 = scaled.weights[0], w2 = scaled.weights[1]
        let pHidden = (0..<3).map { j in sigma(w2[1, j] + scaled.generationBias[1][j]) }
        var exact = [Double](repeating: 0, count: 4)
        for s in 0..<8 {
            var p = 1.0
            for j in 0..<3 { p *= (s >> j) & 1 == 1 ? pHidden[j] : 1 - pHidden[j] }
            for i in 0..<4 {
                var a = scaled.generationBias[0][i]
                for j in 0..<3 where (s >> j) & 1 == 1 { a += w1[j, i] }
                exact[i] += p * sigma(a)
            }
        }
        let draws = 20_000
        let top = try Matrix(rows: draws, columns: 2, elements: (0..<draws).flatMap { _ in y.elements })
        let (images, means) = try scaled.sample(top, rng: RandomSource(seed: 9))
        for i in 0..<4 {
            let freq = (0..<draws).reduce(0.0) { $0 + images[$1, i] } / Double(draws)
            let meanOfMeans = (0..<draws).reduce(0.0) { $0 + means[$1, i] } / Double(draws)
            #expect(abs(freq - exact[i]) < 0.015, "pixel \(i): frequency \(freq), exact \(exact[i])")
            #expect(abs(meanOfMeans - exact[i]) < 0.01, "pixel \(i): mean \(meanOfMeans), exact \(exact[i])")
        }
        #expect(images.elements.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(throws: GenerativeNetworkError.self) {
            try scaled.sample(try CoupledSigmoidNetwork.oneHot([0], classes: 3), rng: RandomSource(seed: 1))
        }
    }
}

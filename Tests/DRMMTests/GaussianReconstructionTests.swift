import Foundation
import Testing
import NumericalCore
import DRMM

/// Reconstruction under the Gaussian likelihood (the quadratic term of spec E4 kept), beside the
/// linear-score max-sum reconstruction.
@Suite("Gaussian-MAP reconstruction")
struct GaussianReconstructionTests {
    @Test(
        "coordinate ascent never lowers the score, and stays below the brute-force Gaussian optimum",
        arguments: Array(UInt64(1)...30))
    func ascent(seed: UInt64) throws {
        let model = try TinyModels.model(seed: seed)
        let image = TinyModels.image(for: model, seed: seed)
        let inferred = try model.infer(image)
        let map = try model.gaussianMAP(image, from: inferred)
        let brute = try model.bruteForceMaxScores(image, quadratic: true)
        for c in 0..<model.classCount {
            let start = try model.gaussianScore(image, class: c, nuisances: inferred.nuisances)
            #expect(map.classScores[c] >= start - 1e-12)
            #expect(map.classScores[c] <= brute[c].score + 1e-9 * max(1, abs(brute[c].score)))
        }
        let chosen = try model.gaussianScore(image, class: map.predictedClass, nuisances: map.nuisances)
        #expect(abs(chosen - map.classScores[map.predictedClass]) <= 1e-9 * max(1, abs(chosen)))
    }

    @Test(
        "on the stroke model: classes recovered, and the Gaussian reconstruction is far closer to the noiseless render")
    func strokeModel() throws {
        let model = try Demonstrations.strokeModel()
        let rng = RandomSource(seed: 11)
        var linearError = 0.0, gaussianError = 0.0, noisyError = 0.0, correct = 0
        let n = 20
        for _ in 0..<n {
            let (c, g, image) = try model.sample(using: rng)
            let clean = try model.render(class: c, nuisances: g)
            let inferred = try model.infer(image)
            let map = try model.gaussianMAP(image, from: inferred)
            if map.predictedClass == c { correct += 1 }
            func mse(_ x: Tensor) -> Double {
                zip(x.elements, clean.elements).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(clean.count)
            }
            noisyError += mse(image) / Double(n)
            linearError += mse(try model.reconstruct(inferred)) / Double(n)
            gaussianError += mse(try model.render(class: map.predictedClass, nuisances: map.nuisances)) / Double(n)
        }
        print(
            "stroke model, \(n) samples: class \(correct)/\(n); MSE noisy \(noisyError), max-sum \(linearError), "
                + "Gaussian MAP \(gaussianError)"
        )
        #expect(correct >= n * 9 / 10)
        #expect(gaussianError < linearError / 10)
    }
}

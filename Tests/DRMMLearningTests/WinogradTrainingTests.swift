import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// The training pass run by Winograd's F(2×2, 3×3) against the same pass run by im2col (the
/// kernels themselves are checked in the DRMM module's tests).
@Suite struct WinogradTrainingTests {
    /// A 3-level model with 3×3 levels of every padding, odd sides and pooling: the pass
    /// by Winograd and the pass by im2col give the same loss terms, routes and gradient, with and
    /// without batch normalisation.
    @Test(arguments: [Architecture.Normalization.none, .batch, .batchFolded])
    func trainingPassMatchesIm2col(normalization: Architecture.Normalization) throws {
        let plain = Architecture(
            name: "winograd-toy", inputShape: [1, 9, 9],
            layers: [
                LayerSpec(channels: 3, kernel: 3, padding: .full, pool: 1),  // 11×11
                LayerSpec(channels: 4, kernel: 3, padding: .valid, pool: 3),  // 9×9 → 3×3
                LayerSpec(channels: 5, kernel: 3, padding: .same, pool: 1)
            ],  // 3×3
            classes: 3, top: .meanPool)
        let a = normalization.isBatch ? plain.batchNormalized(folded: normalization == .batchFolded) : plain
        let net = try Support.randomNetwork(a, seed: 7)
        let n = 5
        let images = Support.randomImages(n, size: 81, seed: 8)
        let labels = [0, -1, 2, 1, -1]
        let objective = Objective(crossEntropy: 1, reconstruction: 0.7, classPosterior: 0.3, nonnegativity: 0.5)
        func run(_ algorithm: ConvolutionAlgorithm) -> (LossTerms, [Double], [[Int32]]) {
            let pass = BatchPass(network: net, convolution: algorithm)
            #expect(pass.winograd == (algorithm == .winograd ? [true, true, true] : [false, false, false]))
            var grad = [Double](repeating: 0, count: net.parameters.count)
            let terms = net.parameters.withUnsafeBufferPointer { p in
                images.withUnsafeBufferPointer { x in
                    grad.withUnsafeMutableBufferPointer { g in
                        pass.run(
                            parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n,
                            objective: objective,
                            labeledTotal: 3, total: n, gradient: g.baseAddress!)
                    }
                }
            }
            return (terms, grad, pass.routes)
        }
        let (t1, g1, r1) = run(.im2col), (t2, g2, r2) = run(.winograd)
        #expect(r1 == r2)
        #expect(t1.reconstruction > 0 && t1.nonnegativity > 0 && t1.crossEntropy > 0)
        for (a, b) in [
            (t1.total, t2.total), (t1.crossEntropy, t2.crossEntropy), (t1.reconstruction, t2.reconstruction),
            (t1.nonnegativity, t2.nonnegativity), (t1.classPosterior, t2.classPosterior)
        ] {
            #expect(abs(a - b) < 1e-12 * max(1, abs(a)))
        }
        let worst = zip(g1, g2).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
        #expect(worst < 1e-11, "worst relative gradient difference \(worst)")
        #expect(g1.contains { $0 != 0 })
    }
}

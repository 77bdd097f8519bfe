import Foundation
import Testing
import NumericalCore
import FactorGraph
import DRMM

@Suite("NN-DRMM and DRFM")
struct VariantTests {
    @Test("NN-DRMM clamps intermediate templates; unchanged where they are already nonnegative")
    func nonnegative() throws {
        var signed = try TinyModels.model(seed: 5, nonnegative: false)
        let rng = RandomSource(seed: 5)
        let (c, g, _) = try signed.sample(using: rng)
        let linear = try signed.renderLevels(class: c, nuisances: g)
        signed.nonnegativeRendering = true
        let clamped = try signed.renderLevels(class: c, nuisances: g)
        for l in 1..<(clamped.count - 1) { #expect(clamped[l].elements.allSatisfy { $0 >= 0 }) }
        #expect(clamped.first == linear.first)
        #expect(throws: DRMMError.self) { try signed.renderBySumOverPaths(class: c, nuisances: g) }
        var nn = try TinyModels.model(seed: 5, nonnegative: true)
        let plain = try nn.render(class: c % nn.classCount, nuisances: g)
        nn.nonnegativeRendering = true
        #expect(try nn.render(class: c % nn.classCount, nuisances: g) == plain)
        #expect(
            try nn.renderBySumOverPaths(class: c % nn.classCount, nuisances: g).elements.enumerated().allSatisfy {
                abs($0.element - plain.elements[$0.offset]) < 1e-12
            })
    }

    /// The DRFM's latent posterior and evidence against the generic engine and a dense solve:
    /// the model written as a Gaussian factor graph (prior on z, the image observed through
    /// `Λ_cg`) and solved by Gaussian BP gives the same posterior; the evidence equals the
    /// dense `log N(I; 0, ΛΛᵀ + σ²I)`.
    @Test(
        "DRFM posterior = Gaussian BP on its factor graph; evidence = dense Gaussian density",
        arguments: [UInt64(1), 2, 3])
    func drfm(seed: UInt64) throws {
        let renderer = try TinyModels.model(seed: seed)
        let rng = RandomSource(seed: seed)
        let dl = renderer.topShape.reduce(1, *), d = 2
        let loads = (0..<renderer.classCount).map { _ in
            var m = Matrix(rows: dl, columns: d)
            for i in m.elements.indices { m.elements[i] = rng.gaussian() }
            return m
        }
        let model = try DeepRenderingFactorModel(renderer: renderer, topLoadings: loads)
        let (c, g, _, image) = try model.sample(using: rng)
        let (mean, cov) = try model.latentPosterior(image, class: c, nuisances: g)

        let L = try model.loadings(class: c, nuisances: g)
        let D = renderer.inputSize, s2 = renderer.noiseVariance
        var graph = FactorGraph()
        let z = try graph.addGaussian(dimension: d), y = try graph.addGaussian(dimension: D)
        try graph.addGaussianFactor(
            scope: [z], precision: Matrix.identity(d), potential: [Double](repeating: 0, count: d))
        // −(1/2σ²)‖y − Λz‖²: precision [[ΛᵀΛ, −Λᵀ], [−Λ, I]] / σ².
        var J = Matrix(rows: d + D, columns: d + D)
        let ltl = try L.transposed * L
        for i in 0..<d { for j in 0..<d { J[i, j] = ltl[i, j] / s2 } }
        for i in 0..<D {
            for j in 0..<d { J[d + i, j] = -L[i, j] / s2; J[j, d + i] = -L[i, j] / s2 }; J[d + i, d + i] = 1 / s2
        }
        try graph.addGaussianFactor(scope: [z, y], precision: J, potential: [Double](repeating: 0, count: d + D))
        let bp = try GaussianBeliefPropagation().run(graph, evidence: Evidence(observations: [y: image.elements]))
        let m = try #require(bp.marginals[z])
        for i in 0..<d {
            #expect(abs(m.mean[i] - mean[i]) < 1e-9)
            for j in 0..<d { #expect(abs(m.covariance[i, j] - cov[i, j]) < 1e-9) }
        }
        // Evidence against a dense D × D Cholesky.
        var sigma = try L * L.transposed
        for i in 0..<D { sigma[i, i] += s2 }
        let ch = try Cholesky(sigma)
        let q = try dot(image.elements, try ch.solve(image.elements))
        let dense = -0.5 * (Double(D) * log(2 * Double.pi) + ch.logDeterminant + q)
        #expect(abs(try model.logEvidence(image, class: c, nuisances: g) - dense) < 1e-9 * max(1, abs(dense)))
    }
}

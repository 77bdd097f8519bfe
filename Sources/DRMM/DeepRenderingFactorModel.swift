import NumericalCore

/// The Deep Rendering Factor Model (spec §3.5): the top latent is continuous,
/// `z ~ N(0, I_d)`, the class selects the top loading matrix `Λ_c` (`D_L × d`), and the
/// levels below render `Λ_c z` exactly as in the DRMM. With one level this is the shallow RFM,
/// a mixture of factor analysers with switching.
///
/// Given the class and the nuisances the model is linear-Gaussian: with `Λ_cg = Λ_g Λ_c`
/// (`D × d`), `I ~ N(0, Λ_cg Λ_cgᵀ + σ² I)` and `z | I ~ N(m, S)` with
/// `S = (I + Λ_cgᵀ Λ_cg / σ²)⁻¹` and `m = S Λ_cgᵀ I / σ²` (LAPACK Cholesky on `d × d`).
public struct DeepRenderingFactorModel: Sendable {
    /// The levels below the top (their class templates are unused).
    public var renderer: DeepRenderingMixtureModel
    /// `Λ_c` for every class: `D_L × d`.
    public var topLoadings: [Matrix]

    /// The dimension of the Gaussian latent factor at the top.
    public var latentDimension: Int { topLoadings.first?.columns ?? 0 }

    /// A factor model rendered by `renderer`, with one `[top size × latent dimension]` loading
    /// matrix per class. Throws if the loadings do not fit the renderer's top.
    public init(renderer: DeepRenderingMixtureModel, topLoadings: [Matrix]) throws {
        try renderer.validate()
        guard renderer.nonnegativeRendering == false else {
            throw DRMMError.invalidParameter("the DRFM's rendering must be linear (no NN clamp)")
        }
        let dl = renderer.topShape.reduce(1, *)
        guard topLoadings.count == renderer.classCount, let d = topLoadings.first?.columns, d >= 1 else {
            throw DRMMError.invalidParameter(
                "need one top loading matrix per class (\(renderer.classCount)) with at least one column")
        }
        for (c, l) in topLoadings.enumerated() where l.rows != dl || l.columns != d {
            throw DRMMError.shapeMismatch(what: "top loadings Λ_\(c)", expected: [dl, d], actual: [l.rows, l.columns])
        }
        self.renderer = renderer
        self.topLoadings = topLoadings
    }

    /// `Λ_cg` (`D × d`): each column of `Λ_c` rendered down through the nuisances `g` (with
    /// α = 0 the rendering is linear, so columns render independently).
    public func loadings(class c: Int, nuisances g: Nuisances) throws -> Matrix {
        guard renderer.renderBias.allSatisfy({ $0.allSatisfy { $0 == 0 } }) else {
            throw DRMMError.invalidParameter("the DRFM's loadings need a linear rendering (α = 0)")
        }
        var m = renderer
        var out = Matrix(rows: renderer.inputSize, columns: latentDimension)
        for j in 0..<latentDimension {
            m.classTemplates[c] = (0..<topLoadings[c].rows).map { topLoadings[c][$0, j] }
            let col = try m.render(class: c, nuisances: g)
            for i in 0..<renderer.inputSize { out[i, j] = col.elements[i] }
        }
        return out
    }

    /// The posterior `z | I, c, g`: its mean and covariance.
    public func latentPosterior(_ image: Tensor, class c: Int, nuisances g: Nuisances) throws -> (
        mean: [Double], covariance: Matrix
    ) {
        try renderer.check(image)
        let l = try loadings(class: c, nuisances: g)
        let s2 = renderer.noiseVariance
        var precision = try Matrix.multiply(l, l, transposeA: true, s2)
        for i in 0..<latentDimension { precision[i, i] += 1 }
        let ch = try Cholesky(precision)
        let rhs = try l.transposed.times(image.elements).map { $0 / s2 }
        return (try ch.solve(rhs), try ch.inverse())
    }

    /// `log N(I; 0, Λ_cg Λ_cgᵀ + σ² I)`, by the matrix determinant lemma and Woodbury on `d × d`.
    public func logEvidence(_ image: Tensor, class c: Int, nuisances g: Nuisances) throws -> Double {
        try renderer.check(image)
        let l = try loadings(class: c, nuisances: g)
        let s2 = renderer.noiseVariance
        let D = Double(renderer.inputSize)
        var precision = try Matrix.multiply(l, l, transposeA: true, s2)
        for i in 0..<latentDimension { precision[i, i] += 1 }
        let ch = try Cholesky(precision)
        let u = try l.transposed.times(image.elements)
        let v = try ch.solve(u)
        let quad = image.dot(image) / s2 - (try dot(u, v)) / (s2 * s2)
        let logDet = D * Foundation.log(s2) + ch.logDeterminant
        return -0.5 * (D * Foundation.log(2 * Double.pi) + logDet + quad)
    }

    /// Draws a class, nuisances, `z ~ N(0, I)` and a noisy image.
    public func sample(using rng: RandomSource) throws -> (
        class: Int, nuisances: Nuisances, latent: [Double], image: Tensor
    ) {
        let (c, g, _) = try renderer.sample(using: rng)
        let z = (0..<latentDimension).map { _ in rng.gaussian() }
        let mean = try loadings(class: c, nuisances: g).times(z)
        var image = try Tensor(shape: renderer.inputShape, elements: mean)
        let sd = renderer.noiseVariance.squareRoot()
        for i in image.elements.indices { image.elements[i] += rng.gaussian(standardDeviation: sd) }
        return (c, g, z, image)
    }
}

extension Matrix {
    /// `AᵀB / s` for the information forms above.
    static func multiply(_ a: Matrix, _ b: Matrix, transposeA: Bool, _ s: Double) throws -> Matrix {
        var c = Matrix(rows: transposeA ? a.columns : a.rows, columns: b.columns)
        try Matrix.multiply(a, b, transposeA: transposeA, alpha: 1 / s, into: &c)
        return c
    }
}

import Foundation

import DRMM
import Foundation
import NumericalCore

/// Exact soft EM for the shallow Rendering Mixture Model (spec §4.7), a finite mixture:
/// the E-step's responsibilities are the sum-product posteriors
///
/// `γ_ncga = softmax_(c,g,a) [ ln π_c + ln π_g + ln p(a) + a(⟨w_cg, I_n⟩ + b_cg) ] `
///
/// in natural parameters (`w = μ/σ²`, `b = −‖μ‖²/2σ²`); the M-step sets `μ_cg` to the
/// responsibility-weighted mean of the images rendered ON, `σ²` to the weighted squared
/// residual, and each prior to its averaged responsibilities.
///
/// `temperature` divides the scores before the softmax: 1 is exact EM, and as it goes to 0
/// the responsibilities become the max-sum assignment — hard EM.
public enum ShallowSoftEM {
    /// Responsibilities per image, flattened as `(c·G + g)·2 + a`.
    public static func responsibilities(_ m: ShallowRMM, _ images: [[Double]], temperature: Double = 1) throws
        -> [[Double]]
    {
        try check(m, images, temperature)
        let scores = try logJoint(m, images)
        return scores.map { row in
            let mx = row.max() ?? 0
            let e = row.map { exp(($0 - mx) / temperature) }
            let z = e.reduce(0, +)
            return e.map { $0 / z }
        }
    }

    /// `ln p(c, g, a, I_n)` up to the image's own constant `−‖I‖²/2σ² − (D/2) ln 2πσ²`.
    static func logJoint(_ m: ShallowRMM, _ images: [[Double]]) throws -> [[Double]] {
        let (cc, gg, d) = (m.classCount, m.nuisanceCount, m.dimension)
        let nat = m.naturalParameters
        // ⟨w_cg, I_n⟩ for every template and image: one GEMM.
        let w = try Matrix(rows: cc * gg, columns: d, elements: nat.weights.flatMap { $0.flatMap { $0 } })
        let x = try Matrix(rows: images.count, columns: d, elements: images.flatMap { $0 })
        var dots = Matrix(rows: images.count, columns: cc * gg)
        try Matrix.multiply(x, w, transposeB: true, into: &dots)
        let (lon, loff) = (log(m.switchPrior), log(1 - m.switchPrior))
        return (0..<images.count).map { n in
            var row = [Double](repeating: 0, count: cc * gg * 2)
            for c in 0..<cc {
                for g in 0..<gg {
                    let base = nat.logClassPrior[c] + nat.logNuisancePrior[g]
                    row[(c * gg + g) * 2] = base + loff
                    row[(c * gg + g) * 2 + 1] = base + lon + dots[n, c * gg + g] + nat.biases[c][g]
                }
            }
            return row
        }
    }

    /// `Σ_n ln p(I_n)`, the exact marginal log-likelihood.
    public static func logLikelihood(_ m: ShallowRMM, _ images: [[Double]]) throws -> Double {
        try check(m, images, 1)
        let d = Double(m.dimension)
        return try zip(logJoint(m, images), images).map { row, image in
            let mx = row.max() ?? 0
            let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
            return lse - image.reduce(0) { $0 + $1 * $1 } / (2 * m.noiseVariance) - d / 2
                * log(2 * Double.pi * m.noiseVariance)
        }.reduce(0, +)
    }

    /// One EM iteration at `temperature`; returns the updated model.
    public static func step(_ m: ShallowRMM, _ images: [[Double]], temperature: Double = 1) throws -> ShallowRMM {
        let gamma = try responsibilities(m, images, temperature: temperature)
        let (cc, gg, d) = (m.classCount, m.nuisanceCount, m.dimension)
        let n = Double(images.count)
        var templates = m.templates
        var classMass = [Double](repeating: 0, count: cc), nuisanceMass = [Double](repeating: 0, count: gg)
        var on = 0.0
        for c in 0..<cc {
            for g in 0..<gg {
                var weight = 0.0
                var sum = [Double](repeating: 0, count: d)
                for (k, image) in images.enumerated() {
                    let r = gamma[k][(c * gg + g) * 2 + 1]
                    weight += r
                    for j in 0..<d { sum[j] += r * image[j] }
                    classMass[c] += r + gamma[k][(c * gg + g) * 2]
                    nuisanceMass[g] += r + gamma[k][(c * gg + g) * 2]
                }
                on += weight
                if weight > 0 { templates[c][g] = sum.map { $0 / weight } }  // no data: keep the old template
            }
        }
        var residual = 0.0
        for (k, image) in images.enumerated() {
            let sq = image.reduce(0) { $0 + $1 * $1 }
            for c in 0..<cc {
                for g in 0..<gg {
                    residual += gamma[k][(c * gg + g) * 2] * sq
                    let mu = templates[c][g]
                    var e = 0.0
                    for j in 0..<d { e += (image[j] - mu[j]) * (image[j] - mu[j]) }
                    residual += gamma[k][(c * gg + g) * 2 + 1] * e
                }
            }
        }
        let floor = 1e-12
        return try ShallowRMM(
            templates: templates, noiseVariance: max(residual / (n * Double(d)), floor),
            classPrior: normalised(classMass.map { max($0, floor) }),
            nuisancePrior: normalised(nuisanceMass.map { max($0, floor) }),
            switchPrior: min(max(on / n, floor), 1 - floor))
    }

    private static func normalised(_ a: [Double]) -> [Double] { let s = a.reduce(0, +); return a.map { $0 / s } }

    private static func check(_ m: ShallowRMM, _ images: [[Double]], _ temperature: Double) throws {
        guard !images.isEmpty else { throw LearningError.invalidData("no images") }
        guard temperature > 0, temperature.isFinite else {
            throw LearningError.invalidOption("temperature must be positive, got \(temperature)")
        }
        for (k, image) in images.enumerated() {
            guard image.count == m.dimension else {
                throw LearningError.invalidData("image \(k) has \(image.count) pixels, the model has \(m.dimension)")
            }
            guard image.allSatisfy(\.isFinite) else {
                throw LearningError.invalidData("image \(k) has a non-finite pixel")
            }
        }
    }
}

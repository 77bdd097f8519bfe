#if canImport(Glibc)
import Glibc
#endif

/// The shallow Rendering Mixture Model (spec §2): `c ~ π_c`, `g ~ π_g`, `a ~ Bernoulli(π_a)`,
/// `I = a·μ_cg + N(0, σ²I)`.
///
/// Its max-sum classifier is one convnet layer: maximising the switch out gives a ReLU with
/// bias `b_cg + b_0`, and maximising a translational nuisance out gives max-pooling.
public struct ShallowRMM: Sendable {
    /// `μ_cg`: `templates[c][g]`, each of length `D`.
    public var templates: [[[Double]]]
    /// `σ²`.
    public var noiseVariance: Double
    /// `π_c`.
    public var classPrior: [Double]
    /// `π_g`.
    public var nuisancePrior: [Double]
    /// `π_a = p(a = ON)`.
    public var switchPrior: Double

    /// The number of classes.
    public var classCount: Int { templates.count }
    /// The number of nuisance values per class.
    public var nuisanceCount: Int { templates.first?.count ?? 0 }
    /// `D`, the number of pixels.
    public var dimension: Int { templates.first?.first?.count ?? 0 }

    /// A shallow RMM with templates `μ_cg` (`[class][nuisance][pixel]`), noise variance σ² and
    /// priors (uniform by default). Throws on ragged templates or priors that are not distributions.
    public init(
        templates: [[[Double]]], noiseVariance: Double, classPrior: [Double]? = nil,
        nuisancePrior: [Double]? = nil, switchPrior: Double = 0.5
    ) throws {
        guard let first = templates.first, let d = first.first?.count, d > 0 else {
            throw DRMMError.invalidParameter("a shallow RMM needs at least one class, one nuisance and one pixel")
        }
        for (c, row) in templates.enumerated() {
            guard row.count == first.count else {
                throw DRMMError.shapeMismatch(
                    what: "templates of class \(c)", expected: [first.count, d], actual: [row.count])
            }
            for (g, mu) in row.enumerated() where mu.count != d || mu.contains(where: { !$0.isFinite }) {
                throw DRMMError.invalidParameter("template μ_\(c),\(g) must have \(d) finite entries")
            }
        }
        guard noiseVariance > 0, noiseVariance.isFinite else {
            throw DRMMError.invalidParameter("σ² must be positive and finite, got \(noiseVariance)")
        }
        guard switchPrior > 0, switchPrior < 1 else {
            throw DRMMError.invalidParameter("switch prior must be in (0, 1), got \(switchPrior)")
        }
        let pc = classPrior ?? [Double](repeating: 1 / Double(templates.count), count: templates.count)
        let pg = nuisancePrior ?? [Double](repeating: 1 / Double(first.count), count: first.count)
        for (name, p, n) in [("class", pc, templates.count), ("nuisance", pg, first.count)] {
            guard p.count == n, p.allSatisfy({ $0 > 0 && $0.isFinite }), abs(p.reduce(0, +) - 1) < 1e-9 else {
                throw DRMMError.invalidParameter("\(name) prior must be \(n) positive numbers summing to one, got \(p)")
            }
        }
        self.templates = templates
        self.noiseVariance = noiseVariance
        self.classPrior = pc
        self.nuisancePrior = pg
        self.switchPrior = switchPrior
    }

    /// The natural parameters (spec §2.2), the generative parameter constraints of a convnet layer.
    public struct NaturalParameters: Equatable, Sendable {
        /// `w_cg = μ_cg / σ²` (the filters).
        public var weights: [[[Double]]]
        /// `b_cg = −‖μ_cg‖² / 2σ²` (one bias per template).
        public var biases: [[Double]]
        /// `b_0 = ln(π_a / (1 − π_a))`, the log-odds of rendering.
        public var switchLogOdds: Double
        /// `ln π_c`, `ln π_g`.
        public var logClassPrior: [Double]
        /// `ln π_g` per nuisance value.
        public var logNuisancePrior: [Double]
    }

    /// The model's natural parameters: the softmax regression it is.
    public var naturalParameters: NaturalParameters {
        NaturalParameters(
            weights: templates.map { $0.map { $0.map { $0 / noiseVariance } } },
            biases: templates.map { $0.map { mu in -mu.reduce(0) { $0 + $1 * $1 } / (2 * noiseVariance) } },
            switchLogOdds: log(switchPrior / (1 - switchPrior)),
            logClassPrior: classPrior.map { log($0) }, logNuisancePrior: nuisancePrior.map { log($0) })
    }

    /// The moment parameters back from natural ones and `σ²` (`w` alone does not fix the noise
    /// scale). The biases must satisfy the generative constraint `b = −σ²‖w‖²/2`; a model
    /// whose biases were relaxed (trained freely) is not a shallow RMM and is rejected.
    public init(natural n: NaturalParameters, noiseVariance: Double, tolerance: Double = 1e-9) throws {
        for (c, row) in n.weights.enumerated() {
            for (g, w) in row.enumerated() {
                let implied = -noiseVariance * w.reduce(0) { $0 + $1 * $1 } / 2
                guard abs(implied - n.biases[c][g]) <= tolerance * max(1, abs(implied)) else {
                    throw DRMMError.invalidParameter(
                        "bias b_\(c),\(g) = \(n.biases[c][g]) violates the generative constraint −σ²‖w‖²/2 = "
                            + "\(implied) (a discriminatively relaxed layer)"
                    )
                }
            }
        }
        let pa = 1 / (1 + exp(-n.switchLogOdds))
        try self.init(
            templates: n.weights.map { $0.map { $0.map { $0 * noiseVariance } } }, noiseVariance: noiseVariance,
            classPrior: n.logClassPrior.map { exp($0) }, nuisancePrior: n.logNuisancePrior.map { exp($0) },
            switchPrior: pa)
    }

    /// `ln p(I, c, g, a)`, the full log joint.
    public func logJoint(_ image: [Double], class c: Int, nuisance g: Int, switchOn a: Bool) -> Double {
        var sq = 0.0
        for i in 0..<dimension { let r = image[i] - (a ? templates[c][g][i] : 0); sq += r * r }
        return -sq / (2 * noiseVariance) - 0.5 * Double(dimension) * log(2 * Double.pi * noiseVariance)
            + log(classPrior[c]) + log(nuisancePrior[g]) + log(a ? switchPrior : 1 - switchPrior)
    }

    /// The max-sum class scores as one convnet layer (spec §2.4):
    /// `ln π_c + max_g [ln π_g + ln π_0 + ReLU(⟨w_cg, I⟩ + b_cg + b_0)]`, which equals
    /// `max_{g,a} ln p(I, c, g, a) + ‖I‖²/2σ² + (D/2) ln 2πσ²`.
    public func classScores(_ image: [Double]) throws -> [Double] {
        guard image.count == dimension else {
            throw DRMMError.invalidInput("image has \(image.count) pixels, the model \(dimension)")
        }
        if let bad = image.firstIndex(where: { !$0.isFinite }) {
            throw DRMMError.invalidInput("pixel \(bad) is \(image[bad])")
        }
        let n = naturalParameters
        let logOff = log(1 - switchPrior)
        return (0..<classCount).map { c in
            var best = -Double.infinity
            for g in 0..<nuisanceCount {
                var u = n.biases[c][g] + n.switchLogOdds
                for i in 0..<dimension { u += n.weights[c][g][i] * image[i] }
                best = max(best, n.logNuisancePrior[g] + logOff + max(0, u))
            }
            return n.logClassPrior[c] + best
        }
    }
}

import DRMM
import NumericalCore

/// A certificate that a trained network is max-sum inference in the DRMM it folds into
/// (`DeepRenderingMixtureModel(trained:)`), checked image by image.
///
/// - (a) For every image, the configuration `(ĉ, ĝ)` the bottom-up pass infers is rendered top
///   down, and `⟨μ_ĉĝ, I⟩ + P(ĉ, ĝ)` (the linear score with the priors) is compared with the
///   Float convnet's class score: equal to float tolerance means the convnet's score is the
///   score of an actual configuration of the DRMM.
/// - (b) The theorem's condition E2: the fraction of filter entries above level 1 and of class
///   template entries that are negative. With none, (a) plus the theorem make the convnet's
///   score the *maximum* over configurations: the network is exact max-sum inference.
/// - (c) Where E2 is violated, a search for configurations that beat the convnet's: coordinate
///   ascent over units' `(t, a)` from `ĝ` on a few images, reporting the largest gap found (a
///   lower bound on how far the convnet is from exact max-sum).
public struct NetworkCertificate: Codable, Sendable {
    /// Images on which the network and the DRMM were compared.
    public var imagesChecked = 0
    /// The largest `|⟨μ_ĉĝ, I⟩ + P(ĉ, ĝ) − convnet score|`, and relative to the score's size.
    public var largestScoreDifference = 0.0
    /// The same difference relative to the score's size.
    public var largestRelativeScoreDifference = 0.0
    /// Images whose DRMM class equals the trained network's prediction.
    public var predictionsAgreeing = 0
    /// Filter entries of levels ℓ ≥ 2 (after folding), and how many are negative.
    public var upperFilterEntries = 0, negativeUpperFilterEntries = 0
    /// Class-template entries, and how many are negative.
    public var templateEntries = 0, negativeTemplateEntries = 0
    /// Images searched for better configurations, unit moves tried, and the largest gap found
    /// (`nil` when E2 holds and no search is needed).
    public var searchedImages = 0, searchMoves = 0
    /// The largest score a search found above the convnet's configuration.
    public var largestGapFound: Double?

    /// The tolerance on (a), relative to `max(1, |score|)` (the convnet runs in Float).
    public static let relativeTolerance = 1e-4

    /// Whether the certificate proves exact max-sum inference: every inferred configuration's
    /// score matches and E2 holds.
    public var provesExactMaxSum: Bool {
        negativeUpperFilterEntries == 0 && negativeTemplateEntries == 0
            && largestRelativeScoreDifference <= Self.relativeTolerance
    }

    /// Certifies `network` on the images of `set` (all of them; take a prefix to check fewer).
    /// `searchImages` images get the search of (c) when E2 is violated, each with at most
    /// `searchMoves` unit moves.
    public static func certify(
        _ network: RenderingNetwork<Float>, on set: ImageSet, searchImages: Int = 3,
        searchMoves: Int = 300, seed: UInt64 = 1, workers: Int = 2
    ) throws -> NetworkCertificate {
        guard set.shape == network.architecture.inputShape else {
            throw LearningError.invalidData(
                "images are \(set.shape), the model takes \(network.architecture.inputShape)")
        }
        guard searchImages >= 0, searchMoves >= 0 else {
            throw LearningError.invalidOption("the search needs non-negative counts")
        }
        let model = try DeepRenderingMixtureModel(trained: network)
        var report = NetworkCertificate()
        for l in model.filters.indices.dropFirst() {
            report.upperFilterEntries += model.filters[l].count
            report.negativeUpperFilterEntries += model.filters[l].elements.filter { $0 < 0 }.count
        }
        for mu in model.classTemplates {
            report.templateEntries += mu.count
            report.negativeTemplateEntries += mu.filter { $0 < 0 }.count
        }
        let predictions = try Evaluation.classify(network, set, workers: workers).predictions
        let convnet = try ConvNet(exporting: model)
        let d = set.shape.reduce(1, *)
        let batch = 100
        var searched = 0
        for start in stride(from: 0, to: set.count, by: batch) {
            let n = min(batch, set.count - start)
            let pixels = Array(set.pixels[(start * d)..<((start + n) * d)])
            let out = try convnet.forward(pixels, count: n)
            for i in 0..<n {
                let image = try Tensor(shape: set.shape, elements: pixels[(i * d)..<((i + 1) * d)].map(Double.init))
                let inferred = try model.infer(image)
                let c = inferred.predictedClass
                let score = try model.linearScore(image, class: c, nuisances: inferred.nuisances)
                let float =
                    Double(out.scores[i * model.classCount + c]) - model.noiseVariance * log(model.classPrior[c])
                let difference = abs(score - float)
                report.largestScoreDifference = max(report.largestScoreDifference, difference)
                report.largestRelativeScoreDifference = max(
                    report.largestRelativeScoreDifference, difference / max(1, abs(score)))
                if c == predictions[start + i] { report.predictionsAgreeing += 1 }
                report.imagesChecked += 1
                let violated = report.negativeUpperFilterEntries + report.negativeTemplateEntries > 0
                if violated && searched < searchImages {
                    searched += 1
                    let (gap, moves) = try search(
                        model, image, class: c, from: inferred.nuisances, start: inferred.classScores[c],
                        moves: searchMoves, seed: seed &+ UInt64(start + i))
                    report.searchedImages += 1
                    report.searchMoves += moves
                    report.largestGapFound = max(report.largestGapFound ?? 0, gap)
                }
            }
        }
        return report
    }

    /// Coordinate ascent on the linear score with the priors, `⟨μ_cg, I⟩ + P(c, g)`, from `start`:
    /// `moves` random units (a level drawn uniformly, then a unit of it) moved to their best
    /// `(t, a)`; returns how far above `score` (the convnet's) it got, and the moves made.
    static func search(
        _ model: DeepRenderingMixtureModel, _ image: Tensor, class c: Int, from start: Nuisances,
        start score: Double, moves: Int, seed: UInt64
    ) throws -> (gap: Double, moves: Int) {
        let rng = RandomSource(seed: seed)
        let units = (0..<moves).map { _ -> (level: Int, unit: Int) in
            let l = rng.integer(below: model.geometry.count)
            return (l, rng.integer(below: start.switches[l].count))
        }
        let initial = try model.linearScore(image, class: c, nuisances: start)
        let best = try model.improvingUnits(start, score: initial, units: units) {
            try model.linearScore(image, class: c, nuisances: $0)
        }.score
        return (max(0, best - score), moves)
    }
}

#if canImport(Glibc)
import Glibc
#endif

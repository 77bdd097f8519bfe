import DRMM
import NumericalCore

/// The objective's terms on the class scores of the last bottom-up pass, and `∂L/∂scores`.
extension BatchPass {
    /// The weights and shared quantities of the score terms of one batch.
    struct ScoreTermWeights {
        let crossEntropy: T, classPosterior: T, classBalance: T, pseudoLabel: T
        /// +1 for `KL(q ‖ U)`, −1 for the entropy with the other sign.
        let sign: T
        /// `λ_c = ln(C q̄_c)`, the class-balance term's per-class weight.
        let logBalance: [T]
        let labeledTotal: Int, total: Int
    }

    /// The class posterior `q = softmax(scores)` of every image, the cross-entropy of the labelled
    /// ones, the class-posterior term, the class-balance term `KL(q̄ ‖ U)` (from the batch's mean
    /// posterior `classMarginal`, which a sharded batch sums over its shards), the pseudo-label
    /// term, and their gradient `dScores`. Sets ``predictions`` and ``renderedClasses`` (the
    /// label, or the argmax class of an unlabelled image).
    func classificationLoss(
        labels: ArraySlice<Int>, objective: Objective, labeledTotal: Int, total: Int,
        classMarginal: [Double], pseudoTargets: ArraySlice<T>?
    ) -> LossTerms {
        let (n, k) = (batchCount, architecture.classes)
        var terms = LossTerms()
        predictions = [Int](repeating: 0, count: n)
        if posteriors.count != n * k { posteriors = [T](repeating: 0, count: n * k) }
        renderedClasses = [Int](repeating: 0, count: n)
        // The class-balance term `KL(q̄ ‖ U) = Σ_c q̄_c ln(C q̄_c)`, written shard by shard as
        // `Σ_c (Σ_shard q_c / N) ln(C q̄_c)`; its gradient `∂/∂s_nc = q_nc (λ_c − Σ_j q_nj λ_j) / N`
        // with `λ_c = ln(C q̄_c)`.
        var logBalance = [T](repeating: 0, count: k)
        for c in 0..<k {
            logBalance[c] = T.logarithm(T(Swift.max(classMarginal[c], 1e-30) * Double(k)))
            terms.classBalance += posteriorSum[c] / Double(total) * Double(logBalance[c])
        }
        let weights = ScoreTermWeights(
            crossEntropy: T(objective.crossEntropy), classPosterior: T(objective.classPosterior),
            classBalance: T(objective.classBalance), pseudoLabel: T(objective.pseudoLabel),
            sign: objective.classPosteriorSign == .klToPrior ? 1 : -1, logBalance: logBalance,
            labeledTotal: labeledTotal, total: total)
        anyScoreGradient = false
        for (i, label) in labels.enumerated() {
            imageLoss(i, label: label, weights: weights, pseudoTargets: pseudoTargets, terms: &terms)
        }
        return terms
    }

    /// Image `i`'s share of ``classificationLoss(labels:objective:labelledTotal:total:classMarginal:pseudoTargets:)``.
    private func imageLoss(
        _ i: Int, label: Int, weights w: ScoreTermWeights, pseudoTargets: ArraySlice<T>?, terms: inout LossTerms
    ) {
        let k = architecture.classes
        var best = 0
        for c in 1..<k where scores[i * k + c] > scores[i * k + best] { best = c }
        let logZ = logPartition[i]
        var negEntropy: T = 0  // Σ q ln q
        var meanBalance: T = 0  // Σ q λ
        for c in 0..<k {
            let lq = scores[i * k + c] - logZ
            negEntropy += T.exponential(lq) * lq
            meanBalance += T.exponential(lq) * w.logBalance[c]
        }
        predictions[i] = best
        renderedClasses[i] = label >= 0 ? label : best
        terms.classPosterior += Double(w.sign * (negEntropy + T.logarithm(T(k)))) / Double(w.total)
        if label >= 0 {
            terms.labeled += 1
            if best == label { terms.correct += 1 }
            terms.crossEntropy -= Double(scores[i * k + label] - logZ) / Double(max(1, w.labeledTotal))
        }
        // The pseudo-label target `t` of an unlabelled image: `−Σ_c t_c ln q_c / N`, whose
        // gradient is `(q_c Σ_j t_j − t_c) / N`.
        var targetRow: Int? = nil
        var targetMass: T = 0
        if label < 0, let pt = pseudoTargets {
            let row = pt.startIndex + i * k
            for c in 0..<k { targetMass += pt[row + c] }
            if targetMass > 0 {
                targetRow = row
                var ce: T = 0
                for c in 0..<k where pt[row + c] != 0 { ce -= pt[row + c] * (scores[i * k + c] - logZ) }
                terms.pseudoLabeled += 1
                terms.pseudoLabel += Double(ce) / Double(w.total)
            }
        }
        for c in 0..<k {
            let lq = scores[i * k + c] - logZ, q = T.exponential(lq)
            posteriors[i * k + c] = q
            var g: T = 0
            if label >= 0, w.crossEntropy != 0 {
                g += w.crossEntropy * (q - (c == label ? 1 : 0)) / T(max(1, w.labeledTotal))
            }
            if let row = targetRow, let pt = pseudoTargets, w.pseudoLabel != 0 {
                g += w.pseudoLabel * (q * targetMass - pt[row + c]) / T(w.total)
            }
            if w.classPosterior != 0 { g += w.classPosterior * w.sign * q * (lq - negEntropy) / T(w.total) }
            if w.classBalance != 0 { g += w.classBalance * q * (w.logBalance[c] - meanBalance) / T(w.total) }
            dScores[i * k + c] = g
            if g != 0 { anyScoreGradient = true }
        }
    }
}

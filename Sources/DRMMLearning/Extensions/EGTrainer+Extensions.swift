import Foundation
import NumericalCore

/// What the extensions need of the trainer: pseudo-label targets from the teacher or the
/// network, the teacher's average, and the recalibrated statistics.
extension EGTrainer {
    /// The pseudo-label targets of a step (``PseudoLabels``, ``Objective``'s `L_PL`), `[N, K]`: for the images
    /// `first...` of `images` (`[N, C, H, W]`, the step's batch before its augmentations; those
    /// before `first` are labelled), the class posterior the teacher, or without one the current
    /// network, infers (max-sum with the running normalisation statistics, as at test time),
    /// sharpened by `temperature` (`t_c ∝ q_c^{1/T}`; the one-hot most probable class at 0),
    /// where the posterior of the most probable class reaches `threshold`; a row of zeros
    /// everywhere else.
    func pseudoTargets(_ images: [Float], from first: Int, threshold: Double, temperature: Double) throws -> [Float] {
        let d = train.shape.reduce(1, *)
        let k = network.architecture.classes
        let n = images.count / d
        let unlabelled = Array(images[(first * d)..<(n * d)])
        var none: [Float]? = nil
        var predicted: [Int] = []
        _ = try engine.evaluate(
            teacher ?? network, images: unlabelled, labels: [Int](repeating: -1, count: n - first),
            objective: Objective(crossEntropy: 0), gradient: &none, predictions: &predicted)
        let q = engine.posteriors
        var targets = [Float](repeating: 0, count: n * k)
        for (j, best) in predicted.enumerated() where Double(q[j * k + best]) >= threshold {
            let row = (first + j) * k
            guard temperature > 0 else { targets[row + best] = 1; continue }
            // q_c^{1/T} relative to the largest, which stays finite for any T.
            let top = log(q[j * k + best]), inverse = Float(1 / temperature)
            var sum: Float = 0
            for c in 0..<k where q[j * k + c] > 0 {
                targets[row + c] = exp((log(q[j * k + c]) - top) * inverse)
                sum += targets[row + c]
            }
            for c in 0..<k { targets[row + c] /= sum }
        }
        return targets
    }

    /// The most probable class of every row of pseudo-label targets (`[N, K]`), −1 for a row of
    /// zeros.
    static func targetClasses(_ targets: [Float], classes k: Int) -> [Int] {
        (0..<(targets.count / k)).map { i in
            let row = (i * k)..<((i + 1) * k)
            guard let best = row.max(by: { targets[$0] < targets[$1] }), targets[best] > 0 else { return -1 }
            return best - i * k
        }
    }

    /// The images from which the running statistics are recomputed at the end of epoch `e`
    /// (`count` batches of distinct training images, of the batch size or the whole set if
    /// smaller; by default the configured ``Recalibration/batches``).
    func recalibrationBatches(ofEpoch e: Int, count: Int? = nil) -> [ArraySlice<Int>] {
        let count = count ?? configuration.extensions.recalibration?.batches ?? 0
        guard count > 0 else { return [] }
        let rng = RandomSource(seed: configuration.seed ^ 0x5CA1_AB1E ^ (UInt64(e + 1) &* 0xD6E8_FEB8_6659_FD93))
        var order = Array(0..<train.count)
        rng.shuffle(&order)
        let b = min(configuration.batchSize, order.count)
        return stride(from: 0, through: order.count - b, by: b).prefix(count).map { order[$0..<($0 + b)] }
    }

    /// Replaces the running statistics of batch normalisation by the means, over the batches of
    /// ``recalibrationBatches(ofEpoch:count:)``, of the batches' own channel means and variances under
    /// the current parameters (per data-parallel shard, as training normalises, averaged over
    /// the shards: what the running averages estimate), the student's and the teacher's each
    /// under its own parameters; nothing without recalibration.
    func recalibrateStatistics(epoch e: Int, batches count: Int) throws {
        let batches = recalibrationBatches(ofEpoch: e, count: count)
        guard !batches.isEmpty else { return }
        try recalibrate(&network, on: batches)
        if var t = teacher {
            teacher = nil  // no second reference while it changes
            try recalibrate(&t, on: batches)
            teacher = t
        }
    }

    private func recalibrate(_ net: inout RenderingNetwork<Float>, on batches: [ArraySlice<Int>]) throws {
        var sums = net.layout.statistics.map { [Double](repeating: 0, count: $0.count) }
        for batch in batches {
            _ = train.gather(batch, hideLabels: true, into: &batchPixels)
            let statistics = try engine.statistics(net, images: batchPixels, count: batch.count)
            for l in sums.indices { for i in sums[l].indices { sums[l][i] += Double(statistics[l][i]) } }
        }
        for (l, range) in net.layout.statistics.enumerated() {
            for (i, j) in range.enumerated() { net.parameters[j] = Float(sums[l][i] / Double(batches.count)) }
        }
    }

    /// The teacher's step: `θ' ← α_t θ' + (1 − α_t) θ`, `α_t = min(α, 1 − 1/t)` at the
    /// optimiser's step `t` (which starts afresh with a fine-tuning phase or `--init-from`, and
    /// so does the mean).
    func updateTeacher(decay: Double) {
        guard var averaged = teacher else { return }
        teacher = nil  // no second reference while it changes
        let t = Double(max(1, optimizerState.step))
        let a = Float(min(decay, 1 - 1 / t)), b = 1 - a
        network.parameters.withUnsafeBufferPointer { student in
            averaged.parameters.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] = a * p[i] + b * student[i] }
            }
        }
        teacher = averaged
    }
}

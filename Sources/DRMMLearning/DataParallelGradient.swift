import Dispatch
import DRMM
import Foundation
import NumericalCore

/// The gradient of a batch, computed data-parallel: the batch is cut into `shards`
/// contiguous pieces, each run by its own `BatchPass` on its own core (single-threaded
/// GEMMs), and the shard gradients are summed in shard order — so the result depends on the
/// seed and the shard count only, never on thread timing.
///
/// Across the ranks of a ``Communicator`` the shards are split contiguously, rank `r` running
/// shards `⌊S r / R⌋ ..< ⌊S (r + 1) / R⌋` on its own cores; every rank holds the whole batch,
/// and what the shards share is summed over the ranks: the batch's mean class posterior `q̄`
/// (a `K`-vector, mid-pass) and, in one buffer at the end of the step, the gradient, the loss
/// terms, the switch counts and the batch-normalisation statistics
/// (``DataParallelGradient/reduce(_:gradient:)``).
final class DataParallelGradient<T: BLASScalar>: @unchecked Sendable {
    /// `S`, the shards of the batch over all ranks.
    let workers: Int
    let communicator: any Communicator
    /// The shards this rank runs.
    let mine: Range<Int>
    let passes: [BatchPass<T>]
    private var shardGradients: [[T]]
    var lastParts: [Range<Int>] = []
    var lastTotal = 0
    /// Summed over the ranks in a distributed call (otherwise this rank's own).
    var reducedSwitchesOn: [Int]?
    var reducedStatistics: [[T]]?
    var gatheredPosteriors: [T]?

    init(
        network: RenderingNetwork<T>, workers: Int, convolution: ConvolutionAlgorithm = .winograd,
        communicator: any Communicator = SingleProcess()
    ) {
        self.workers = max(1, workers)
        self.communicator = communicator
        let (s, r, size) = (self.workers, communicator.rank, communicator.size)
        mine = (s * r / size)..<(s * (r + 1) / size)
        passes = mine.map { _ in BatchPass(network: network, convolution: convolution) }
        shardGradients = mine.map { _ in [T](repeating: 0, count: network.parameters.count) }
    }

    var distributed: Bool { communicator.size > 1 }

    /// The shard boundaries of a batch of `n` (all ranks' shards, empty ones included).
    func shards(_ n: Int) -> [Range<Int>] {
        (0..<workers).map { w in (n * w / workers)..<(n * (w + 1) / workers) }
    }

    /// The images of a batch of `n` that this rank's shards cover (contiguous).
    func localRows(_ n: Int) -> Range<Int> {
        guard !mine.isEmpty else { return 0..<0 }
        let all = shards(n)
        return all[mine.lowerBound].lowerBound..<all[mine.upperBound - 1].upperBound
    }

    /// This rank's non-empty shards of a batch of `n`.
    func localShards(_ n: Int) -> [Range<Int>] {
        let all = shards(n)
        return mine.map { all[$0] }.filter { !$0.isEmpty }
    }

    /// Loss terms of the batch and, if `gradient` is given, `∂L/∂θ` written into it.
    /// `images` holds `labels.count` images in `[N, C, H, W]` order.
    /// `pseudoTargets`, when given, holds a pseudo-label target for every image: `[N, K]`, a
    /// distribution over the classes or a row of zeros (see ``Objective``).
    func evaluate(
        _ network: RenderingNetwork<T>, images: [T], labels: [Int], objective: Objective,
        gradient: inout [T]?, predictions: inout [Int], pseudoTargets: [T]? = nil
    ) throws -> LossTerms {
        let n = labels.count
        let k = network.architecture.classes
        assert(pseudoTargets.map { $0.count == n * k } ?? true, "one pseudo-label target row per image")
        let d = network.architecture.inputShape.reduce(1, *)
        let labeled = labels.filter { $0 >= 0 }.count
        let parts = localShards(n)
        (lastParts, lastTotal) = (parts, n)
        (reducedSwitchesOn, reducedStatistics, gatheredPosteriors) = (nil, nil, nil)
        var results = [LossTerms](repeating: LossTerms(), count: parts.count)
        var shardPredictions = [[Int]](repeating: [], count: parts.count)
        let wantGradient = gradient != nil
        try network.parameters.withUnsafeBufferPointer { p in
            try images.withUnsafeBufferPointer { x in
                let pS = UnsafeSendable(p.baseAddress!), xS = UnsafeSendable(x.baseAddress!)
                // Bottom-up on every shard, then the batch's mean class posterior q̄ (summed in
                // shard order, then over the ranks), then the rest of every shard's pass with q̄.
                bottomUp(pS, xS, shards: parts, imageSize: d, batchStatistics: wantGradient)
                var sum = [Double](repeating: 0, count: network.architecture.classes)
                for w in parts.indices { for c in sum.indices { sum[c] += passes[w].posteriorSum[c] } }
                if distributed { try communicator.sum(&sum) }
                let marginal = sum.map { $0 / Double(n) }
                let box = ResultBox(results: results, predictions: shardPredictions)
                DispatchQueue.concurrentPerform(iterations: parts.count) { w in
                    let r = parts[w]
                    let pass = passes[w]
                    let targets = pseudoTargets?[(r.lowerBound * k)..<(r.upperBound * k)]
                    let terms: LossTerms
                    if wantGradient {
                        terms = shardGradients[w].withUnsafeMutableBufferPointer { g in
                            g.update(repeating: 0)
                            return pass.finish(
                                parameters: pS.value, labels: labels[r], objective: objective, labeledTotal: labeled,
                                total: n, gradient: g.baseAddress!, batchStatistics: true, classMarginal: marginal,
                                pseudoTargets: targets)
                        }
                    } else {
                        terms = pass.finish(
                            parameters: pS.value, labels: labels[r], objective: objective, labeledTotal: labeled,
                            total: n, gradient: nil, batchStatistics: false, classMarginal: marginal,
                            pseudoTargets: targets)
                    }
                    box.set(w, terms, pass.predictions)
                }
                results = box.results
                shardPredictions = box.predictions
            }
        }
        gradient = nil
        if wantGradient {
            var g = parts.isEmpty ? [T](repeating: 0, count: network.parameters.count) : shardGradients[0]
            for w in parts.indices.dropFirst() { for i in g.indices { g[i] += shardGradients[w][i] } }
            gradient = g
        }
        predictions = shardPredictions.flatMap { $0 }
        let terms = results.reduce(LossTerms(), +)
        guard distributed else { return terms }
        return try reduce(terms, gradient: &gradient, predictions: &predictions, classes: k, batch: n)
    }

    /// The batch-normalisation statistics of `images` (`[N, C, H, W]`, `count` of them) under
    /// `network`: the bottom-up pass alone, each shard normalised with its own statistics as in
    /// training, averaged as ``batchStatistics`` averages them.
    func statistics(_ network: RenderingNetwork<T>, images: [T], count n: Int) throws -> [[T]] {
        let d = network.architecture.inputShape.reduce(1, *)
        assert(images.count == n * d, "count images")
        let parts = localShards(n)
        (lastParts, lastTotal) = (parts, n)
        (reducedSwitchesOn, reducedStatistics, gatheredPosteriors) = (nil, nil, nil)
        network.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                bottomUp(
                    UnsafeSendable(p.baseAddress!), UnsafeSendable(x.baseAddress!), shards: parts, imageSize: d,
                    batchStatistics: true)
            }
        }
        guard distributed else { return localStatistics }
        var flat = localStatistics.flatMap { $0 }
        try sumOverRanks(&flat)
        reducedStatistics = Self.split(flat, like: localStatistics)
        return reducedStatistics!
    }

    /// The bottom-up pass of every shard, each on its own core.
    private func bottomUp(
        _ p: UnsafeSendable<UnsafePointer<T>>, _ x: UnsafeSendable<UnsafePointer<T>>, shards parts: [Range<Int>],
        imageSize d: Int, batchStatistics: Bool
    ) {
        DispatchQueue.concurrentPerform(iterations: parts.count) { w in
            passes[w].bottomUp(
                parameters: p.value, images: x.value + parts[w].lowerBound * d, count: parts[w].count,
                batchStatistics: batchStatistics)
        }
    }

    /// The class posteriors `q(c | I)` of every image of the last call, `[N, K]` (gathered from
    /// every rank after a distributed call without a gradient).
    var posteriors: [T] {
        gatheredPosteriors ?? passes[0..<lastParts.count].flatMap { $0.posteriors }
    }

    /// ON switches per level summed over the shards (and ranks) of the last call.
    var switchesOn: [Int] {
        if let reducedSwitchesOn { return reducedSwitchesOn }
        return localSwitchesOn
    }

    var localSwitchesOn: [Int] {
        guard !lastParts.isEmpty else { return passes.first.map { $0.switchesOn.map { _ in 0 } } ?? [] }
        return passes[1..<lastParts.count].reduce(passes[0].switchesOn) { acc, p in zip(acc, p.switchesOn).map(+) }
    }

    /// The batch-normalisation statistics (per level: channel means, then variances) of the last
    /// training-mode call, averaged over the shards (of every rank) weighted by their sizes.
    var batchStatistics: [[T]] { reducedStatistics ?? localStatistics }

    /// This rank's shards' part of ``batchStatistics``: `Σ_w (n_w / N) b_w` in shard order.
    var localStatistics: [[T]] {
        let total = T(max(1, lastTotal))
        var out = passes[0].batchStatistics.map { [T](repeating: 0, count: $0.count) }
        for (w, r) in lastParts.enumerated() {
            let weight = T(r.count) / total
            for l in out.indices { for i in out[l].indices { out[l][i] += weight * passes[w].batchStatistics[l][i] } }
        }
        return out
    }

    /// The reconstructions of the last call on this rank, `[N][C·H·W]`.
    func reconstructions(batch n: Int) -> [[T]] {
        localShards(n).enumerated().flatMap { w, r in
            (0..<r.count).map { passes[w].reconstruction(of: $0, batch: r.count) }
        }
    }

    static func split(_ flat: [T], like shape: [[T]]) -> [[T]] {
        var offset = 0
        return shape.map { level in
            defer { offset += level.count }
            return Array(flat[offset..<(offset + level.count)])
        }
    }
}

struct UnsafeSendable<P>: @unchecked Sendable {
    let value: P
    init(_ value: P) { self.value = value }
}

/// Per-shard results written from the workers (each to its own slot, under a lock).
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    var results: [LossTerms]
    var predictions: [[Int]]
    init(results: [LossTerms], predictions: [[Int]]) { self.results = results; self.predictions = predictions }
    func set(_ w: Int, _ t: LossTerms, _ p: [Int]) {
        lock.withLock {
            results[w] = t; predictions[w] = p
        }
    }
}

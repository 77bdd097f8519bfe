import Dispatch
import DRMM
import NumericalCore

/// The gradient of a batch, computed data-parallel: the batch is cut into `workers`
/// contiguous shards, each run by its own `BatchPass` on its own core (single-threaded
/// GEMMs), and the shard gradients are summed in shard order — so the result depends on the
/// seed and the worker count only, never on thread timing.
final class DataParallelGradient<T: BLASScalar>: @unchecked Sendable {
    let workers: Int
    private let passes: [BatchPass<T>]
    private var shardGradients: [[T]]
    private var lastShardCount = 1
    private var lastShards: [Range<Int>] = []

    init(network: RenderingNetwork<T>, workers: Int, convolution: ConvolutionAlgorithm = .winograd) {
        self.workers = max(1, workers)
        passes = (0..<self.workers).map { _ in BatchPass(network: network, convolution: convolution) }
        shardGradients = (0..<self.workers).map { _ in [T](repeating: 0, count: network.parameters.count) }
    }

    /// The shard boundaries of a batch of `n`.
    func shards(_ n: Int) -> [Range<Int>] {
        (0..<workers).map { w in (n * w / workers)..<(n * (w + 1) / workers) }.filter { !$0.isEmpty }
    }

    /// Loss terms of the batch and, if `gradient` is given, `∂L/∂θ` written into it.
    /// `images` holds `labels.count` images in `[N, C, H, W]` order.
    /// `pseudoTargets`, when given, holds a pseudo-label target for every image: `[N, K]`, a
    /// distribution over the classes or a row of zeros (see ``Objective``).
    func evaluate(
        _ network: RenderingNetwork<T>, images: [T], labels: [Int], objective: Objective,
        gradient: inout [T]?, predictions: inout [Int], pseudoTargets: [T]? = nil
    ) -> LossTerms {
        let n = labels.count
        let k = network.architecture.classes
        assert(pseudoTargets.map { $0.count == n * k } ?? true, "one pseudo-label target row per image")
        let d = network.architecture.inputShape.reduce(1, *)
        let labeled = labels.filter { $0 >= 0 }.count
        let parts = shards(n)
        lastShardCount = max(1, parts.count)
        lastShards = parts
        var results = [LossTerms](repeating: LossTerms(), count: parts.count)
        var shardPredictions = [[Int]](repeating: [], count: parts.count)
        let wantGradient = gradient != nil
        network.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                let pS = UnsafeSendable(p.baseAddress!), xS = UnsafeSendable(x.baseAddress!)
                // Bottom-up on every shard, then the batch's mean class posterior q̄ (summed in
                // shard order), then the rest of every shard's pass with that q̄.
                bottomUp(pS, xS, shards: parts, imageSize: d, batchStatistics: wantGradient)
                var sum = [Double](repeating: 0, count: network.architecture.classes)
                for w in parts.indices { for c in sum.indices { sum[c] += passes[w].posteriorSum[c] } }
                let marginal = sum.map { $0 / Double(n) }
                let box = ResultBox(results: results, predictions: shardPredictions)
                DispatchQueue.concurrentPerform(iterations: parts.count) { w in
                    let r = parts[w]
                    let pass = passes[w]
                    let terms: LossTerms
                    if wantGradient {
                        terms = shardGradients[w].withUnsafeMutableBufferPointer { g in
                            g.update(repeating: 0)
                            return pass.finish(
                                parameters: pS.value, labels: labels[r], objective: objective, labeledTotal: labeled,
                                total: n,
                                gradient: g.baseAddress!, batchStatistics: true, classMarginal: marginal,
                                pseudoTargets: pseudoTargets?[(r.lowerBound * k)..<(r.upperBound * k)])
                        }
                    } else {
                        terms = pass.finish(
                            parameters: pS.value, labels: labels[r], objective: objective, labeledTotal: labeled,
                            total: n,
                            gradient: nil, batchStatistics: false, classMarginal: marginal,
                            pseudoTargets: pseudoTargets?[(r.lowerBound * k)..<(r.upperBound * k)])
                    }
                    box.set(w, terms, pass.predictions)
                }
                results = box.results
                shardPredictions = box.predictions
            }
        }
        if wantGradient {
            var g = shardGradients[0]
            for w in 1..<parts.count { for i in g.indices { g[i] += shardGradients[w][i] } }
            gradient = g
        }
        predictions = shardPredictions.flatMap { $0 }
        return results.reduce(LossTerms(), +)
    }

    /// The batch-normalisation statistics of `images` (`[N, C, H, W]`, `count` of them) under
    /// `network`: the bottom-up pass alone, each shard normalised with its own statistics as in
    /// training, averaged as ``batchStatistics`` averages them.
    func statistics(_ network: RenderingNetwork<T>, images: [T], count n: Int) -> [[T]] {
        let d = network.architecture.inputShape.reduce(1, *)
        assert(images.count == n * d, "count images")
        let parts = shards(n)
        lastShardCount = max(1, parts.count)
        lastShards = parts
        network.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                bottomUp(
                    UnsafeSendable(p.baseAddress!), UnsafeSendable(x.baseAddress!), shards: parts, imageSize: d,
                    batchStatistics: true)
            }
        }
        return batchStatistics
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

    /// The class posteriors `q(c | I)` of every image of the last call, `[N, K]`.
    var posteriors: [T] {
        passes[0..<lastShardCount].flatMap { $0.posteriors }
    }

    /// ON switches per level summed over the shards of the last call.
    var switchesOn: [Int] {
        passes[1..<lastShardCount].reduce(passes[0].switchesOn) { acc, p in zip(acc, p.switchesOn).map(+) }
    }

    /// The batch-normalisation statistics (per level: channel means, then variances) of the last
    /// training-mode call, averaged over the shards weighted by their sizes.
    var batchStatistics: [[T]] {
        let total = T(lastShards.reduce(0) { $0 + $1.count })
        var out = passes[0].batchStatistics.map { [T](repeating: 0, count: $0.count) }
        for (w, r) in lastShards.enumerated() {
            let weight = T(r.count) / total
            for l in out.indices { for i in out[l].indices { out[l][i] += weight * passes[w].batchStatistics[l][i] } }
        }
        return out
    }

    /// The reconstructions of the last call, `[N][C·H·W]`.
    func reconstructions(batch n: Int) -> [[T]] {
        shards(n).enumerated().flatMap { w, r in (0..<r.count).map { passes[w].reconstruction(of: $0, batch: r.count) }
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

import Foundation

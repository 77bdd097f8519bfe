import FactorGraph
import NumericalCore

/// Ready-made models and checks for the examples and the `drmm` command.
public enum Demonstrations {
    /// A small hand-made rendering model for 16×16 images: level 1 renders oriented strokes
    /// (horizontal, vertical, two diagonals; 5×5, `same` padding, 2×2 translations), level 2
    /// parts made of one orientation each (channel `k` uses orientation `k mod 4`: nonnegative
    /// 3×3 patterns, 2×2 translations), and class `c` renders the parts of orientation
    /// `c mod 4` (in the upper half of the top map for `c < 4` when there are more than four
    /// classes, the lower half for the others), so a person can tell the classes apart.
    public static func strokeModel(classes: Int = 4, seed: UInt64 = 1, noiseVariance: Double = 0.01) throws
        -> DeepRenderingMixtureModel
    {
        var m = try DeepRenderingMixtureModel(
            inputShape: [1, 16, 16],
            layers: [
                LayerSpec(channels: 4, kernel: 5, padding: .same, pool: 2, switchPrior: 0.3),
                LayerSpec(channels: 8, kernel: 3, padding: .same, pool: 2, switchPrior: 0.5)
            ],
            classes: classes, noiseVariance: noiseVariance)
        for r in 0..<5 {
            for s in 0..<5 {
                m.filters[0][0, 0, r, s] = r == 2 ? 1 : 0  // horizontal
                m.filters[0][1, 0, r, s] = s == 2 ? 1 : 0  // vertical
                m.filters[0][2, 0, r, s] = r == s ? 1 : 0  // diagonal
                m.filters[0][3, 0, r, s] = r + s == 4 ? 1 : 0  // anti-diagonal
            }
        }
        let rng = RandomSource(seed: seed)
        let parts = m.filters[1].shape[0]
        for k in 0..<parts {
            for r in 0..<3 {
                for s in 0..<3 where rng.uniform() < 0.4 || (r == 1 && s == 1) {
                    m.filters[1][k, k % 4, r, s] = rng.uniform(0.5, 1)
                }
            }
        }
        let top = m.topShape
        for c in 0..<classes {
            for k in 0..<top[0] where k % 4 == c % 4 {
                for y in 0..<top[1] where classes <= 4 || (y < top[1] / 2) == (c < 4) {
                    for x in 0..<top[2] { m.classTemplates[c][(k * top[1] + y) * top[2] + x] = rng.uniform(0.5, 1.5) }
                }
            }
        }
        return m
    }

    /// The class scores of one image by the four computations of the theorem.
    public struct EquivalenceReport: Sendable {
        /// The class scores by the convnet, by loops written out, by enumerating every
        /// configuration, and by the generic max-sum engine on the model's factor graph.
        public let convnet: [Double], naiveLoops: [Double], bruteForce: [Double], genericMaxSum: [Double]
        /// The largest difference between any two of the four computations of any class score.
        public var largestDifference: Double {
            var d = 0.0
            for c in convnet.indices {
                for other in [naiveLoops[c], bruteForce[c], genericMaxSum[c]] { d = max(d, abs(other - convnet[c])) }
            }
            return d
        }
    }

    /// A tiny DRMM satisfying the theorem's conditions (two levels, nonnegative `W⁽²⁾` and
    /// `μ_c`, zero α, non-overlapping pools) and a random image, solved four ways.
    public static func equivalence(seed: UInt64) throws -> EquivalenceReport {
        let model = try DeepRenderingMixtureModel.random(
            inputShape: [1, 4, 4],
            layers: [LayerSpec(channels: 1, kernel: 3, padding: .same, pool: 2), LayerSpec(channels: 2, kernel: 2)],
            classes: 3, seed: seed)
        let rng = RandomSource(seed: seed &+ 1)
        var image = Tensor(shape: model.inputShape)
        for i in image.elements.indices { image.elements[i] = rng.gaussian() }
        let fast = try model.infer(image)
        let brute = try model.bruteForceMaxScores(image).map(\.score)
        // Naive loops: Conv → ReLU → MaxPool written out with no BLAS.
        var x = image
        for (l, g) in model.geometry.enumerated() {
            var pooled = Tensor(shape: g.pooled)
            for o in 0..<g.convolved[0] {
                for i in 0..<g.pooled[1] {
                    for j in 0..<g.pooled[2] {
                        var best = -Double.infinity
                        for di in 0..<g.pool {
                            for dj in 0..<g.pool {
                                let (cy, cx) = (i * g.pool + di, j * g.pool + dj)
                                var s = model.unitBias(level: l)[o]
                                for c in 0..<g.input[0] {
                                    for r in 0..<g.kernel {
                                        for q in 0..<g.kernel {
                                            let (iy, ix) = (cy + r - g.pad, cx + q - g.pad)
                                            if iy >= 0 && iy < g.input[1] && ix >= 0 && ix < g.input[2] {
                                                s += model.filters[l][o, c, r, q] * x[c, iy, ix]
                                            }
                                        }
                                    }
                                }
                                best = max(best, s)
                            }
                        }
                        pooled[o, i, j] = max(0, best)
                    }
                }
            }
            x = pooled
        }
        let naive = model.classTemplates.map { zip($0, x.elements).reduce(0) { $0 + $1.0 * $1.1 } }
        // The generic engine on the factor-graph twin, one class at a time.
        let twin = try model.factorGraph(observing: image, objective: .linearScore)
        let engine = try (0..<model.classCount).map { c -> Double in
            var ev = twin.evidence
            ev.states[twin.classVariable] = c
            let map = try BeliefPropagation().run(twin.graph, evidence: ev, semiring: MaxSum.self).map!
            return (map.logScore - twin.observationLogConstant - Foundation.log(model.classPrior[c]))
                * model.noiseVariance
        }
        return EquivalenceReport(convnet: fast.classScores, naiveLoops: naive, bruteForce: brute, genericMaxSum: engine)
    }
}

import Foundation

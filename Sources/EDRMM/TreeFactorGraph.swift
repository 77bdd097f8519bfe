import FactorGraph

extension EvolutionaryTree {
    /// The tree as a generic `FactorGraph` observing `image`: one categorical variable per
    /// level (which child is taken, padded to the widest branching; impossible choices get
    /// probability zero), and the image as the Gaussian child of one conditional Gaussian whose
    /// mean for a choice path is that leaf's template. The path's log prior (and, for the linear
    /// objective, `+‖μ‖²/2σ²`) is one table over the same variables, which the engine folds
    /// into the mixture, so the graph is a tree and max-sum is exact.
    ///
    /// Leaves must all be at the same depth. Returns the graph, the evidence, and for every
    /// joint choice configuration (row-major) the leaf it reaches or −1.
    public func factorGraph(observing image: [Double], objective: Objective) throws -> (
        graph: FactorGraph, evidence: Evidence, leafOfConfiguration: [Int]
    ) {
        try check(image)
        guard nodes.allSatisfy({ $0.template.count == dimension }) else {
            throw EDRMMError.invalidModel("a relaxed tree has no templates to render")
        }
        let depths = Set(leaves.map { nodes[$0].depth })
        guard depths.count == 1, let depth = depths.first, depth >= 1 else {
            throw EDRMMError.invalidModel("leaves must all be at one depth ≥ 1, found depths \(depths.sorted())")
        }
        let branching = nodes.map(\.children.count).max() ?? 1
        var g = FactorGraph()
        let choices = (0..<depth).map { g.addCategorical(cardinality: branching, name: "g\($0 + 1)") }
        let y = try g.addGaussian(dimension: dimension, name: "image")
        let total = Int(pow(Double(branching), Double(depth)))
        var means: [[Double]] = [], table: [Double] = [], leafOf: [Int] = []
        var digits = [Int](repeating: 0, count: depth)
        for _ in 0..<total {
            var node = 0, logPrior = 0.0
            for d in 0..<depth {
                let ch = nodes[node].children
                if digits[d] < ch.count {
                    node = ch[digits[d]]; logPrior += nodes[node].logPrior
                } else {
                    node = -1; break
                }
            }
            if node >= 0 {
                let mu = nodes[node].template
                means.append(mu)
                let quad = mu.reduce(0) { $0 + $1 * $1 } / (2 * noiseVariance)
                table.append(logPrior + (objective == .linear ? quad : 0))
            } else {
                means.append(nodes[0].template)
                table.append(-.infinity)
            }
            leafOf.append(node)
            var d = depth - 1
            while d >= 0 { digits[d] += 1; if digits[d] < branching { break }; digits[d] = 0; d -= 1 }
        }
        try g.addConditionalGaussian(
            child: y, parents: choices, means: means, covariance: .isotropic(variance: noiseVariance))
        try g.addFactor(scope: choices, logValues: table)
        return (g, Evidence(observations: [y: image]), leafOf)
    }
}

import Foundation

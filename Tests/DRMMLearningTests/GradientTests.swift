import Foundation
import DRMM
import NumericalCore
import Testing
@testable import DRMMLearning

/// The hand-written G-step gradient against central finite differences, in Double, with every
/// term of the objective switched on. The routes (switches, translations) and the rendered
/// class are piecewise constant in θ, so away from their boundaries the derivative with them
/// held fixed is the derivative.
@Suite struct GradientTests {
    func check(
        top: Architecture.Top, sign: Objective.ClassPosteriorSign, seed: UInt64,
        objective: Objective? = nil, normalization: Architecture.Normalization = .none,
        pseudoTargets: [Double]? = nil
    ) throws {
        let a =
            normalization.isBatch
            ? Support.toy(top: top).batchNormalized(folded: normalization == .batchFolded) : Support.toy(top: top)
        let net = try Support.randomNetwork(a, seed: seed)
        let n = 6
        let images = Support.randomImages(n, size: 64, seed: seed + 100)
        let labels = [0, 2, -1, 1, -1, 2]
        let objective =
            objective
            ?? Objective(
                crossEntropy: 1, reconstruction: 0.7, classPosterior: 0.3, classPosteriorSign: sign, nonnegativity: 0.5,
                classBalance: 0.4)
        let pass = BatchPass(network: net)
        func loss(_ p: [Double]) -> Double {
            p.withUnsafeBufferPointer { pp in
                images.withUnsafeBufferPointer { x in
                    pass.run(
                        parameters: pp.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n,
                        objective: objective,
                        labeledTotal: 4, total: n, gradient: nil, batchStatistics: true,
                        pseudoTargets: pseudoTargets?[...]
                    ).total
                }
            }
        }
        var grad = [Double](repeating: 0, count: net.parameters.count)
        let terms = net.parameters.withUnsafeBufferPointer { pp in
            images.withUnsafeBufferPointer { x in
                grad.withUnsafeMutableBufferPointer { g in
                    pass.run(
                        parameters: pp.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n,
                        objective: objective,
                        labeledTotal: 4, total: n, gradient: g.baseAddress!, pseudoTargets: pseudoTargets?[...])
                }
            }
        }
        // Every term is active, so every path of the gradient is exercised.
        if objective.crossEntropy * objective.reconstruction * objective.nonnegativity * objective.classPosterior
            * objective.classBalance != 0
        {
            #expect(
                terms.crossEntropy > 0 && terms.reconstruction > 0 && terms.nonnegativity > 0
                    && terms.classPosterior != 0 && terms.classBalance > 0)
        }
        let h = 1e-6
        var worst = 0.0
        for i in net.parameters.indices {
            var plus = net.parameters, minus = net.parameters
            plus[i] += h; minus[i] -= h
            let fd = (loss(plus) - loss(minus)) / (2 * h)
            worst = max(worst, abs(fd - grad[i]) / max(1, abs(fd)))
        }
        #expect(worst < 1e-6, "\(objective): worst relative gradient error \(worst)")
        #expect(grad.contains { $0 != 0 })
    }

    @Test(arguments: [Architecture.Top.dense, .meanPool], [UInt64(1), 2, 3])
    func handGradientEqualsFiniteDifferences(top: Architecture.Top, seed: UInt64) throws {
        try check(top: top, sign: .entropyMinimisation, seed: seed)
        try check(top: top, sign: .klToPrior, seed: seed + 10)
    }

    /// With batch normalisation, through the batch statistics (every image's gradient depends on
    /// the whole shard) and into the scales `γ`.
    @Test(arguments: [Architecture.Top.dense, .meanPool], [UInt64(1), 2])
    func batchNormalisedGradientEqualsFiniteDifferences(top: Architecture.Top, seed: UInt64) throws {
        try check(top: top, sign: .entropyMinimisation, seed: seed + 20, normalization: .batch)
        try check(
            top: top, sign: .klToPrior, seed: seed + 30, objective: Objective(crossEntropy: 1), normalization: .batch)
    }

    /// Rendering with the normalised filters `γ W/σ`: the reconstruction and nonnegativity terms
    /// reach `γ`, and through `σ` the filters and every level below.
    @Test(arguments: [Architecture.Top.dense, .meanPool], [UInt64(1), 2])
    func foldedRenderingGradientEqualsFiniteDifferences(top: Architecture.Top, seed: UInt64) throws {
        try check(top: top, sign: .entropyMinimisation, seed: seed + 40, normalization: .batchFolded)
        try check(
            top: top, sign: .klToPrior, seed: seed + 50, objective: Objective(crossEntropy: 0, reconstruction: 1),
            normalization: .batchFolded)
        try check(
            top: top, sign: .klToPrior, seed: seed + 60, objective: Objective(crossEntropy: 0, nonnegativity: 1),
            normalization: .batchFolded)
    }

    @Test func eachTermAlone() throws {
        for o in [
            Objective(crossEntropy: 1), Objective(crossEntropy: 0, reconstruction: 1),
            Objective(crossEntropy: 0, classPosterior: 1),
            Objective(crossEntropy: 0, nonnegativity: 1), Objective(crossEntropy: 0, classBalance: 1)
        ] {
            try check(top: .dense, sign: .klToPrior, seed: 5, objective: o)
        }
    }

    /// One-hot pseudo-label targets `[N, 3]` from a class (or −1 for none) per image.
    static func oneHot(_ classes: [Int]) -> [Double] {
        classes.flatMap { c in (0..<3).map { $0 == c ? 1.0 : 0.0 } }
    }

    /// The pseudo-label term: cross-entropy of the unlabelled images toward their targets, over
    /// the whole batch; a target on a labelled image is ignored.
    @Test(arguments: [Architecture.Normalization.none, .batchFolded])
    func pseudoLabelGradientEqualsFiniteDifferences(normalization: Architecture.Normalization) throws {
        // labels [0, 2, −1, 1, −1, 2]: images 2 and 4 are unlabelled, 2 has a pseudo-label.
        let hard = Self.oneHot([1, -1, 1, -1, -1, -1])
        // Soft targets on images 2 and 4 (and one on the labelled image 0, ignored).
        let soft = [0.5, 0.25, 0.25] + [0, 0, 0] + [0.2, 0.7, 0.1] + [0, 0, 0] + [0.05, 0.15, 0.8] + [0, 0, 0]
        for (targets, seed) in [(hard, UInt64(70)), (soft, 74)] {
            try check(
                top: .dense, sign: .klToPrior, seed: seed, objective: Objective(crossEntropy: 0, pseudoLabel: 1),
                normalization: normalization, pseudoTargets: targets)
            try check(
                top: .meanPool, sign: .entropyMinimisation, seed: seed + 1,
                objective: Objective(
                    crossEntropy: 1, reconstruction: 0.7, classPosterior: 0.3, nonnegativity: 0.5, classBalance: 0.4,
                    pseudoLabel: 0.8),
                normalization: normalization, pseudoTargets: targets)
        }

        // Its value: for a one-hot target the cross-entropy of image 2 toward class 1 divided by
        // the batch, and for soft targets the mixture of the three cross-entropies of each image.
        let a = Support.toy(top: .dense)
        let net = try Support.randomNetwork(normalization.isBatch ? a.batchNormalized(folded: true) : a, seed: 72)
        let images = Support.randomImages(6, size: 64, seed: 73)
        let pass = BatchPass(network: net)
        func run(_ labels: [Int], _ objective: Objective, labeled: Int, targets: [Double]? = nil) -> LossTerms {
            net.parameters.withUnsafeBufferPointer { p in
                images.withUnsafeBufferPointer { x in
                    pass.run(
                        parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: 6,
                        objective: objective,
                        labeledTotal: labeled, total: 6, gradient: nil, batchStatistics: true,
                        pseudoTargets: targets?[...])
                }
            }
        }
        let labels = [0, 2, -1, 1, -1, 2]
        let terms = run(labels, Objective(crossEntropy: 0, pseudoLabel: 1), labeled: 4, targets: hard)
        // Image i alone labelled c (the batch statistics are the same images'): its cross-entropy.
        func crossEntropy(_ i: Int, _ c: Int) -> Double {
            var only = [Int](repeating: -1, count: 6)
            only[i] = c
            return run(only, Objective(crossEntropy: 1), labeled: 1).crossEntropy
        }
        #expect(terms.pseudoLabeled == 1)
        #expect(
            abs(terms.pseudoLabel - crossEntropy(2, 1) / 6) < 1e-12 && abs(terms.total - terms.pseudoLabel) < 1e-12,
            "\(terms.pseudoLabel) vs \(crossEntropy(2, 1) / 6)")
        let softTerms = run(labels, Objective(crossEntropy: 0, pseudoLabel: 1), labeled: 4, targets: soft)
        let expected =
            [2, 4].reduce(0.0) { sum, i in sum + (0..<3).reduce(0.0) { $0 + soft[i * 3 + $1] * crossEntropy(i, $1) } }
            / 6
        #expect(softTerms.pseudoLabeled == 2)
        #expect(abs(softTerms.pseudoLabel - expected) < 1e-12, "\(softTerms.pseudoLabel) vs \(expected)")
    }

    /// Shards of a batch sum to the gradient of the whole batch.
    @Test func shardsAddUpToTheBatchGradient() throws {
        let a = Support.toy(top: .dense)
        let net = try Support.randomNetwork(a, seed: 7)
        let images = Support.randomImages(7, size: 64, seed: 8)
        let labels = [0, -1, 2, 1, -1, 2, 0]
        // The class-balance term couples the shards through the batch's mean posterior.
        let objective = Objective(
            crossEntropy: 1, reconstruction: 0.5, classPosterior: 0.2, nonnegativity: 0.3, classBalance: 0.6)
        var results: [[Double]] = []
        var losses: [Double] = []
        for workers in [1, 2, 3] {
            let engine = DataParallelGradient(network: net, workers: workers)
            var g: [Double]? = []
            var p: [Int] = []
            losses.append(
                try engine.evaluate(
                    net, images: images, labels: labels, objective: objective, gradient: &g, predictions: &p
                ).total)
            results.append(g ?? [])
        }
        for r in results.dropFirst() {
            #expect(zip(r, results[0]).allSatisfy { abs($0 - $1) < 1e-12 })
        }
        #expect(losses.allSatisfy { abs($0 - losses[0]) < 1e-12 })
    }

    /// The class-balance term is `KL(q̄ ‖ U)` of the batch's mean class posterior, and with the
    /// entropy term at the same weight the objective is minus the mutual information between
    /// image and class, `(1/N) Σ_n H(q_n) − H(q̄)`: checked on posteriors from the DRMM module's
    /// convnet (an independent forward pass), for one, two and three shards.
    @Test func classBalanceIsTheDivergenceOfTheMeanPosterior() throws {
        let a = Support.toy(top: .dense)
        let net = try Support.randomNetwork(a, seed: 13, scale: 1.5).converted(to: Float.self)
        var cn = try ConvNet(
            inputShape: a.inputShape, layers: a.layers, classes: a.classes, meanPoolTop: false, seed: 1)
        for l in cn.layers.indices {
            cn.layers[l].filters = Array(net.parameters[net.layout.filters[l]])
            cn.layers[l].bias = Array(net.parameters[net.layout.biases[l]])
        }
        cn.classifier = .dense(
            weights: Array(net.parameters[net.layout.classTemplates]), bias: Array(net.parameters[net.layout.classBias])
        )
        let n = 9, k = a.classes
        let images = Support.randomImages(n, size: 64, seed: 14).map(Float.init)
        let scores = try cn.forward(images, count: n).scores.map(Double.init)
        var mean = [Double](repeating: 0, count: k), entropy = 0.0
        for i in 0..<n {
            let row = scores[(i * k)..<((i + 1) * k)], m = row.max() ?? 0
            let z = row.reduce(0) { $0 + exp($1 - m) }
            for (c, s) in row.enumerated() {
                let q = exp(s - m) / z
                mean[c] += q / Double(n)
                entropy -= q * log(q) / Double(n)
            }
        }
        let divergence = mean.reduce(0) { $0 + $1 * log(Double(k) * $1) }
        let meanEntropy = -mean.reduce(0) { $0 + $1 * log($1) }
        #expect(divergence > 1e-3, "the posteriors of the test images should not already be balanced")
        let labels = [Int](repeating: -1, count: n)
        for workers in [1, 2, 3] {
            let engine = DataParallelGradient(network: net, workers: workers)
            var g: [Float]? = nil, p: [Int] = []
            let balance = try engine.evaluate(
                net, images: images, labels: labels, objective: Objective(crossEntropy: 0, classBalance: 1),
                gradient: &g, predictions: &p)
            #expect(
                abs(balance.classBalance - divergence) < 1e-5 && abs(balance.total - divergence) < 1e-5,
                "\(workers) workers")
            let information = try engine.evaluate(
                net, images: images, labels: labels,
                objective: Objective(crossEntropy: 0, classPosterior: 1, classBalance: 1), gradient: &g, predictions: &p
            )
            #expect(abs(information.total - (entropy - meanEntropy)) < 1e-5, "\(workers) workers")
        }
    }
}

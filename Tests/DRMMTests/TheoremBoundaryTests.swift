import Foundation
import Testing
import NumericalCore
import FactorGraph
import DRMM

/// Which assumption carries the result: drop one, and an instance appears where the convnet's
/// answer is no longer the max over rendering paths (spec §3.7, E2 and E4).
@Suite("Boundaries of the theorem")
struct TheoremBoundaryTests {
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    /// E2: with a signed `W⁽²⁾` (or signed `μ_c`), a negative upstream coefficient turns a
    /// per-unit max into a min, and max-sum ≠ convnet.
    @Test("signed weights above level 1 break the equality")
    func signedWeights() throws {
        var found: (seed: UInt64, brute: Double, convnet: Double)?
        for seed in UInt64(1)...60 {
            let model = try TinyModels.model(seed: seed, nonnegative: false)
            let image = TinyModels.image(for: model, seed: seed)
            let fast = try model.infer(image)
            let brute = try model.bruteForceMaxScores(image)
            for c in 0..<model.classCount where !Self.close(brute[c].score, fast.classScores[c]) {
                // The convnet never beats the true max: its switches are one feasible configuration.
                #expect(brute[c].score > fast.classScores[c])
                found = found ?? (seed, brute[c].score, fast.classScores[c])
            }
        }
        let f = try #require(found, "expected a signed model where max-sum and the convnet differ")
        print("signed W: seed \(f.seed): max over paths \(f.brute), convnet \(f.convnet)")
    }

    /// Nonzero convnet biases are priors (E5): with them the equality still holds exactly.
    @Test("nonzero convnet biases: still exact, against brute force", arguments: Array(UInt64(1)...60))
    func biases(seed: UInt64) throws {
        let model = try TinyModels.model(seed: seed, biases: true)
        let image = TinyModels.image(for: model, seed: seed)
        let fast = try model.infer(image)
        let brute = try model.bruteForceMaxScores(image)
        for c in 0..<model.classCount {
            #expect(Self.close(brute[c].score, fast.classScores[c]), "seed \(seed) class \(c)")
        }
    }

    /// E1: a rendering bias α adds configuration-dependent terms that the bottom-up pass does
    /// not see.
    @Test("nonzero rendering biases α break the equality")
    func renderingBias() throws {
        var differing = 0, total = 0
        for seed in UInt64(1)...40 {
            var model = try TinyModels.model(seed: seed)
            let rng = RandomSource(seed: seed ^ 0xA1FA)
            for l in model.renderBias.indices {
                for k in model.renderBias[l].indices { model.renderBias[l][k] = abs(rng.gaussian()) }
            }
            let image = TinyModels.image(for: model, seed: seed)
            let fast = try model.infer(image)
            let brute = try model.bruteForceMaxScores(image)
            for c in 0..<model.classCount {
                total += 1
                if !Self.close(brute[c].score, fast.classScores[c]) { differing += 1 }
            }
        }
        print("α ≠ 0: the convnet's score differs from the max over paths in \(differing) of \(total) class scores")
        #expect(differing > 0)
    }

    /// The NN-DRMM (spec §3.4) with signed weights above level 1: its clamp renders every
    /// negative intermediate template value as zero, which the bottom-up pass does not model.
    /// What holds: the convnet's score is `S(c, ĝ)` of the *linear* model at its own
    /// configuration, never above the NN-DRMM's max over configurations (measured here on
    /// every score), and it can fall strictly below it.
    @Test("NN-DRMM with signed weights: the convnet's score is a lower bound of the max over configurations")
    func nonnegativeRenderingWithSignedWeights() throws {
        var below = 0, total = 0, largestGap = 0.0
        for seed in UInt64(1)...60 {
            var model = try TinyModels.model(seed: seed, nonnegative: false)
            model.nonnegativeRendering = true
            let image = TinyModels.image(for: model, seed: seed)
            let fast = try model.infer(image)
            let brute = try model.bruteForceMaxScores(image)
            for c in 0..<model.classCount {
                total += 1
                #expect(
                    brute[c].score >= fast.classScores[c] - 1e-9,
                    "seed \(seed) class \(c): NN max \(brute[c].score) < convnet \(fast.classScores[c])")
                if brute[c].score > fast.classScores[c] + 1e-9 {
                    below += 1; largestGap = max(largestGap, brute[c].score - fast.classScores[c])
                }
            }
        }
        print(
            "NN-DRMM, signed weights: the convnet's score is below the max over configurations in \(below) of "
                + "\(total) class scores (largest gap \(largestGap))"
        )
        #expect(below > 0)
    }

    /// E4: keep `−‖μ_cg‖²/2σ²` (the full Gaussian MAP) and the best configuration changes; the
    /// generic engine on the Gaussian-likelihood twin agrees with brute force, not with the
    /// convnet.
    @Test("keeping the quadratic term breaks the equality; the generic engine follows the true MAP")
    func quadraticTerm() throws {
        var differing = 0
        for seed in UInt64(1)...12 {
            let model = try TinyModels.model(seed: seed)
            let image = TinyModels.image(for: model, seed: seed)
            let fast = try model.infer(image)
            let full = try model.bruteForceMaxScores(image, quadratic: true)
            var convnetConfigurationIsOptimal = true
            for c in 0..<model.classCount {
                let mu = try model.render(class: c, nuisances: fast.nuisances)
                let atConvnet =
                    mu.dot(image) - mu.dot(mu) / 2 + (try model.priorScore(class: c, nuisances: fast.nuisances))
                if !Self.close(atConvnet, full[c].score) { convnetConfigurationIsOptimal = false }
                #expect(full[c].score >= atConvnet - 1e-9)
            }
            if !convnetConfigurationIsOptimal { differing += 1 }
            // The engine on the Gaussian twin finds the full-MAP optimum of brute force.
            let twin = try model.factorGraph(
                observing: image, objective: .gaussianLikelihood, maximumConfigurations: 1 << 17)
            let map = try BeliefPropagation().run(twin.graph, evidence: twin.evidence, semiring: MaxSum.self).map!
            let c = map.states[twin.classVariable]
            let g = twin.nuisances(from: map.states)
            let mu = try model.render(class: c, nuisances: g)
            // σ² = 1 and uniform π_c here, so the twin's log-joint ranks like brute force's score.
            let best = full.map(\.score).max()!
            #expect(
                Self.close(mu.dot(image) - mu.dot(mu) / 2 + (try model.priorScore(class: c, nuisances: g)), best),
                "seed \(seed)")
        }
        print(
            "quadratic term kept: the convnet's configuration is not the full-Gaussian MAP in \(differing) of 12 models"
        )
        #expect(differing > 0)
    }
}

@Suite("Rendering")
struct RenderingTests {
    @Test("⟨Conv(x), y⟩ = ⟨x, ConvT(y)⟩ for every padding mode", arguments: Padding.allCases)
    func adjointness(padding: Padding) throws {
        let rng = RandomSource(seed: 99)
        for kernel in [1, 3, 5] {
            let pad = padding.amount(kernel: kernel)
            let (c, o, h, w) = (3, 4, 7, 6)
            var x = Tensor(shape: [c, h, w]), filters = Tensor(shape: [o, c, kernel, kernel])
            for i in x.elements.indices { x.elements[i] = rng.gaussian() }
            for i in filters.elements.indices { filters.elements[i] = rng.gaussian() }
            let cx = Convolution.forward(x, filters: filters, pad: pad)
            var y = Tensor(shape: cx.shape)
            for i in y.elements.indices { y.elements[i] = rng.gaussian() }
            let lhs = cx.dot(y)
            let rhs = x.dot(Convolution.transpose(y, filters: filters, pad: pad, height: h, width: w))
            #expect(abs(lhs - rhs) <= 1e-12 * max(1, abs(lhs)), "\(padding) kernel \(kernel): \(lhs) vs \(rhs)")
        }
    }

    @Test(
        "the recursive and the sum-over-paths forms render the same pixels (signed weights, α ≠ 0)",
        arguments: Array(UInt64(1)...20))
    func twoForms(seed: UInt64) throws {
        var model = try TinyModels.model(seed: seed, nonnegative: false)
        let rng = RandomSource(seed: seed)
        for l in model.renderBias.indices {
            for k in model.renderBias[l].indices { model.renderBias[l][k] = rng.gaussian() }
        }
        for _ in 0..<5 {
            let (c, g, _) = try model.sample(using: rng)
            let a = try model.render(class: c, nuisances: g)
            let b = try model.renderBySumOverPaths(class: c, nuisances: g)
            #expect(zip(a.elements, b.elements).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0)) })
        }
    }

    @Test("images sampled at low noise are classified back and their nuisances recovered")
    func generationThenInference() throws {
        var classOK = 0, total = 0, unitsOK = 0, unitsTotal = 0
        for seed in UInt64(1)...20 {
            var model = try TinyModels.model(seed: seed, priors: false)
            model.noiseVariance = 1e-4
            let rng = RandomSource(seed: seed)
            for _ in 0..<10 {
                let (c, g, image) = try model.sample(using: rng)
                let inferred = try model.infer(image)
                total += 1
                // A sample whose switches are all OFF renders nothing; any class explains it.
                let rendered = try model.render(class: c, nuisances: g)
                if rendered.dot(rendered) < 1e-6 { classOK += 1; continue }
                if inferred.predictedClass == c { classOK += 1 }
                // Units that rendered something visible must be recovered: ON, same translation.
                let z = try model.renderLevels(class: c, nuisances: g)
                for l in 0..<model.layers.count {
                    let coefficient = z[model.layers.count - 1 - l]
                    for u in 0..<coefficient.count where g.switches[l][u] && coefficient.elements[u] > 0.5 {
                        unitsTotal += 1
                        if inferred.nuisances.switches[l][u]
                            && inferred.nuisances.translations[l][u] == g.translations[l][u]
                        {
                            unitsOK += 1
                        }
                    }
                }
            }
        }
        let classRate = Double(classOK) / Double(total), unitRate = Double(unitsOK) / Double(max(unitsTotal, 1))
        print(
            "generation → inference at σ² = 1e-4: class recovered \(classOK)/\(total) (\(classRate)), active units "
                + "recovered \(unitsOK)/\(unitsTotal) (\(unitRate))"
        )
        #expect(classRate > 0.6)
        #expect(unitRate > 0.5)
    }
}

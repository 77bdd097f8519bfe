import Foundation
import Testing
import PropertyBased
import NumericalCore
import FactorGraph
import DRMM

/// The proof, as tests (spec §3.7). On small DRMMs of random architecture (``TinyModels``)
/// satisfying the theorem's conditions — zero α, nonnegative `μ_c` and `W⁽ˡ⁾` for ℓ ≥ 2,
/// non-overlapping pools, the linear score, switch priors entering each unit's message (E5) —
/// four independent computations agree:
///
/// 1. the DRMM's fast bottom-up pass (im2col + BLAS),
/// 2. a naive loop-by-loop Conv → ReLU → MaxPool network,
/// 3. brute-force enumeration of every rendering path `(c, g)`,
/// 4. the generic max-sum engine on the model written as a `FactorGraph`.
@Suite("DRMM max-sum inference equals Conv → ReLU → MaxPool")
struct MaxSumEqualsConvNetTests {
    static func close(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool {
        abs(a - b) <= tol * max(1, abs(a), abs(b))
    }

    @Test("1 = 2: the fast pass is the naive convnet, layer by layer", arguments: Array(UInt64(1)...200))
    func fastEqualsNaive(seed: UInt64) throws {
        let model = try TinyModels.model(seed: seed, nonnegative: seed % 2 == 0)
        let image = TinyModels.image(for: model, seed: seed)
        let fast = try model.infer(image)
        let naive = NaiveConvNet(model: model).forward(image)
        for (l, level) in naive.levels.enumerated() {
            let shape = fast.responses[l].shape
            for c in 0..<shape[0] {
                for y in 0..<shape[1] {
                    for x in 0..<shape[2] {
                        #expect(
                            Self.close(fast.responses[l][c, y, x], level.response[c][y][x]), "level \(l + 1) response")
                    }
                }
            }
            let pooled = fast.features[l].shape
            for c in 0..<pooled[0] {
                for y in 0..<pooled[1] {
                    for x in 0..<pooled[2] {
                        let u = (c * pooled[1] + y) * pooled[2] + x
                        #expect(Self.close(fast.features[l][c, y, x], level.pooled[c][y][x]), "level \(l + 1) feature")
                        #expect(
                            fast.nuisances.translations[l][u] == level.argmax[c][y][x], "level \(l + 1) pool argmax")
                        #expect(fast.nuisances.switches[l][u] == level.on[c][y][x], "level \(l + 1) ReLU switch")
                    }
                }
            }
        }
        for (a, b) in zip(fast.classScores, naive.scores) { #expect(Self.close(a, b)) }
    }

    @Test("1 = 3: max over every rendering path is the convnet's class score", arguments: Array(UInt64(1)...300))
    func fastEqualsBruteForce(seed: UInt64) throws {
        let model = try TinyModels.model(seed: seed)
        let image = TinyModels.image(for: model, seed: seed)
        let fast = try model.infer(image)
        let brute = try model.bruteForceMaxScores(image)
        for c in 0..<model.classCount {
            #expect(
                Self.close(brute[c].score, fast.classScores[c]),
                "class \(c): max_g ⟨μ_cg, I⟩ + P = \(brute[c].score), convnet \(fast.classScores[c])")
            // The convnet's switches form one jointly feasible configuration that attains the max …
            let mu = try model.render(class: c, nuisances: fast.nuisances)
            #expect(
                Self.close(mu.dot(image) + (try model.priorScore(class: c, nuisances: fast.nuisances)), brute[c].score))
            // … and wherever a unit's upstream coefficient z⁽ˡ⁾ is strictly positive, its (t, a)
            // is the brute-force argmax itself (elsewhere the unit does not affect the score).
            let z = try model.renderLevels(class: c, nuisances: fast.nuisances)
            for l in 0..<model.layers.count {
                let coefficient = z[model.layers.count - 1 - l]  // z⁽ˡ⁾ sits above level ℓ's units
                for u in 0..<coefficient.count where coefficient.elements[u] > 1e-12 && fast.nuisances.switches[l][u] {
                    #expect(brute[c].nuisances.switches[l][u])
                    #expect(brute[c].nuisances.translations[l][u] == fast.nuisances.translations[l][u])
                }
            }
        }
    }

    @Test(
        "1 = 4: the generic max-sum engine on the model's factor graph gives the same scores and MAP",
        arguments: Array(UInt64(1)...80))
    func fastEqualsGenericEngine(seed: UInt64) throws {
        let model = try TinyModels.model(seed: seed)
        let image = TinyModels.image(for: model, seed: seed)
        let fast = try model.infer(image)
        let twin = try model.factorGraph(observing: image, objective: .linearScore, maximumConfigurations: 1 << 17)
        for c in 0..<model.classCount {
            var ev = twin.evidence
            ev.states[twin.classVariable] = c
            let map = try BeliefPropagation().run(twin.graph, evidence: ev, semiring: MaxSum.self).map!
            #expect(map.isExact)
            let linear = (map.logScore - twin.observationLogConstant - log(model.classPrior[c])) * model.noiseVariance
            #expect(
                Self.close(linear, fast.classScores[c], 1e-8),
                "class \(c): engine \(linear), convnet \(fast.classScores[c])")
        }
        let map = try BeliefPropagation().run(twin.graph, evidence: twin.evidence, semiring: MaxSum.self).map!
        #expect(map.states[twin.classVariable] == fast.predictedClass)
        let g = twin.nuisances(from: map.states)
        let mu = try model.render(class: fast.predictedClass, nuisances: g)
        let prior = try model.priorScore(class: fast.predictedClass, nuisances: g)
        #expect(Self.close(mu.dot(image) + prior, fast.classScores[fast.predictedClass], 1e-8))
    }

    @Test("property: random shapes and seeds (fast = naive = brute force)")
    func property() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let model = try TinyModels.model(seed: UInt64(seed))
            let image = TinyModels.image(for: model, seed: UInt64(seed))
            let fast = try model.infer(image)
            let brute = try model.bruteForceMaxScores(image)
            let naive = NaiveConvNet(model: model).forward(image)
            for c in 0..<model.classCount {
                #expect(Self.close(brute[c].score, fast.classScores[c]))
                #expect(Self.close(naive.scores[c], fast.classScores[c]))
            }
        }
    }
}

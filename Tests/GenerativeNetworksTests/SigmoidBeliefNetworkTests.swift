import FactorGraph
import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

/// The recognition forward pass of a sigmoid belief network against its exact posterior
/// marginals (by enumeration, and by variable elimination on the factor graph).
@Suite struct SigmoidBeliefNetworkTests {
    static func input(_ n: Int, seed: UInt64) -> [Double] {
        let rng = RandomSource(seed: seed)
        return (0..<n).map { _ in rng.uniform() < 0.5 ? 0 : 1 }
    }

    static func worstError(_ a: [[Double]], _ b: [[Double]], fromLayer k: Int = 0) -> Double {
        zip(a, b).dropFirst(k).map { zip($0, $1).map { abs($0 - $1) }.max()! }.max() ?? 0
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func enumerationEqualsVariableEliminationOnTheFactorGraph(seed: UInt64) throws {
        let net = try SigmoidBeliefNetwork(sizes: [5, 4, 3, 2], scale: 1.5, seed: seed)
        let x0 = Self.input(5, seed: seed + 9)
        let exact = try net.exactMarginals(x0)
        let graph = try net.factorGraph(observing: x0)
        let ve = try VariableElimination().marginals(graph, evidence: .none)
        var at = 0
        for (k, layer) in exact.enumerated() {
            for (i, p) in layer.enumerated() {
                #expect(abs(ve[at][1] - p) < 1e-10, "layer \(k + 1) unit \(i): VE \(ve[at][1]), enumeration \(p)")
                at += 1
            }
        }
    }

    @Test(arguments: [UInt64(4), 5, 6])
    func theForwardPassIsTheMeanFieldFirstOrderPosterior(seed: UInt64) throws {
        let x0 = Self.input(6, seed: seed)
        // Layer 1 is exact: its parents are observed.
        let net = try SigmoidBeliefNetwork(sizes: [6, 5, 4, 3], scale: 1.5, seed: seed)
        let mf = try net.meanFieldMarginals(x0), exact = try net.exactMarginals(x0)
        #expect(zip(mf[0], exact[0]).allSatisfy { abs($0 - $1) < 1e-14 })
        #expect(Self.worstError(mf, exact, fromLayer: 1) > 1e-4)  // deeper layers are approximations
        // E[σ(z)] − σ(E z) ≈ ½ σ''(E z) Var z: second order in the weights, and third order when
        // the biases are small too (σ''(0) = 0) — halving every parameter divides it by 4 to 8.
        var errors: [Double] = []
        for scale in [0.4, 0.2, 0.1] {
            let small = try SigmoidBeliefNetwork(sizes: [6, 5, 4, 3], scale: scale, seed: seed)
            errors.append(Self.worstError(try small.meanFieldMarginals(x0), try small.exactMarginals(x0)))
        }
        #expect(errors[0] < 0.04, "mean-field error \(errors)")
        for (a, b) in zip(errors, errors.dropFirst()) {
            #expect(a / b > 3.5 && a / b < 9, "halving the weights changed the error by \(a / b) (errors \(errors))")
        }
    }

    /// Loopy sum-product on the same factor graph, for comparison: every unit of a layer shares
    /// all the parents, so the graph has cycles and BP is an approximation too.
    @Test func loopyBeliefPropagationIsCloseOnSmallWeights() throws {
        let net = try SigmoidBeliefNetwork(sizes: [5, 4, 3], scale: 0.5, seed: 12)
        let x0 = Self.input(5, seed: 13)
        let exact = try net.exactMarginals(x0)
        let bp = try BeliefPropagation().marginals(try net.factorGraph(observing: x0), evidence: .none)
        var at = 0, worst = 0.0
        for layer in exact { for p in layer { worst = max(worst, abs(bp[at][1] - p)); at += 1 } }
        #expect(worst < 0.01, "loopy BP error \(worst)")
    }

    /// The generator's conditionals use the transposed recognition weights.
    @Test func generationUsesTheTransposedWeights() throws {
        let net = try SigmoidBeliefNetwork(sizes: [4, 3], scale: 1.0, seed: 21)
        let top: [Double] = [1, 0, 1]
        let rng = RandomSource(seed: 22)
        var counts = [Double](repeating: 0, count: 4)
        let draws = 20_000
        for _ in 0..<draws { for (j, v) in try net.generate(fromTop: top, rng: rng)[0].enumerated() { counts[j] += v } }
        for j in 0..<4 {
            var s = net.generationBias[0][j]
            for i in 0..<3 { s += net.weights[0][i * 4 + j] * top[i] }
            let p = 1 / (1 + exp(-s))
            let se = (p * (1 - p) / Double(draws)).squareRoot()
            #expect(abs(counts[j] / Double(draws) - p) < 4 * se + 1e-9)
        }
    }

    @Test func badInputIsATypedError() throws {
        let net = try SigmoidBeliefNetwork(sizes: [3, 2], scale: 1, seed: 1)
        #expect(throws: GenerativeNetworkError.self) { try net.meanFieldMarginals([0, 1]) }
        #expect(throws: GenerativeNetworkError.self) { try net.meanFieldMarginals([0, 0.5, 1]) }
        #expect(throws: GenerativeNetworkError.self) { try SigmoidBeliefNetwork(sizes: [3]) }
        #expect(throws: GenerativeNetworkError.self) { try SigmoidBeliefNetwork(sizes: [3, 0]) }
        #expect(throws: GenerativeNetworkError.self) {
            try SigmoidBeliefNetwork(sizes: [3, 17], scale: 1, seed: 1).exactMarginals([0, 1, 0])
        }
        #expect(throws: GenerativeNetworkError.self) { try net.generate(fromTop: [1], rng: RandomSource(seed: 1)) }
    }
}

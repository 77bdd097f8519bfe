import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

@Suite struct RestrictedBoltzmannMachineTests {
    /// 3×3 bars and stripes: every image whose rows are all constant or whose columns are.
    static let barsAndStripes: [[Double]] = {
        var out: [[Double]] = []
        for m in 0..<8 {
            out.append((0..<9).map { Double((m >> ($0 / 3)) & 1) })  // rows
            out.append((0..<9).map { Double((m >> ($0 % 3)) & 1) })  // columns
        }
        var seen = Set<[Double]>()
        return out.filter { seen.insert($0).inserted }
    }()

    @Test func logPartitionAndLikelihoodEqualBruteForce() throws {
        var rbm = try RestrictedBoltzmannMachine(visible: 6, hidden: 4, seed: 3, scale: 1)
        let rng = RandomSource(seed: 4)
        rbm.visibleBias = rbm.visibleBias.map { _ in rng.gaussian() }
        rbm.hiddenBias = rbm.hiddenBias.map { _ in rng.gaussian() }
        func energyTerm(_ x: [Double], _ h: [Double]) -> Double {
            var s = 0.0
            for j in 0..<6 {
                s += rbm.visibleBias[j] * x[j]; for i in 0..<4 { s += x[j] * rbm.weights[j * 4 + i] * h[i] }
            }
            for i in 0..<4 { s += rbm.hiddenBias[i] * h[i] }
            return s
        }
        var z = 0.0
        var marginal = [Double](repeating: 0, count: 64)
        for xs in 0..<64 {
            let x = (0..<6).map { Double((xs >> $0) & 1) }
            for hs in 0..<16 {
                let e = exp(energyTerm(x, (0..<4).map { Double((hs >> $0) & 1) }))
                z += e; marginal[xs] += e
            }
        }
        #expect(abs(try rbm.logPartition() - log(z)) < 1e-10)
        let data = (0..<10).map { _ in (0..<6).map { _ in Double(rng.integer(below: 2)) } }
        let reference =
            data.reduce(0.0) { acc, x in
                let xs = x.enumerated().reduce(0) { $0 | (Int($1.element) << $1.offset) }
                return acc + log(marginal[xs] / z)
            } / 10
        #expect(abs(try rbm.logLikelihood(data) - reference) < 1e-10)
    }

    @Test func contrastiveDivergenceRaisesTheExactLikelihood() throws {
        let data = Self.barsAndStripes
        #expect(data.count == 14)
        var rbm = try RestrictedBoltzmannMachine(visible: 9, hidden: 8, seed: 5)
        let start = try rbm.logLikelihood(data)
        #expect(abs(start - (-9 * log(2.0))) < 0.1)  // near-uniform at initialisation
        let rng = RandomSource(seed: 6)
        for _ in 0..<3000 { try rbm.contrastiveDivergenceEpoch(data, rate: 0.5, steps: 1, batchSize: 7, rng: rng) }
        let end = try rbm.logLikelihood(data)
        // ln(1/14) ≈ −2.64 is the best any model can do; uniform is −6.24.
        #expect(end > start + 1.5, "log-likelihood \(start) → \(end)")
        #expect(end <= -log(14.0) + 1e-9)
    }

    @Test func badInputIsATypedError() throws {
        var rbm = try RestrictedBoltzmannMachine(visible: 2, hidden: 2, seed: 1)
        #expect(throws: GenerativeNetworkError.self) { try rbm.logLikelihood([]) }
        #expect(throws: GenerativeNetworkError.self) { try rbm.logLikelihood([[0, 2]]) }
        #expect(throws: GenerativeNetworkError.self) {
            try rbm.contrastiveDivergenceEpoch([[1]], rate: 0.1, rng: RandomSource(seed: 1))
        }
        #expect(throws: GenerativeNetworkError.self) { try RestrictedBoltzmannMachine(visible: 0, hidden: 2, seed: 1) }
        #expect(throws: GenerativeNetworkError.self) {
            try RestrictedBoltzmannMachine(visible: 2, hidden: 21, seed: 1).logPartition()
        }
    }
}

import Foundation
import NumericalCore
import Testing
import GenerativeNetworks

@Suite struct LayerwiseTrainingTests {
    static let data = RestrictedBoltzmannMachineTests.barsAndStripes

    /// The BLM bound holds for any two-level model with that bottom layer, whatever the top.
    @Test func theBoundHoldsForBothProcedures() throws {
        let blm = try LayerwiseTraining.blm(
            Self.data, hidden: 5, topHidden: 4, epochs: 300, rate: 0.05, topIterations: 500, topRate: 0.5, seed: 1)
        let stacked = try LayerwiseTraining.stackedRBMs(
            Self.data, hidden: 5, topHidden: 4, epochs: 1500, rate: 0.5, seed: 1)
        for model in [blm, stacked] {
            let ll = try model.logLikelihood(Self.data)
            let u = try BestLatentMarginal.bound(model.bottom, data: Self.data, iterations: 5000, tolerance: 1e-12)
                .bound
            #expect(ll <= u + 1e-9, "log-likelihood \(ll) above the bound \(u)")
            #expect(ll > -9 * log(2.0) + 0.5, "no better than uniform: \(ll)")
        }
    }

    /// Alternating the EM update of Q with small gradient steps on the bottom layer raises the
    /// bound's objective.
    @Test func blmTrainingRaisesTheBound() throws {
        let (_, q, trace) = try LayerwiseTraining.trainBottomByBLM(
            Self.data, hidden: 4, epochs: 200, rate: 0.02, seed: 2)
        for (a, b) in zip(trace, trace.dropFirst()) { #expect(b >= a - 1e-9) }
        #expect(trace.last! > trace.first! + 1)
        #expect(abs(q.reduce(0, +) - 1) < 1e-12)
    }

    /// An RBM fitted by exact maximum likelihood to an explicit distribution moves most of the
    /// way to it in KL (6 hidden units cannot represent every distribution on 16 states).
    @Test func exactRBMFitMatchesTheTarget() throws {
        let rng = RandomSource(seed: 3)
        let raw = (0..<16).map { _ in rng.uniform() }
        let target = raw.map { $0 / raw.reduce(0, +) }
        let rbm = try LayerwiseTraining.fitRBM(to: target, units: 4, hidden: 6, iterations: 3000, rate: 1.0, seed: 4)
        let z = try rbm.logPartition()
        var kl = 0.0
        for s in 0..<16 {
            let p = exp(rbm.negativeFreeEnergy((0..<4).map { Double((s >> $0) & 1) }) - z)
            kl += target[s] * log(target[s] / p)
        }
        let uniformKL = target.reduce(0.0) { $0 + $1 * log($1 * 16) }
        #expect(kl < 0.3 * uniformKL, "KL(target ‖ RBM) = \(kl), KL(target ‖ uniform) = \(uniformKL)")
        #expect(throws: GenerativeNetworkError.self) {
            try LayerwiseTraining.fitRBM(to: [1], units: 2, hidden: 1, iterations: 1, rate: 1, seed: 1)
        }
    }
}

@Suite struct AutoEncoderBoundTests {
    /// `U_D ≥ E_D ln Σ_h P(x|h) q(h|x) − H(D) ≥ E_D E_q ln P(x|h) − H(D)`, before and after
    /// training, and training raises the reconstruction criterion.
    @Test(arguments: [UInt64(1), 2])
    func reconstructionBoundsTheBLMCriterionFromBelow(seed: UInt64) throws {
        let data = LayerwiseTrainingTests.data + LayerwiseTrainingTests.data.prefix(5)  // with duplicates: H(D) < ln N
        var ae = try AutoEncoder(visible: 9, hidden: 4, seed: seed)
        let h = BestLatentMarginal.dataEntropy(data)
        #expect(h < log(Double(data.count)) && h > 0)
        let start = try ae.reconstructionCriterion(data)
        for trained in [false, true] {
            if trained { try ae.train(data, epochs: 300, step: .gradient(rate: 1.0)) }
            let u = try BestLatentMarginal.bound(ae.decoder, data: data, iterations: 20_000, tolerance: 1e-13).bound
            let mixture = try ae.mixtureCriterion(data), reconstruction = try ae.reconstructionCriterion(data)
            #expect(u >= mixture - h - 1e-9, "U_D \(u) < mixture \(mixture) − H \(h)")
            #expect(mixture >= reconstruction - 1e-12)
        }
        #expect(try ae.reconstructionCriterion(data) > start + 1)
        let q = ae.aggregatePosterior(data)
        #expect(abs(q.reduce(0, +) - 1) < 1e-12)
        #expect(throws: GenerativeNetworkError.self) { try AutoEncoder(visible: 3, hidden: 13, seed: 1) }
    }
}

import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

@Suite struct SoftEMTests {
    /// A random shallow RMM and images drawn from it.
    static func shallowProblem(seed: UInt64, n: Int = 60) throws -> (ShallowRMM, [[Double]]) {
        let rng = RandomSource(seed: seed)
        let (cc, gg, d) = (3, 2, 12)
        let truth = try ShallowRMM(
            templates: (0..<cc).map { _ in (0..<gg).map { _ in (0..<d).map { _ in rng.gaussian() } } },
            noiseVariance: 0.3, classPrior: [0.5, 0.3, 0.2], nuisancePrior: [0.6, 0.4], switchPrior: 0.7)
        let images: [[Double]] = (0..<n).map { _ in
            let c = rng.categorical(truth.classPrior), g = rng.categorical(truth.nuisancePrior)
            let on = rng.uniform() < truth.switchPrior
            return (0..<d).map { j in
                (on ? truth.templates[c][g][j] : 0) + rng.gaussian(standardDeviation: 0.3.squareRoot())
            }
        }
        let start = try ShallowRMM(
            templates: (0..<cc).map { _ in (0..<gg).map { _ in (0..<d).map { _ in rng.gaussian() } } }, noiseVariance: 1
        )
        return (start, images)
    }

    /// `p(c, g, a | I)` straight from the generative model: prior times the Gaussian density.
    static func bruteForcePosterior(_ m: ShallowRMM, _ image: [Double]) -> [Double] {
        var logs: [Double] = []
        for c in 0..<m.classCount {
            for g in 0..<m.nuisanceCount {
                for a in 0...1 {
                    var sq = 0.0
                    for j in 0..<m.dimension { let e = image[j] - Double(a) * m.templates[c][g][j]; sq += e * e }
                    let prior =
                        log(m.classPrior[c]) + log(m.nuisancePrior[g]) + log(a == 1 ? m.switchPrior : 1 - m.switchPrior)
                    logs.append(
                        prior - sq / (2 * m.noiseVariance) - Double(m.dimension) / 2
                            * log(2 * Double.pi * m.noiseVariance))
                }
            }
        }
        let mx = logs.max()!
        let z = logs.reduce(0) { $0 + exp($1 - mx) }
        return logs.map { exp($0 - mx) / z }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func responsibilitiesEqualBruteForce(seed: UInt64) throws {
        var (m, images) = try Self.shallowProblem(seed: seed)
        for _ in 0..<3 {
            let gamma = try ShallowSoftEM.responsibilities(m, images)
            for (k, image) in images.enumerated() {
                let reference = Self.bruteForcePosterior(m, image)
                #expect(zip(gamma[k], reference).allSatisfy { abs($0 - $1) < 1e-12 })
            }
            m = try ShallowSoftEM.step(m, images)
        }
    }

    @Test(arguments: [UInt64(4), 5])
    func exactEMNeverLowersTheLikelihood(seed: UInt64) throws {
        var (m, images) = try Self.shallowProblem(seed: seed, n: 120)
        var previous = try ShallowSoftEM.logLikelihood(m, images)
        let start = previous
        for _ in 0..<25 {
            m = try ShallowSoftEM.step(m, images)
            let ll = try ShallowSoftEM.logLikelihood(m, images)
            #expect(ll >= previous - 1e-9 * abs(previous), "log-likelihood fell from \(previous) to \(ll)")
            previous = ll
        }
        #expect(previous > start + 100)
    }

    /// At temperature → 0 the responsibilities are the max-sum assignment (split evenly over
    /// exact ties: the OFF states of a uniform prior are indistinguishable) and the soft
    /// M-step is the hard one: each template the mean of the images assigned to it ON.
    @Test func zeroTemperatureIsHardEM() throws {
        let (m, images) = try Self.shallowProblem(seed: 6)
        let scores = try ShallowSoftEM.logJoint(m, images)
        let ties = scores.map { row in row.indices.filter { row[$0] >= row.max()! - 1e-12 } }
        let hard = ties.map { $0.count == 1 ? $0[0] : -1 }
        let gamma = try ShallowSoftEM.responsibilities(m, images, temperature: 1e-4)
        for (k, g) in gamma.enumerated() {
            for j in ties[k] { #expect(abs(g[j] - 1 / Double(ties[k].count)) < 1e-9) }
        }
        #expect(hard.filter { $0 >= 0 && $0 % 2 == 1 }.count > 20)
        let soft = try ShallowSoftEM.step(m, images, temperature: 1e-4)
        for c in 0..<m.classCount {
            for g in 0..<m.nuisanceCount {
                let members = images.indices.filter { hard[$0] == (c * m.nuisanceCount + g) * 2 + 1 }
                guard !members.isEmpty else { continue }
                for j in 0..<m.dimension {
                    let mean = members.reduce(0) { $0 + images[$1][j] } / Double(members.count)
                    #expect(abs(soft.templates[c][g][j] - mean) < 1e-8)
                }
            }
        }
        #expect(throws: LearningError.self) { try ShallowSoftEM.responsibilities(m, images, temperature: 0) }
        #expect(throws: LearningError.self) { try ShallowSoftEM.responsibilities(m, [[1, 2]]) }
    }

    /// The deep sum-product E-step tends to the max-sum E-step (softplus → ReLU, log-sum-exp
    /// pooling → max-pooling, expected masks → routes) as the temperature goes to 0.
    @Test(arguments: [Architecture.Top.dense, .meanPool])
    func deepSoftEStepTendsToTheHardOne(top: Architecture.Top) throws {
        let a = Support.toy(top: top)
        let net = try Support.randomNetwork(a, seed: 21)
        let n = 5
        let images = Support.randomImages(n, size: 64, seed: 22)
        let labels = [1, -1, 0, -1, 2]
        let pass = BatchPass(network: net)
        _ = net.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                pass.run(
                    parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: n,
                    objective: Objective(crossEntropy: 0, reconstruction: 1), labeledTotal: 3, total: n, gradient: nil)
            }
        }
        var previous = Double.infinity
        for tau in [1.0, 1e-2, 1e-5] {
            let soft = try SoftInference.infer(net, images: images, labels: labels, temperature: tau)
            var gap = 0.0
            for i in 0..<n {
                let hard = pass.reconstruction(of: i, batch: n)
                gap = max(gap, zip(hard, soft.reconstructions[i]).map { abs($0 - $1) }.max()!)
                let best = (0..<a.classes).max {
                    soft.classPosterior[i * a.classes + $0] < soft.classPosterior[i * a.classes + $1]
                }!
                if tau < 1e-3 { #expect(best == pass.renderedClasses[i]) }
            }
            if tau < 1e-3 { #expect(gap < 1e-6, "τ = \(tau): reconstructions differ by \(gap)") }
            #expect(gap <= previous + 1e-12)
            previous = gap
        }
    }
}

@Suite struct DeepSoftEMTests {
    /// At τ → 0 the soft M-step (expected masks, class posterior) is hard EM's M-step.
    @Test(arguments: [Architecture.Top.dense, .meanPool])
    func zeroTemperatureMStepIsTheHardOne(top: Architecture.Top) throws {
        let a = Support.toy(top: top)
        let (images, labels) = try HardEMTests.teacherData(a, n: 20, seed: 300)
        let start = try Support.randomNetwork(a, seed: 31, scale: 0.3)
        let hard = try HardEM(network: start, images: images, labels: labels)
        let soft = try SoftEM(network: start, images: images, labels: labels, temperature: 1e-7)
        try hard.mStep()
        try soft.mStep()
        let gap = zip(hard.network.parameters, soft.network.parameters).map { abs($0 - $1) }.max()!
        #expect(gap < 1e-6, "parameters differ by \(gap)")
        #expect(abs(hard.noiseVariance - soft.noiseVariance) < 1e-9 * max(1, hard.noiseVariance))
    }

    /// At a finite temperature every block step minimises the mean-field surrogate exactly.
    @Test func eachBlockLowersTheSurrogate() throws {
        let a = Support.toy(top: .dense)
        let (images, labels) = try HardEMTests.teacherData(a, n: 20, seed: 301)
        let hidden = labels.enumerated().map { $0.offset % 3 == 0 ? $0.element : -1 }
        let em = try SoftEM(
            network: Support.randomNetwork(a, seed: 32, scale: 0.3), images: images, labels: hidden, temperature: 0.5)
        for _ in 0..<4 {
            var previous = try em.surrogateObjective()
            for j in try em.mStep() {
                #expect(j <= previous + 1e-9 * abs(previous))
                previous = j
            }
            try em.eStep()
        }
        #expect(throws: LearningError.self) {
            try SoftEM(network: Support.randomNetwork(a, seed: 1), images: images, labels: labels, temperature: 0)
        }
    }
}

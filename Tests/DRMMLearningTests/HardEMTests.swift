import DRMM
import NumericalCore
import Testing
@testable import DRMMLearning

/// Hard EM with the least-squares M-step lowers the complete-data objective at every step.
@Suite struct HardEMTests {
    /// Images rendered by a random "teacher" DRMM plus Gaussian noise.
    static func teacherData(_ a: Architecture, n: Int, seed: UInt64) throws -> (images: [Double], labels: [Int]) {
        let teacher = try Support.randomNetwork(a, seed: seed)
        let rng = RandomSource(seed: seed + 1)
        let labels = (0..<n).map { _ in rng.integer(below: a.classes) }
        let seedImages = Support.randomImages(n, size: a.inputShape.reduce(1, *), seed: seed + 2)
        let em = try HardEM(network: teacher, images: seedImages, labels: labels)
        // Render the teacher's own latents (channel-major), then back to [N, C, H, W] with noise.
        let hw = a.inputShape[1] * a.inputShape[2]
        let rendered = em.render(teacher.parameters, classes: labels, routes: em.currentRoutes)
        var images = [Double](repeating: 0, count: n * hw)
        for i in 0..<n {
            for q in 0..<hw { images[i * hw + q] = rendered[i * hw + q] + rng.gaussian(standardDeviation: 0.05) }
        }
        return (images, labels)
    }

    @Test(arguments: [Architecture.Top.dense, .meanPool], [UInt64(1), 2])
    func everyStepLowersTheCompleteDataObjective(top: Architecture.Top, seed: UInt64) throws {
        let a = Support.toy(top: top)
        let (images, labels) = try Self.teacherData(a, n: 30, seed: 100 + seed)
        // Half the labels hidden: the E-step chooses their classes.
        let partial = labels.enumerated().map { $0.offset % 2 == 0 ? $0.element : -1 }
        let em = try HardEM(network: Support.randomNetwork(a, seed: seed, scale: 0.3), images: images, labels: partial)
        var previous = try em.objective()
        let start = previous
        for _ in 0..<6 {
            for j in try em.iterate() {
                #expect(j <= previous + 1e-9 * abs(previous), "J rose from \(previous) to \(j)")
                previous = j
            }
        }
        #expect(previous < start - 0.1 * abs(start), "J went from \(start) to \(previous)")
        #expect(em.noiseVariance < 1)
        #expect(abs(em.classPrior.reduce(0, +) - 1) < 1e-12)
        // Labelled images keep their class.
        for i in 0..<labels.count where partial[i] >= 0 { #expect(em.assignedClasses[i] == labels[i]) }
    }

    @Test func badInputIsATypedError() throws {
        let a = Support.toy(top: .dense)
        let net = try Support.randomNetwork(a, seed: 1)
        #expect(throws: LearningError.self) { try HardEM(network: net, images: [0, 1], labels: [0]) }
        #expect(throws: LearningError.self) {
            try HardEM(network: net, images: [Double](repeating: .nan, count: 64), labels: [0])
        }
        #expect(throws: LearningError.self) {
            try HardEM(network: net, images: [Double](repeating: 0, count: 64), labels: [7])
        }
        #expect(throws: LearningError.self) {
            try HardEM(network: net, images: [Double](repeating: 0, count: 64), labels: [0], ridge: 0)
        }
    }
}

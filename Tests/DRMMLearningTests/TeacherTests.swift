import Foundation
import Testing
import DRMM
@testable import DRMMLearning

/// The weight-averaged teacher (``TrainingConfiguration/teacherDecay``): what it averages, what
/// it is used for, and that it survives a checkpoint.
struct TeacherTests {
    /// One step per epoch (20 images, batch 20), so the teacher can be checked against the
    /// student's parameters after every step: their mean while `1 − 1/t < α`, then the
    /// exponential average. The teacher must not change the student's training when it feeds
    /// nothing back (no pseudo-labels).
    @Test func theTeacherIsTheMeanThenTheExponentialAverageOfTheStudent() throws {
        let (train, _) = try Support.mnist(train: 20, test: 1)
        var config = TrainingConfiguration(
            mode: .supervised, epochs: 4, batchSize: 20, objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 1e-2), seed: 7, workers: 1)
        let plain = config
        config.extensions.meanTeacher = MeanTeacher(decay: 0.6)
        let start = try RenderingNetwork<Float>(architecture: TrainingTests.twoLevel.batchNormalized(), seed: 7)
        let a = try EGTrainer(network: start, configuration: config, train: train)
        let b = try EGTrainer(network: start, configuration: plain, train: train)
        #expect(b.teacher == nil)
        #expect(a.teacher?.parameters == start.parameters)
        var students: [[Float]] = []
        for _ in 0..<3 {
            try a.runEpoch(); try b.runEpoch()
            #expect(a.network.parameters == b.network.parameters, "the teacher feeds nothing back here")
            students.append(a.network.parameters)
        }
        let teacher = try #require(a.teacher).parameters
        let statistics = Set(a.network.layout.statistics.flatMap { $0 })
        #expect(!statistics.isEmpty)
        // t = 1: the student; t = 2: α = min(0.6, 1/2), the mean; t = 3: α = min(0.6, 2/3) = 0.6.
        for i in teacher.indices {
            let mean = (Double(students[0][i]) + Double(students[1][i])) / 2
            let expected = 0.6 * mean + 0.4 * Double(students[2][i])
            #expect(
                abs(Double(teacher[i]) - expected) <= 1e-6 * (1 + abs(expected)),
                "parameter \(i)\(a.network.describe(index: i)): \(teacher[i]) vs \(expected)")
        }
        #expect(
            statistics.contains { teacher[$0] != a.network.parameters[$0] }, "the running statistics are averaged too")
        #expect(teacher != a.network.parameters)
    }

    /// With a teacher, the pseudo-label targets are the teacher's (a trainer whose network is
    /// that teacher computes the same), not the student's; every evaluation measures both.
    @Test func pseudoLabelsAndEvaluationUseTheTeacher() throws {
        let (train, test) = try Support.mnist(train: 200, test: 100)
        var config = TrainingConfiguration(
            mode: .semi, labels: 40, epochs: 2, batchSize: 20,
            objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 1e-2), seed: 5, workers: 2)
        let plain = config
        config.extensions.meanTeacher = MeanTeacher(decay: 0.9)
        config.extensions.pseudoLabels = PseudoLabels(weight: 1, threshold: 0.5, temperature: 0.5)
        let start = try RenderingNetwork<Float>(architecture: TrainingTests.twoLevel.batchNormalized(), seed: 5)
        let a = try EGTrainer(network: start, configuration: config, train: train)
        let m = try a.runEpoch(test: test)
        let teacher = try #require(a.teacher)
        #expect(m.teacherTestError == (try Evaluation.classify(teacher, test, workers: 2)).error)
        #expect(m.testError == (try a.evaluate(test)).error)
        #expect(
            try EGTrainer(network: start, configuration: plain, train: train).runEpoch(test: test).teacherTestError
                == nil)

        var images: [Float] = []
        _ = train.gather(Array(0..<20)[...], hideLabels: true, into: &images)
        let targets = try a.pseudoTargets(images, from: 4, threshold: 0, temperature: 1)
        let fromTeacher = try EGTrainer(network: teacher, configuration: plain, train: train).pseudoTargets(
            images, from: 4, threshold: 0, temperature: 1)
        let fromStudent = try EGTrainer(network: a.network, configuration: plain, train: train).pseudoTargets(
            images, from: 4, threshold: 0, temperature: 1)
        #expect(targets == fromTeacher)
        #expect(targets != fromStudent)
        // Rows 0–3 are the labelled images'; every other row is a distribution.
        for r in 0..<20 {
            let sum = targets[(r * 10)..<((r + 1) * 10)].reduce(0, +)
            #expect(r < 4 ? sum == 0 : abs(sum - 1) < 1e-5, "row \(r) sums to \(sum)")
        }
    }

    /// A checkpoint carries the teacher; resuming from it continues bit-identically. A
    /// checkpoint whose configuration has a teacher but that carries none is refused, and so
    /// is a decay outside `[0, 1)`.
    @Test func theTeacherResumesFromACheckpoint() throws {
        let (train, _) = try Support.mnist(train: 100, test: 1)
        var config = TrainingConfiguration(
            mode: .semi, labels: 20, epochs: 2, batchSize: 20,
            objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 1e-2), seed: 3, workers: 2)
        config.extensions.meanTeacher = MeanTeacher(decay: 0.95)
        config.extensions.pseudoLabels = PseudoLabels(weight: 1, threshold: 0.5)
        let start = try RenderingNetwork<Float>(architecture: TrainingTests.twoLevel.batchNormalized(), seed: 3)
        let a = try EGTrainer(network: start, configuration: config, train: train)
        try a.runEpoch()
        let directory = FileManager.default.temporaryDirectory
        let path = directory.appendingPathComponent("drmm-teacher-\(getpid()).json").path
        let bare = directory.appendingPathComponent("drmm-teacher-bare-\(getpid()).json").path
        defer { for p in [path, bare] { try? FileManager.default.removeItem(atPath: p) } }
        try a.checkpoint().write(to: path)
        let c = try Checkpoint.read(from: path)
        #expect(c.teacherParameters == a.teacher?.parameters)
        #expect(try c.teacherNetwork()?.parameters == a.teacher?.parameters)
        try a.runEpoch()
        let resumed = try EGTrainer(resuming: c, train: train)
        try resumed.runEpoch()
        #expect(resumed.network.parameters == a.network.parameters)
        #expect(resumed.teacher?.parameters == a.teacher?.parameters)
        #expect(resumed.history.map(\.loss) == a.history.map(\.loss))

        var stripped = c
        stripped.teacherParameters = nil
        try stripped.write(to: bare)
        #expect(throws: LearningError.self) { _ = try Checkpoint.read(from: bare) }
        #expect(throws: LearningError.self) { _ = try EGTrainer(resuming: stripped, train: train) }
        stripped.teacherParameters = [1, 2, 3]
        try stripped.write(to: bare)
        #expect(throws: LearningError.self) { _ = try Checkpoint.read(from: bare) }

        for bad in [-0.1, 0, 1, .nan] {
            config.extensions.meanTeacher = MeanTeacher(decay: bad)
            #expect(throws: LearningError.self) {
                _ = try EGTrainer(network: start, configuration: config, train: train)
            }
        }
    }
}

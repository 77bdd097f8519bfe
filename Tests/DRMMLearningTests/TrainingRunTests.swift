import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// A run's directory through the library: a fresh start, its files after an epoch, a resume
/// (the execution options the checkpoint's unless given, a note when they differ), a start from
/// another run's checkpoint, and the refusals.
@Suite struct TrainingRunTests {
    @Test func startRecordResumeAndRefuse() throws {
        let (train, test) = try Support.mnist(train: 60, test: 20)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-run-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try TrainingRun(directory: directory)
        let config = TrainingConfiguration(epochs: 2, batchSize: 20, seed: 3, workers: 1, convolution: .im2col)
        let (fresh, none) = try run.trainer(
            architecture: TrainingTests.twoLevel, configuration: config, workers: nil, convolution: nil,
            start: .fresh(.xavier), train: train)
        #expect(none == nil)
        try fresh.runEpoch(test: test)
        try run.record(fresh)
        try run.writePictures(fresh, test: test)
        try run.writeResults(
            RunResults(fresh, trainImages: train.count, testImages: test.count, seconds: 1, initialization: "xavier"))
        for file in [
            "checkpoint.json", "metrics.jsonl", "results.json", "templates.png", "reconstructions.png", "samples.png",
            "error-curve.png"
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(file)"), "\(file)")
        }
        let metrics = try String(contentsOfFile: run.metricsPath, encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 1)

        // Resume: the checkpoint's execution options unless given; other ones are noted.
        let (same, quiet) = try run.trainer(
            architecture: TrainingTests.twoLevel, configuration: config, workers: nil, convolution: nil,
            start: .resume, train: train)
        #expect(quiet == nil && same.completedEpochs == 1 && same.network.parameters == fresh.network.parameters)
        let (other, note) = try run.trainer(
            architecture: TrainingTests.twoLevel, configuration: config, workers: 2, convolution: .winograd,
            start: .resume, train: train)
        #expect(note?.contains("2 worker(s) and winograd") == true && other.configuration.workers == 2)
        // The resumed epoch equals the unbroken run's.
        try same.runEpoch()
        try fresh.runEpoch()
        #expect(same.network.parameters == fresh.network.parameters)

        // Another run started from this one's parameters; refusals name what is wrong.
        let second = try TrainingRun(directory: directory + "/second")
        let (initialized, _) = try second.trainer(
            architecture: TrainingTests.twoLevel, configuration: config, workers: nil, convolution: nil,
            start: .initialize(from: run.checkpointPath), train: train)
        let checkpointed = try Checkpoint.read(from: run.checkpointPath).parameters
        #expect(initialized.completedEpochs == 0 && initialized.network.parameters == checkpointed)
        #expect(throws: LearningError.self) {
            _ = try run.trainer(
                architecture: TrainingTests.twoLevel, configuration: config, workers: nil, convolution: nil,
                start: .initialize(from: run.checkpointPath), train: train)
        }
        var bigger = TrainingTests.twoLevel
        bigger.layers[0].channels += 1
        #expect(throws: LearningError.self) {
            _ = try run.trainer(
                architecture: bigger, configuration: config, workers: nil, convolution: nil, start: .resume,
                train: train)
        }
        var changed = config
        changed.batchSize = 30
        #expect(throws: LearningError.self) {
            _ = try run.trainer(
                architecture: TrainingTests.twoLevel, configuration: changed, workers: nil, convolution: nil,
                start: .resume, train: train)
        }
    }
}

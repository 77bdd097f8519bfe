import DRMM
import Foundation
import NumericalCore
import Testing
@testable import DRMMLearning

/// Checkpoints of every version read as the current one: a version-2 file round-trips, and a
/// version-1 file — British keys, and lacking every key added while version 1 was current —
/// migrates to what its run used; unknown, newer and contradictory files are typed errors.
@Suite struct CheckpointSchemaTests {
    /// A checkpoint after one semi-supervised epoch of a batch-normalised two-level model, with
    /// every extension on when `extended`.
    static func checkpoint(extended: Bool = false) throws -> Checkpoint {
        let (train, _) = try Support.mnist(train: 100, test: 1)
        var configuration = TrainingConfiguration(
            mode: .semi, labels: 20, epochs: 1, batchSize: 20, seed: 4, workers: 1)
        configuration.objective = Objective(crossEntropy: 1, reconstruction: 0.3)
        if extended {
            configuration.extensions.classBalance = ClassBalance(weight: 0.2)
            configuration.extensions.pseudoLabels = PseudoLabels(weight: 0.5, threshold: 0.6, temperature: 0.5)
            configuration.extensions.augmentation = Augmentation(translation: 1, rotation: 5, scaling: 0.05)
            configuration.extensions.rampUp = RampUp(steps: 7)
            configuration.extensions.meanTeacher = MeanTeacher(decay: 0.9)
            configuration.extensions.recalibration = Recalibration(batches: 2)
        }
        let network = try RenderingNetwork<Float>(architecture: TrainingTests.twoLevel.batchNormalized(), seed: 4)
        let trainer = try EGTrainer(network: network, configuration: configuration, train: train)
        _ = try trainer.runEpoch()
        return trainer.checkpoint()
    }

    static func object(_ c: Checkpoint) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as? [String: Any])
    }

    /// The oldest version-1 form of a checkpoint: British keys, and none of the keys added
    /// while version 1 was current.
    static func versionOne(_ c: Checkpoint, oldest: Bool = true) throws -> [String: Any] {
        var o = try object(c)
        o["format"] = "drmm-checkpoint-1"
        var architecture = o["architecture"] as! [String: Any]
        architecture["normalisation"] = architecture.removeValue(forKey: "normalization")
        o["architecture"] = architecture
        o["labelledIndices"] = o.removeValue(forKey: "labeledIndices")
        var configuration = o["configuration"] as! [String: Any]
        let x = configuration.removeValue(forKey: "extensions") as! [String: [String: Any]]
        configuration.removeValue(forKey: "convolution")
        // Version 1 kept the extensions' settings flat; the oldest files lack those it did not have.
        var objective = configuration["objective"] as! [String: Any]
        if let b = x["classBalance"] { objective["classBalance"] = b["weight"] }
        if let p = x["pseudoLabels"] {
            (objective["pseudoLabel"], objective["pseudoLabelThreshold"], objective["pseudoLabelTemperature"]) = (
                p["weight"], p["threshold"], p["temperature"]
            )
        }
        configuration["objective"] = objective
        if let a = x["augmentation"] {
            (configuration["translation"], configuration["rotation"], configuration["scaling"]) = (
                a["translation"], a["rotation"], a["scaling"]
            )
        }
        if let r = x["rampUp"] { configuration["rampUpSteps"] = r["steps"] }
        if let t = x["meanTeacher"] { configuration["teacherDecay"] = t["decay"] }
        if let r = x["recalibration"] { configuration["recalibrationBatches"] = r["batches"] }
        o["configuration"] = configuration
        o["history"] = (o["history"] as! [[String: Any]]).map { epoch -> [String: Any] in
            var epoch = epoch, loss = epoch["loss"] as! [String: Any]
            loss["labelled"] = loss.removeValue(forKey: "labeled")
            if oldest {
                for k in ["classBalance", "pseudoLabel", "pseudoLabeled", "pseudoLabeledCorrectly"] {
                    loss.removeValue(forKey: k)
                }
            } else {
                loss["pseudoLabelled"] = loss.removeValue(forKey: "pseudoLabeled")
                loss["pseudoLabelledCorrectly"] = loss.removeValue(forKey: "pseudoLabeledCorrectly")
            }
            epoch["loss"] = loss
            return epoch
        }
        return o
    }

    @Test func theCurrentVersionRoundTrips() throws {
        let c = try Self.checkpoint()
        #expect(c.format == "drmm-checkpoint-2")
        let back = try Checkpoint.decode(JSONEncoder().encode(c))
        #expect(
            back.parameters == c.parameters && back.configuration == c.configuration
                && back.architecture == c.architecture)
        #expect(back.history == c.history && back.labeledIndices == c.labeledIndices)
    }

    @Test(arguments: [false, true])
    func aVersionOneFileMigratesToWhatItsRunUsed(extended: Bool) throws {
        let c = try Self.checkpoint(extended: extended)
        let old = try JSONSerialization.data(withJSONObject: Self.versionOne(c, oldest: !extended))
        // Without the migration the file does not decode: the keys are gone or renamed.
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Checkpoint.self, from: old) }
        let migrated = try Checkpoint.decode(old)
        var expected = c.configuration
        expected.convolution = .im2col  // what runs before the choice existed used
        #expect(migrated.format == Checkpoint.formatName && migrated.problem() == nil)
        #expect(migrated.configuration == expected && migrated.architecture == c.architecture)
        #expect(migrated.architecture.normalization == .batch && migrated.labeledIndices == c.labeledIndices)
        #expect(migrated.teacherParameters == c.teacherParameters && (c.teacherParameters != nil) == extended)
        #expect(
            migrated.parameters == c.parameters && migrated.optimizerState == c.optimizerState
                && migrated.epoch == c.epoch)
        for (m, e) in zip(migrated.history, c.history) {
            var loss = e.loss
            if !extended {
                (loss.classBalance, loss.pseudoLabel, loss.pseudoLabeled, loss.pseudoLabeledCorrectly) = (0, 0, 0, 0)
            }
            #expect(m.loss == loss && m.loss.labeled == e.loss.labeled && m.testError == e.testError)
        }
        // Written again, it is a version-2 file.
        #expect(try Self.object(migrated)["format"] as? String == "drmm-checkpoint-2")
    }

    @Test func unknownNewerAndContradictoryFilesAreTypedErrors() throws {
        let c = try Self.checkpoint()
        for format in ["drmm-checkpoint-3", "drmm-checkpoint-0", "drmm-checkpoint-x", "something-else"] {
            var o = try Self.object(c)
            o["format"] = format
            #expect(throws: LearningError.self, "\(format)") {
                _ = try Checkpoint.decode(JSONSerialization.data(withJSONObject: o))
            }
        }
        var missing = try Self.object(c)
        missing.removeValue(forKey: "format")
        #expect(throws: LearningError.self) {
            _ = try Checkpoint.decode(JSONSerialization.data(withJSONObject: missing))
        }
        #expect(throws: (any Error).self) { _ = try Checkpoint.decode(Data("[1, 2]".utf8)) }
        // Both spellings of a key in one version-1 file: the current spelling is kept, no trap.
        var both = try Self.versionOne(c)
        both["labeledIndices"] = [0, 1]
        let read = try Checkpoint.decode(JSONSerialization.data(withJSONObject: both))
        #expect(read.labeledIndices == [0, 1])
    }
}

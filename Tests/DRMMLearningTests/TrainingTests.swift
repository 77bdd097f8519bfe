import DRMM
import Foundation
import Testing
@testable import DRMMLearning

/// Tiny models on a few hundred MNIST digits: the loss falls and accuracy beats chance (10 %)
/// by a wide margin; runs are deterministic and resume bit-identically.
@Suite(.serialized) struct TrainingTests {
    static let small = Architecture(
        name: "small", inputShape: [1, 28, 28],
        layers: [LayerSpec(channels: 6, kernel: 5, padding: .full, pool: 2)], classes: 10, top: .dense)
    static let twoLevel = Architecture(
        name: "small2", inputShape: [1, 28, 28],
        layers: [
            LayerSpec(channels: 6, kernel: 5, padding: .full, pool: 2),
            LayerSpec(channels: 8, kernel: 3, padding: .valid, pool: 2)
        ], classes: 10, top: .meanPool)

    @Test func supervisedTrainingLearnsDigits() throws {
        let (train, test) = try Support.mnist(train: 400, test: 300)
        let config = TrainingConfiguration(
            mode: .supervised, epochs: 6, batchSize: 20, optimizer: Optimizer(learningRate: 3e-3), seed: 3)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 3), configuration: config, train: train)
        let before = try trainer.evaluate(test).error
        for _ in 0..<config.epochs { try trainer.runEpoch() }
        let losses = trainer.history.map(\.loss.crossEntropy)
        #expect(losses.last! < 0.5 * losses.first!, "cross-entropy \(losses)")
        let after = try trainer.evaluate(test).error
        #expect(before > 0.7)
        #expect(after < 0.25, "test error \(after) (chance 0.9)")
    }

    /// Two steps of each method on five parameters, the middle three decayed, against the
    /// update rules written out in Double.
    @Test func optimizerStepsMatchTheirFormulas() throws {
        let p0: [Float] = [0.5, -1, 2, 0.25, -0.75], g: [Float] = [0.1, -0.2, 0.3, 0, 0]
        let decayed = [1..<4], wd = 0.01, lr = 0.1
        for method in Optimizer.Method.allCases {
            var o = Optimizer(method: method, learningRate: lr, momentum: 0.9)
            o.weightDecay = wd
            try o.validate()
            var state = OptimizerState(parameterCount: 5), p = p0
            var q = p0.map(Double.init), m = [Double](repeating: 0, count: 5), v = m
            for t in 1...2 {
                state.apply(o, rate: lr, parameters: &p, gradient: g, decayed: decayed)
                for i in 0..<5 {
                    let gi = Double(g[i]) + (decayed[0].contains(i) ? wd * q[i] : 0)
                    switch method {
                    case .sgd:
                        m[i] = 0.9 * m[i] - lr * gi
                        q[i] += m[i]
                    case .adam:
                        m[i] = 0.9 * m[i] + 0.1 * gi
                        v[i] = 0.999 * v[i] + 0.001 * gi * gi
                        let mHat = m[i] / (1 - pow(0.9, Double(t))), vHat = v[i] / (1 - pow(0.999, Double(t)))
                        q[i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
                    }
                }
            }
            for i in 0..<5 { #expect(abs(Double(p[i]) - q[i]) < 1e-5, "\(method) parameter \(i): \(p[i]) vs \(q[i])") }
            // Of the two entries with a zero gradient, decay moves the decayed one only.
            #expect(p[3] != p0[3] && p[4] == p0[4])
        }
        var bad = Optimizer()
        bad.weightDecay = -1
        #expect(throws: LearningError.self) { try bad.validate() }
    }

    @Test func sgdWithMomentumAndAStepScheduleLearnsToo() throws {
        let (train, test) = try Support.mnist(train: 400, test: 300)
        var optimizer = Optimizer(
            method: .sgd, learningRate: 0.05, schedule: .step(every: 2, factor: 0.5), momentum: 0.9)
        optimizer.weightDecay = 1e-4
        #expect(optimizer.rate(epoch: 3, of: 6) == 0.025)
        let config = TrainingConfiguration(mode: .supervised, epochs: 6, batchSize: 20, optimizer: optimizer, seed: 3)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 3), configuration: config, train: train)
        for _ in 0..<config.epochs { try trainer.runEpoch() }
        #expect(trainer.history.map(\.learningRate) == [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125])
        #expect(trainer.history.last!.loss.crossEntropy < 0.5 * trainer.history.first!.loss.crossEntropy)
        #expect(try trainer.evaluate(test).error < 0.3)
    }

    @Test func semiSupervisedTrainingReconstructsAndClassifies() throws {
        let (train, test) = try Support.mnist(train: 400, test: 300)
        let objective = Objective(crossEntropy: 1, reconstruction: 1, classPosterior: 0.1, nonnegativity: 0.5)
        let config = TrainingConfiguration(
            mode: .semi, labels: 50, epochs: 4, batchSize: 20, objective: objective,
            optimizer: Optimizer(learningRate: 3e-3), seed: 4)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 4), configuration: config, train: train)
        #expect(trainer.labeledIndices.count == 50)
        // Class-balanced: five of each digit.
        #expect(
            Dictionary(grouping: trainer.labeledIndices, by: { train.labels[$0] }).values.allSatisfy { $0.count == 5 })
        for _ in 0..<config.epochs { try trainer.runEpoch() }
        let total = trainer.history.map(\.loss.total)
        #expect(total.last! < 0.8 * total.first!, "objective \(total)")
        let error = try trainer.evaluate(test).error
        #expect(error < 0.6, "test error \(error) with 50 labels (chance 0.9)")
    }

    @Test func unsupervisedTrainingLowersTheReconstructionError() throws {
        let (train, _) = try Support.mnist(train: 300, test: 1)
        let config = TrainingConfiguration(
            mode: .unsupervised, epochs: 4, batchSize: 20, objective: Objective(crossEntropy: 0, reconstruction: 1),
            optimizer: Optimizer(learningRate: 3e-3), seed: 5)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 5), configuration: config, train: train)
        for _ in 0..<config.epochs { try trainer.runEpoch() }
        let rc = trainer.history.map(\.loss.reconstruction)
        #expect(rc.last! < 0.7 * rc.first!, "reconstruction \(rc)")
    }

    /// Unsupervised pre-training, then supervised fine-tuning with fresh optimiser moments.
    @Test func pretrainingThenFineTuning() throws {
        let (train, test) = try Support.mnist(train: 300, test: 200)
        let config = TrainingConfiguration(
            mode: .pretrain, labels: 100, epochs: 4, pretrainEpochs: 2, batchSize: 10,
            optimizer: Optimizer(learningRate: 3e-3), seed: 6)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 6), configuration: config, train: train)
        for _ in 0..<config.totalEpochs { try trainer.runEpoch() }
        #expect(
            trainer.history.map(\.phase) == [
                "unsupervised", "unsupervised", "supervised", "supervised", "supervised", "supervised"
            ])
        #expect(trainer.history[0].trainAccuracy == nil)  // no labels while pre-training
        #expect(trainer.history[1].loss.reconstruction < trainer.history[0].loss.reconstruction)
        #expect(trainer.history[2].loss.crossEntropy > trainer.history[5].loss.crossEntropy)
        #expect(trainer.optimizerState.step == 4 * 10)  // reset at fine-tuning: 100 labels / 10 per batch, 4 epochs
        let error = try trainer.evaluate(test).error
        #expect(error < 0.6, "test error \(error) after 40 fine-tuning steps on 100 labels (chance 0.9)")
    }

    @Test func runsAreDeterministicAndResumeBitIdentically() throws {
        let (train, _) = try Support.mnist(train: 200, test: 1)
        var config = TrainingConfiguration(
            mode: .semi, labels: 40, epochs: 2, batchSize: 20,
            objective: Objective(crossEntropy: 1, reconstruction: 0.5, classPosterior: 0.5, nonnegativity: 0.5),
            seed: 9, workers: 2)
        config.extensions.classBalance = ClassBalance(weight: 0.5)
        config.extensions.pseudoLabels = PseudoLabels(weight: 0.5, threshold: 0, temperature: 0.5)
        // 20 steps an epoch: the ramp-up runs on into the resumed epoch.
        config.extensions.rampUp = RampUp(steps: 30)
        config.extensions.augmentation = Augmentation(translation: 2, rotation: 15, scaling: 0.1)
        let net = try RenderingNetwork<Float>(architecture: Self.twoLevel, seed: 9)
        let a = try EGTrainer(network: net, configuration: config, train: train)
        try a.runEpoch(); try a.runEpoch()
        var unramped = config
        unramped.extensions.rampUp = nil
        let d = try EGTrainer(network: net, configuration: unramped, train: train)
        try d.runEpoch()
        #expect(d.history[0].loss != a.history[0].loss, "the ramp-up changes the run")
        var unshifted = config
        unshifted.extensions.augmentation?.translation = 0
        let u = try EGTrainer(network: net, configuration: unshifted, train: train)
        try u.runEpoch()
        #expect(u.history[0].loss != a.history[0].loss, "the translations change the run")
        var undeformed = config
        undeformed.extensions.augmentation = Augmentation(translation: 2)
        let w = try EGTrainer(network: net, configuration: undeformed, train: train)
        try w.runEpoch()
        #expect(w.history[0].loss != a.history[0].loss, "the rotations and scalings change the run")
        var unlabelled = config
        unlabelled.extensions.pseudoLabels = nil
        let v = try EGTrainer(network: net, configuration: unlabelled, train: train)
        try v.runEpoch()
        #expect(a.history[0].loss.pseudoLabeled > 0 && v.history[0].loss.pseudoLabeled == 0)
        #expect(v.history[0].loss != a.history[0].loss, "the pseudo-labels change the run")
        let b = try EGTrainer(network: net, configuration: config, train: train)
        try b.runEpoch()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-resume-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try b.checkpoint().write(to: path)
        let c = try EGTrainer(resuming: Checkpoint.read(from: path), train: train)
        #expect(c.completedEpochs == 1)
        try c.runEpoch()
        #expect(a.network.parameters == c.network.parameters)
        #expect(a.optimizerState == c.optimizerState)
        #expect(a.history.map(\.loss) == c.history.map(\.loss))
    }

    /// A supervised epoch presents the images as Fisher–Yates over GSL's Mersenne Twister seeded
    /// by `(seed, epoch)` orders them. The expected indices come from an independent replica in
    /// Python (`Benchmarks/peers/drmm_order.py 300 --seed 5 --epoch 0` and `--epoch 1`), which
    /// the PyTorch peer uses to train on the same batches in the same order.
    @Test func theEpochOrderIsTheOneThePeersReplicate() throws {
        let (train, _) = try Support.mnist(train: 300, test: 1)
        let config = TrainingConfiguration(mode: .supervised, epochs: 2, batchSize: 100, seed: 5, workers: 1)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 5), configuration: config, train: train)
        for (epoch, expected) in [
            (0, [179, 163, 224, 17, 31, 121, 54, 152, 271, 105, 239, 30]),
            (1, [273, 203, 180, 238, 147, 252, 218, 79, 38, 159, 20, 167])
        ] {
            let batches = trainer.batches(ofEpoch: epoch, mode: .supervised)
            #expect(batches.map(\.indices.count) == [100, 100, 100])
            #expect(Array(batches[0].indices.prefix(12)) == expected, "epoch \(epoch)")
            #expect(batches.flatMap(\.indices).sorted() == Array(0..<300))
        }
    }

    /// A step's pseudo-labels are the classes the network, as it classifies test images, gives
    /// the unlabelled images of the batch, where their posterior reaches the threshold.
    @Test func pseudoLabelsAreTheConfidentClassesOfTheUnlabelledImages() throws {
        let (train, _) = try Support.mnist(train: 200, test: 1)
        var config = TrainingConfiguration(
            mode: .semi, labels: 40, epochs: 2, batchSize: 20,
            objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 3e-3), seed: 11, workers: 2)
        config.extensions.pseudoLabels = PseudoLabels(weight: 1, threshold: 0.5)
        let trainer = try EGTrainer(
            network: RenderingNetwork(architecture: Self.small, seed: 11), configuration: config, train: train)
        try trainer.runEpoch()
        // The whole epoch: the unlabelled images (10 a step, one pass over the 200) that were confident.
        let epoch = trainer.history[0].loss
        let unlabelled = trainer.batches(ofEpoch: 0, mode: .semi).reduce(0) { $0 + $1.indices.count - $1.labeled }
        #expect(unlabelled == 200)
        #expect(
            epoch.pseudoLabeled > 0 && epoch.pseudoLabeled <= unlabelled
                && epoch.pseudoLabeledCorrectly <= epoch.pseudoLabeled,
            "\(epoch.pseudoLabeled) pseudo-labelled of \(unlabelled)")
        #expect(epoch.pseudoLabel > 0)

        let batch = train.prefix(30)
        var pixels: [Float] = []
        _ = batch.gather(Array(0..<30)[...], hideLabels: false, into: &pixels)
        let (_, predicted) = try Evaluation.classify(trainer.network, batch, workers: 1)
        // Each image's posterior, one image and one class at a time: exp(−cross-entropy).
        let d = 28 * 28
        let engine = DataParallelGradient(network: trainer.network, workers: 1)
        let posterior = try (0..<30).map { i in
            try (0..<10).map { c in
                var none: [Float]? = nil
                var p: [Int] = []
                let terms = try engine.evaluate(
                    trainer.network, images: Array(pixels[(i * d)..<((i + 1) * d)]), labels: [c],
                    objective: Objective(), gradient: &none, predictions: &p)
                return exp(-terms.crossEntropy)
            }
        }
        let confidence = (0..<30).map { posterior[$0][predicted[$0]] }
        func pseudoLabels(threshold: Double) throws -> [Int] {
            let targets = try trainer.pseudoTargets(pixels, from: 12, threshold: threshold, temperature: 0)
            #expect(
                targets.allSatisfy { $0 == 0 || $0 == 1 }
                    && targets.filter { $0 == 1 }.count
                        == EGTrainer.targetClasses(targets, classes: 10).filter { $0 >= 0 }.count,
                "one-hot rows or rows of zeros")
            return EGTrainer.targetClasses(targets, classes: 10)
        }
        // Threshold 0: every unlabelled image (12 and after) gets its predicted class.
        #expect(try pseudoLabels(threshold: 0) == [Int](repeating: -1, count: 12) + predicted[12...])
        // A threshold between the confidences: the images above it, and only those.
        // (In the widest gap between the middle confidences of the 18.)
        let sorted = confidence[12...].sorted()
        let gap = (4..<14).max { sorted[$0 + 1] - sorted[$0] < sorted[$1 + 1] - sorted[$1] } ?? 8
        let threshold = (sorted[gap] + sorted[gap + 1]) / 2
        #expect(sorted[gap + 1] - sorted[gap] > 1e-5, "confidences too close to split: \(sorted)")
        let confident = try pseudoLabels(threshold: threshold)
        #expect(
            confident == (0..<30).map { i in i >= 12 && confidence[i] > threshold ? predicted[i] : -1 },
            "threshold \(threshold)")
        #expect(confident.filter { $0 >= 0 }.count == 17 - gap)
        // Above every confidence: none.
        #expect(try pseudoLabels(threshold: sorted[17] + 1e-4).allSatisfy { $0 == -1 })

        // Soft targets: at temperature 1 the posterior itself, at 1/2 its square normalised, at
        // 1/4 its fourth power; only for the images above the threshold.
        for temperature in [1.0, 0.5, 0.25] {
            let targets = try trainer.pseudoTargets(pixels, from: 12, threshold: threshold, temperature: temperature)
            var worst = 0.0
            for i in 0..<30 {
                let sharpened = posterior[i].map { pow($0, 1 / temperature) }
                let z = sharpened.reduce(0, +)
                for c in 0..<10 {
                    let expected = i >= 12 && confidence[i] > threshold ? sharpened[c] / z : 0
                    worst = max(worst, abs(Double(targets[i * 10 + c]) - expected))
                }
            }
            #expect(worst < 1e-5, "temperature \(temperature): worst target error \(worst)")
        }
    }

    /// The ramp-up factor `exp(−5 (1 − t/T)²)`, then 1.
    @Test func rampUpFollowsItsCurve() {
        #expect(RampUp(steps: 0).factor(step: 0) == 1)
        let c = RampUp(steps: 100)
        #expect(abs(c.factor(step: 0) - 0.006737946999085467) < 1e-15)
        #expect(abs(c.factor(step: 50) - 0.2865047968601901) < 1e-15)
        #expect(abs(c.factor(step: 90) - 0.951229424500714) < 1e-15)
        #expect(c.factor(step: 100) == 1 && c.factor(step: 5000) == 1)
        let o = Objective(
            crossEntropy: 1, reconstruction: 0.5, classPosterior: 0.8, nonnegativity: 0.3, classBalance: 0.4
        ).scalingClassPosteriorTerms(by: 0.5)
        #expect(
            o
                == Objective(
                    crossEntropy: 1, reconstruction: 0.5, classPosterior: 0.4, nonnegativity: 0.3, classBalance: 0.2))
    }

    @Test func badOptionsAndCheckpointsAreTypedErrors() throws {
        let (train, _) = try Support.mnist(train: 100, test: 1)
        let net = try RenderingNetwork<Float>(architecture: Self.small, seed: 1)
        #expect(throws: LearningError.self) {
            try EGTrainer(network: net, configuration: TrainingConfiguration(mode: .semi, labels: 101), train: train)
        }
        #expect(throws: LearningError.self) {
            try EGTrainer(network: net, configuration: TrainingConfiguration(mode: .semi, labels: 0), train: train)
        }
        #expect(throws: LearningError.self) {
            try EGTrainer(network: net, configuration: TrainingConfiguration(batchSize: 1), train: train)
        }
        var ramp = TrainingConfiguration()
        ramp.extensions.rampUp = RampUp(steps: -1)
        #expect(throws: LearningError.self) { try EGTrainer(network: net, configuration: ramp, train: train) }
        for shift in [-1, 28] {
            var shifted = TrainingConfiguration()
            shifted.extensions.augmentation = Augmentation(translation: shift)
            #expect(throws: LearningError.self) { try EGTrainer(network: net, configuration: shifted, train: train) }
        }
        #expect(throws: LearningError.self) {
            try EGTrainer(
                network: net, configuration: TrainingConfiguration(optimizer: Optimizer(learningRate: -1)), train: train
            )
        }
        for (rotation, scaling) in [(-5.0, 0.0), (200, 0), (0, 1), (0, .nan)] {
            var deformed = TrainingConfiguration()
            deformed.extensions.augmentation = Augmentation(rotation: rotation, scaling: scaling)
            #expect(throws: LearningError.self) { try EGTrainer(network: net, configuration: deformed, train: train) }
        }
        for (weight, threshold, temperature) in [
            (-1.0, 0.95, 0.0), (Double.nan, 0.95, 0), (1, 1.5, 0), (1, -0.1, 0), (1, .nan, 0),
            (1, 0.95, -0.5), (1, 0.95, .nan), (1, 0.95, .infinity)
        ] {
            var labels = TrainingConfiguration()
            labels.extensions.pseudoLabels = PseudoLabels(
                weight: weight, threshold: threshold, temperature: temperature)
            #expect(throws: LearningError.self) { try EGTrainer(network: net, configuration: labels, train: train) }
        }
        for balance in [-1.0, .nan] {
            var balanced = TrainingConfiguration()
            balanced.extensions.classBalance = ClassBalance(weight: balance)
            #expect(throws: LearningError.self) { try EGTrainer(network: net, configuration: balanced, train: train) }
        }
        // The extension terms belong to the extensions, not to a run's objective.
        #expect(throws: LearningError.self) {
            try EGTrainer(
                network: net, configuration: TrainingConfiguration(objective: Objective(classBalance: 1)), train: train)
        }
        #expect(throws: LearningError.self) {
            try EGTrainer(
                network: net, configuration: TrainingConfiguration(objective: Objective(reconstruction: .nan)),
                train: train)
        }
        // 100 labels from 100 images is fine unless a class has too few.
        #expect(throws: LearningError.self) { try train.balancedSubset(100, classes: 10, seed: 1) }
        // Images of the wrong size.
        let other = try ImageSet(shape: [1, 8, 8], pixels: [Float](repeating: 0, count: 64 * 3), labels: [0, 1, 2])
        #expect(throws: LearningError.self) {
            try EGTrainer(network: net, configuration: TrainingConfiguration(), train: other)
        }
        #expect(throws: LearningError.self) { try ImageSet(shape: [1, 2, 2], pixels: [0, 0, 0], labels: [1]) }
        #expect(throws: LearningError.self) { try ImageSet(shape: [1, 1, 1], pixels: [.nan], labels: [1]) }

        // Checkpoints: missing, corrupt, another architecture, another labelled subset.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drmm-ckpt-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: LearningError.checkpoint(path: "\(dir)/none.json", reason: "cannot be read")) {
            try Checkpoint.read(from: "\(dir)/none.json")
        }
        try "{\"format\": 3".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        #expect(throws: LearningError.self) { try Checkpoint.read(from: "\(dir)/bad.json") }
        let trainer = try EGTrainer(
            network: net, configuration: TrainingConfiguration(mode: .semi, labels: 20, epochs: 1, batchSize: 20),
            train: train)
        var c = trainer.checkpoint()
        c.architecture = TrainingTests.twoLevel
        try c.write(to: "\(dir)/other.json")
        #expect(throws: LearningError.self) { try Checkpoint.read(from: "\(dir)/other.json") }
        let good = trainer.checkpoint()
        let (otherTrain, _) = try Support.mnist(train: 120, test: 1)
        #expect(throws: LearningError.self) { try EGTrainer(resuming: good, train: otherTrain) }
    }
}

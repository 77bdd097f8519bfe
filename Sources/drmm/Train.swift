import ArgumentParser
import FactorGraphCommands
import Datasets
import DRMM
import DRMMLearning
import FactorGraph
import Foundation
import NumericalCore

extension TrainingConfiguration.Mode: ExpressibleByArgument {}
extension Optimizer.Method: ExpressibleByArgument {}
extension Objective.ClassPosteriorSign: ExpressibleByArgument {}
extension RenderingNetwork.Initialization: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}

/// MNIST as `ImageSet`s, optionally cut to the first images (0: all).
func writeJSON<V: Encodable>(_ value: V, to path: String, pretty: Bool = true) throws {
    try TrainingRun.writeJSON(value, to: path, pretty: pretty)
}

/// Writes a JSON dictionary or array (sorted keys, pretty) atomically.
func writeJSONObject(_ object: Any, to path: String) throws {
    let d = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try writeAtomically(String(decoding: d, as: UTF8.self), to: path)
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Train a DRMM on MNIST by EG (gradient G-step): supervised, semi-supervised, unsupervised, or "
            + "pre-training then fine-tuning.",
        discussion: """
            Writes to --out: checkpoint.json (after every epoch, atomically; --resume continues from it \
            bit-identically), metrics.jsonl (one JSON object per epoch), results.json, and PNGs: \
            templates.png (class templates rendered to pixels), reconstructions.png (test digits and \
            their top-down reconstructions), samples.png, error-curve.png (test error % against epochs).
            """)

    @Option(help: "Architecture preset: rfm, drmm2 or drmm5 (default rfm).") var model: String?
    @Option(
        help: ArgumentHelp(
            "Architecture from a JSON file (Examples/Architectures/ has one per preset): any levels, channels, "
                + "kernels, paddings, pools, input channels and classes."))
    var architecture: String?
    @Flag(
        help: "Batch normalisation of every level's convolution in the bottom-up pass (the model is named <model>-bn).")
    var batchNorm = false
    @Flag(
        help: ArgumentHelp(
            "With --batch-norm: the top-down pass renders with the normalised filters γW/σ, the rendering matrices "
                + "of the DRMM the levels fold into (the model is named <model>-bnf).")
    ) var renderNormalised = false
    @Option(help: "supervised, semi, unsupervised or pretrain.") var mode: TrainingConfiguration.Mode = .supervised
    @Option(help: "Labelled images N_L (class-balanced draw); 0 = all.") var labels = 0
    @Option(help: "Epochs (of fine-tuning, for pretrain).") var epochs = 10
    @Option(help: "Unsupervised epochs before fine-tuning (mode pretrain).") var pretrainEpochs = 0
    @Option(help: "Images per step.") var batch = 100
    @Option(help: "adam or sgd.") var optimizer: Optimizer.Method = .adam
    @Option(help: "Learning rate.") var lr = 1e-3
    @Option(help: "Final learning rate of a geometric decay (default: constant rate).") var lrFinal: Double?
    @Option(help: "Multiply the learning rate by --lr-factor every this many epochs (a step schedule).") var lrStep:
        Int?
    @Option(help: "Factor of the step schedule.") var lrFactor = 0.5
    @Option(help: "SGD momentum.") var momentum = 0.9
    @Option(help: "L2 weight decay on the filters and class templates (added to their gradient).") var weightDecay = 0.0
    @Option(help: "Weight of the cross-entropy term.") var ce = 1.0
    @Option(help: "Weight of the reconstruction term (default 0 supervised, 0.5 otherwise).") var rc: Double?
    @Option(help: "Weight of the class-posterior (KL) term.") var kl = 0.0
    @Option(help: "Sign of the class-posterior term: entropyMinimisation (the authors' code) or klToPrior.") var klSign:
        Objective.ClassPosteriorSign = .entropyMinimisation
    @Option(help: "Weight of the nonnegativity penalty (NN-DRMM).") var nn = 0.0
    @Option(
        help: ArgumentHelp(
            "Weight of the class-balance term KL(q̄ ‖ uniform) on the batch's mean class posterior (not in the "
                + "paper; with --kl it makes a mutual-information objective).")
    ) var balance = 0.0
    @Option(
        help: ArgumentHelp(
            "Weight of the pseudo-label term: each unlabelled image is trained, as moved by --translate, --rotate "
                + "and --scale, toward the class the current model infers for it unmoved, when that class's posterior "
                + "reaches --pseudo-threshold (not in the paper).")
    ) var pseudoLabel = 0.0
    @Option(help: "Class posterior an inferred class needs to serve as a pseudo-label.") var pseudoThreshold = 0.95
    @Option(
        help: ArgumentHelp(
            "Temperature T of the pseudo-label targets, q^(1/T) normalised: 0 for the one-hot class (hard "
                + "pseudo-labels), 1 for the posterior itself.")
    ) var pseudoTemperature = 0.0
    @Option(
        help: ArgumentHelp(
            "Ramp the weights of --kl and --balance up over this many steps of a phase, by exp(−5(1 − t/T)²) (0: no "
                + "ramp).")
    ) var rampUp = 0
    @Option(
        help: ArgumentHelp(
            "Shift every training image by a random (dx, dy), |dx|, |dy| ≤ N pixels, zero-filled (data augmentation, "
                + "not in the paper; 0: none).")
    ) var translate = 0
    @Option(
        help: ArgumentHelp(
            "Turn every training image by a random angle of at most this many degrees either way, before --translate "
                + "(data augmentation, not in the paper; 0: none).")
    ) var rotate = 0.0
    @Option(
        help: ArgumentHelp(
            "Resize every training image by a random factor in [1 − S, 1 + S], with --rotate (data augmentation, not "
                + "in the paper; 0: none).")
    ) var scale = 0.0
    @Option(
        help: ArgumentHelp(
            "At the end of every epoch, recompute the running statistics of batch normalisation from this many "
                + "batches of training images as they are, with the epoch's final parameters (precise statistics "
                + "for the test error and the pseudo-labels; 0: keep the running averages).")
    ) var recalibrate = 0
    @Option(
        help: ArgumentHelp(
            "Decay α of a weight-averaged teacher (mean teacher; not in the paper): after every step its parameters "
                + "move to α·teacher + (1 − α)·student; it supplies the pseudo-label targets and is evaluated beside "
                + "the student (0: none).")
    ) var teacherDecay = 0.0
    @Option(help: "Filter initialisation: xavier (the authors' code) or he.") var initialization:
        RenderingNetwork<Float>.Initialization = .xavier
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(
        help: ArgumentHelp(
            "Data-parallel workers (cores) — with --mpi, the shards of all ranks together, at least one per rank; the "
                + "run depends on this and the seed, not on the ranks (default: 2, or the ranks with --mpi; on "
                + "--resume, the checkpoint's)."))
    var workers: Int?
    @Option(
        help: ArgumentHelp(
            "Convolution algorithm: winograd (F(2×2,3×3) for 3×3 levels) or im2col (default: winograd; on --resume, "
                + "the checkpoint's).")
    ) var convolution: ConvolutionAlgorithm?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Output directory.") var out = "runs/train"
    @Option(help: "Use only the first N training images (0: all).") var trainLimit = 0
    @Option(help: "Use only the first N test images (0: all).") var testLimit = 0
    @Option(help: "Evaluate on the test set after every N-th epoch and after the last (1: every epoch).")
    var evaluateEvery = 1
    @Flag(help: "Continue from --out/checkpoint.json.") var resume = false
    @Option(
        help: ArgumentHelp(
            "Start from the parameters of this checkpoint (same architecture) instead of a random draw, e.g. to "
                + "fine-tune an unsupervised run with labels; the optimiser starts afresh.")
    ) var initFrom: String?
    @Flag(help: "No progress bar.") var quiet = false
    @Flag(
        help: ArgumentHelp(
            "Keep the filters above level 1, the class templates and the normalisation scales nonnegative (the "
                + "theorem's condition E2), so that drmm verify can certify the network as exact max-sum inference in "
                + "its DRMM.")
    ) var nonnegativeUpper = false
    @OptionGroup var limitOptions: LimitOptions
    @OptionGroup var mpiOptions: MPIOptions

    func configurationFromOptions(ranks: Int = 1) throws -> (Architecture, TrainingConfiguration) {
        guard model == nil || architecture == nil else {
            throw ValidationError("--model names a preset and --architecture a file; give one")
        }
        let preset: Architecture
        if let architecture {
            preset = try Architecture.read(path: architecture, limits: try limitOptions.limits())
        } else if let p = Architecture.presets[model ?? "rfm"] {
            preset = p
        } else {
            throw ValidationError(
                "unknown model '\(model ?? "")'; choose one of "
                    + "\(Architecture.presets.keys.sorted().joined(separator: ", ")), or give --architecture FILE")
        }
        guard batchNorm || !renderNormalised else { throw ValidationError("--render-normalised needs --batch-norm") }
        guard batchNorm || recalibrate == 0 else { throw ValidationError("--recalibrate needs --batch-norm") }
        let arch = batchNorm ? preset.batchNormalized(folded: renderNormalised) : preset
        let rcWeight = rc ?? (mode == .supervised ? 0 : 0.5)
        func objective(crossEntropy: Double, reconstruction: Double) -> Objective {
            Objective(
                crossEntropy: crossEntropy, reconstruction: reconstruction, classPosterior: kl,
                classPosteriorSign: klSign,
                nonnegativity: nn)
        }
        let main: Objective =
            switch mode {
            case .unsupervised: objective(crossEntropy: 0, reconstruction: rcWeight)
            case .pretrain: objective(crossEntropy: ce, reconstruction: rc ?? 0)  // the fine-tuning phase
            case .supervised, .semi: objective(crossEntropy: ce, reconstruction: rcWeight)
            }
        guard lrFinal == nil || lrStep == nil else {
            throw ValidationError("--lr-final and --lr-step choose different schedules; give one")
        }
        let schedule: Optimizer.Schedule =
            lrFinal.map { .geometric(final: $0) } ?? lrStep.map { .step(every: $0, factor: lrFactor) } ?? .constant
        var opt = Optimizer(method: optimizer, learningRate: lr, schedule: schedule, momentum: momentum)
        opt.weightDecay = weightDecay
        let config = TrainingConfiguration(
            mode: mode, labels: labels, epochs: epochs, pretrainEpochs: pretrainEpochs, batchSize: batch,
            objective: main,
            pretrainObjective: Objective(crossEntropy: 0, reconstruction: rc ?? 1, nonnegativity: nn),
            optimizer: opt, seed: seed, workers: workers ?? max(2, ranks), convolution: convolution ?? .winograd)
        var configuration = config
        var x = TrainingExtensions()  // each technique beyond the paper, on when its option is
        if balance != 0 { x.classBalance = ClassBalance(weight: balance) }
        if pseudoLabel != 0 {
            x.pseudoLabels = PseudoLabels(
                weight: pseudoLabel, threshold: pseudoThreshold, temperature: pseudoTemperature)
        }
        if translate != 0 || rotate != 0 || scale != 0 {
            x.augmentation = Augmentation(translation: translate, rotation: rotate, scaling: scale)
        }
        if rampUp != 0 { x.rampUp = RampUp(steps: rampUp) }
        if teacherDecay != 0 { x.meanTeacher = MeanTeacher(decay: teacherDecay) }
        if recalibrate != 0 { x.recalibration = Recalibration(batches: recalibrate) }
        configuration.extensions = x
        configuration.nonnegativeUpperWeights = nonnegativeUpper
        return (arch, configuration)
    }

    func run() throws {
        try mpiOptions.run { try train(communicator: $0) }
    }

    /// Trains as one rank of `communicator`'s job (rank 0 writes the files and the progress).
    func train(communicator: any Communicator) throws {
        let root = communicator.isRoot
        let (arch, options) = try configurationFromOptions(ranks: communicator.size)
        var config = options
        guard evaluateEvery >= 1 else {
            throw ValidationError("--evaluate-every must be at least 1, not \(evaluateEvery)")
        }
        guard !(resume && initFrom != nil) else {
            throw ValidationError(
                "--resume continues this run's own checkpoint; --init-from starts a new run from another; give one")
        }
        let limits = try limitOptions.limits()
        guard trainLimit >= 0, testLimit >= 0 else {
            throw ValidationError("--train-limit and --test-limit must be ≥ 0 (0: all)")
        }
        let (train, test) = try dataOptions.load(trainLimit: trainLimit, testLimit: testLimit, limits: limits)
        try arch.check(train, named: "training")
        try arch.check(test, named: "test")
        try config.validate(trainingImages: train.count, limits: limits)
        let run = try TrainingRun(directory: out, create: root)
        if let initFrom, initFrom == run.checkpointPath {
            throw ValidationError("--init-from names the checkpoint this run writes; use --resume or another --out")
        }
        let start: TrainingRun.Start =
            resume ? .resume : initFrom.map { .initialize(from: $0) } ?? .fresh(initialization)
        let (trainer, note) = try run.trainer(
            architecture: arch, configuration: config, workers: workers, convolution: convolution,
            start: start, train: train, limits: limits, communicator: communicator)
        config = trainer.configuration
        if let note, root { FileHandle.standardError.write(Data("note: \(note)\n\n".utf8)) }
        if config.workers > 1 { BLASInfo.setThreadCount(1) }  // one single-threaded GEMM per worker
        let log = FileHandle.standardError
        let ranks =
            communicator.size > 1
            ? " over \(communicator.size) MPI ranks (\(trainer.shards.count) on rank 0)" : ""
        let banner =
            "training \(arch.name) (\(trainer.network.parameters.count) parameters), mode "
            + "\(config.mode.rawValue), \(trainer.labeledIndices.count) labelled of \(train.count) images, "
            + "\(config.totalEpochs) epochs, \(config.workers) worker(s)\(ranks), "
            + "BLAS threads \(BLASInfo.threadCount)\n"
        if root { log.write(Data(banner.utf8)) }
        let wall = Date()
        let bar = ProgressBar(enabled: !quiet && root)
        while trainer.completedEpochs < config.totalEpochs {
            let epoch = trainer.completedEpochs + 1
            let evaluates = epoch % evaluateEvery == 0 || epoch == config.totalEpochs
            let m = try trainer.runEpoch(test: evaluates ? test : nil) { bar.update($0) }
            if root {
                bar.finish(m)
                try run.record(trainer)
            }
        }
        let seconds = Date().timeIntervalSince(wall)
        guard root else { return }
        try run.writePictures(trainer, test: test)
        let results = RunResults(
            trainer, trainImages: train.count, testImages: test.count, seconds: seconds,
            initialization: resume ? "from checkpoint" : initFrom.map { "from \($0)" } ?? initialization.rawValue)
        try run.writeResults(results)
        let teacherSummary =
            results.teacherTestError.map {
                String(
                    format: ", teacher %.2f %% (best %.2f %%)", 100 * $0, 100 * (results.bestTeacherTestError ?? .nan))
            } ?? ""
        print(
            String(
                format: "%@ %@: test error %.2f %% after %d epochs (best %.2f %%)%@, %.0f s", arch.name,
                config.mode.rawValue,
                100 * (results.testError ?? .nan), config.totalEpochs, 100 * (results.bestTestError ?? .nan),
                teacherSummary, seconds))
    }
}

/// One line on stderr, redrawn at most four times a second.
final class ProgressBar {
    let enabled: Bool
    /// A bar redrawn in place on a terminal; plain lines every 30 s into a log file or pipe.
    let terminal = isatty(STDERR_FILENO) != 0
    var last = Date.distantPast
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: TrainingProgress) {
        let interval = terminal ? 0.25 : 30
        guard enabled, Date().timeIntervalSince(last) > interval || (terminal && p.step == p.steps) else { return }
        if !terminal && p.step == p.steps { return }
        last = Date()
        let width = 24, done = width * p.step / max(1, p.steps)
        let eta = p.secondsElapsed / Double(p.step) * Double(p.steps - p.step)
        let line = String(
            format:
                "\repoch %d/%d %@ [%@%@] %d/%d  ce %.4f rc %.4f kl %.4f nn %.4f bal %.4f pl %.4f  %.0f img/s  ETA %@ "
                + "  ",
            p.epoch, p.totalEpochs, p.phase, String(repeating: "#", count: done),
            String(repeating: ".", count: width - done),
            p.step, p.steps, p.loss.crossEntropy, p.loss.reconstruction, p.loss.classPosterior, p.loss.nonnegativity,
            p.loss.classBalance, p.loss.pseudoLabel, p.imagesPerSecond, Self.clock(eta))
        FileHandle.standardError.write(
            Data((terminal ? line : String(line.dropFirst()).trimmingCharacters(in: .whitespaces) + "\n").utf8))
    }

    func finish(_ m: EpochMetrics) {
        let pseudo =
            m.loss.pseudoLabeled == 0
            ? ""
            : String(
                format: ", pseudo-labels %d (%.2f %% right)", m.loss.pseudoLabeled,
                100 * Double(m.loss.pseudoLabeledCorrectly) / Double(m.loss.pseudoLabeled))
        let teacher = m.teacherTestError.map { String(format: " (teacher %.2f %%)", 100 * $0) } ?? ""
        let line = String(
            format:
                "%@epoch %d %@: loss %.4f (ce %.4f rc %.4f kl %.4f nn %.4f bal %.4f pl %.4f), train acc %@%@, test "
                + "error %@%@, %.1f s, %.0f img/s\n",
            enabled && terminal ? "\r" : "", m.epoch, m.phase, m.loss.total, m.loss.crossEntropy, m.loss.reconstruction,
            m.loss.classPosterior,
            m.loss.nonnegativity, m.loss.classBalance, m.loss.pseudoLabel,
            m.trainAccuracy.map { String(format: "%.2f %%", 100 * $0) } ?? "–", pseudo,
            m.testError.map { String(format: "%.2f %%", 100 * $0) } ?? "–", teacher, m.seconds, m.imagesPerSecond)
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func clock(_ s: Double) -> String {
        guard s.isFinite else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600
            ? String(format: "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60)
            : String(format: "%d:%02d", t / 60, t % 60)
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Test error of a trained DRMM checkpoint on MNIST.")
    @Option(help: "The checkpoint written by drmm train.") var checkpoint: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Use only the first N test images (0: all).") var testLimit = 0
    @Option(help: "Data-parallel workers.") var workers = 2
    @Option(help: "Write the result as JSON here.") var json: String?
    @Option(help: "Write the class scores of every test image here, as a NumPy float32 [N, K] .npy.")
    var logits: String?
    @Flag(help: "Evaluate the weight-averaged teacher of a run trained with --teacher-decay instead of the student.")
    var teacher = false
    @OptionGroup var limitOptions: LimitOptions

    func validate() throws {
        let limits = try limitOptions.limits()
        guard (1...limits.workers).contains(workers) else {
            throw ValidationError("--workers must be in 1...\(limits.workers), got \(workers)")
        }
        guard testLimit >= 0 else { throw ValidationError("--test-limit must be ≥ 0 (0: all), got \(testLimit)") }
    }

    func run() throws {
        if workers > 1 { BLASInfo.setThreadCount(1) }
        let c = try Checkpoint.read(from: checkpoint, limits: try limitOptions.limits())
        let net: RenderingNetwork<Float>
        if teacher {
            guard let averaged = try c.teacherNetwork() else {
                throw LearningError.checkpoint(
                    path: checkpoint, reason: "has no teacher (the run was trained without --teacher-decay)")
            }
            net = averaged
        } else {
            net = try c.network()
        }
        let test = try dataOptions.load(trainLimit: 1, testLimit: testLimit, limits: try limitOptions.limits()).test
        let start = Date()
        let (error, predictions) = try Evaluation.classify(net, test, workers: workers)
        let seconds = Date().timeIntervalSince(start)
        let confusion = Evaluation.confusion(
            predictions: predictions, labels: test.labels, classes: net.architecture.classes)
        if let logits {
            let scores = try Evaluation.logits(net, test)
            let array = try NumPyArray(float32: scores, shape: [test.count, net.architecture.classes])
            try writeAtomically(bytes: array.npyBytes(), to: logits)
        }
        print(
            String(
                format: "%@ after %d epochs: test error %.2f %% on %d images (%.2f s)", c.architecture.name, c.epoch,
                100 * error, test.count, seconds))
        if let json {
            struct Report: Encodable {
                var model: String; var epochs: Int; var testError: Double; var testImages: Int; var seconds: Double;
                var confusion: [[Int]]
            }
            try writeJSON(
                Report(
                    model: c.architecture.name, epochs: c.epoch, testError: error, testImages: test.count,
                    seconds: seconds, confusion: confusion), to: json)
        }
    }
}

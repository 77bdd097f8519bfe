import DRMM
import NumericalCore
import Testing
@testable import DRMMLearning

/// Data-parallel training and EM over several ranks (threads of an ``InProcessGroup``, the same
/// code path as MPI processes) against one process doing all the work.
@Suite(.serialized) struct DistributedTests {
    /// The parameters, optimiser moments and history after `epochs` epochs on `ranks` ranks
    /// with `workers` shards in all.
    static func train(
        _ a: Architecture, _ config: TrainingConfiguration, train: ImageSet, test: ImageSet?, ranks: Int, epochs: Int
    ) throws -> [EGTrainer] {
        let network = try RenderingNetwork<Float>(architecture: a, seed: config.seed)
        return try InProcessGroup(size: ranks).run { communicator in
            // Ranks other than 0 start from other parameters: rank 0's are broadcast.
            var start = network
            if communicator.rank > 0 { start.parameters = start.parameters.map { $0 + 1 } }
            let trainer = try EGTrainer(network: start, configuration: config, train: train, communicator: communicator)
            for _ in 0..<epochs { try trainer.runEpoch(test: test) }
            return trainer
        }
    }

    static func configurations() -> [(String, Architecture, TrainingConfiguration)] {
        var semi = TrainingConfiguration(
            mode: .semi, labels: 40, epochs: 2, batchSize: 24,
            objective: Objective(crossEntropy: 1, reconstruction: 0.5),
            optimizer: Optimizer(learningRate: 2e-3), seed: 5, workers: 2)
        semi.extensions.pseudoLabels = PseudoLabels(weight: 0.5, threshold: 0.5, temperature: 0)
        semi.extensions.classBalance = ClassBalance(weight: 0.1)
        var batchNorm = TrainingConfiguration(
            mode: .supervised, epochs: 2, batchSize: 30, optimizer: Optimizer(learningRate: 3e-3), seed: 9, workers: 2)
        batchNorm.extensions.recalibration = Recalibration(batches: 2)
        batchNorm.extensions.meanTeacher = MeanTeacher(decay: 0.9)
        return [
            ("semi-supervised, pseudo-labels, class balance", TrainingTests.twoLevel, semi),
            (
                "batch normalisation, recalibration, mean teacher", TrainingTests.small.batchNormalized(folded: false),
                batchNorm
            )
        ]
    }

    /// Two ranks of one shard each = one process of two workers, bit for bit: parameters,
    /// optimiser state, running statistics, teacher, test errors.
    @Test(arguments: 0..<2)
    func twoRanksReproduceOneProcessBitForBit(index: Int) throws {
        let (name, a, config) = Self.configurations()[index]
        let (train, test) = try Support.mnist(train: 160, test: 60)
        let one = try Self.train(a, config, train: train, test: test, ranks: 1, epochs: 2)[0]
        let two = try Self.train(a, config, train: train, test: test, ranks: 2, epochs: 2)
        for (r, t) in two.enumerated() {
            #expect(t.network.parameters == one.network.parameters, "\(name): rank \(r)'s parameters")
            #expect(t.optimizerState == one.optimizerState, "\(name): rank \(r)'s optimiser state")
            #expect(t.teacher?.parameters == one.teacher?.parameters, "\(name): rank \(r)'s teacher")
            #expect(t.history.map(\.testError) == one.history.map(\.testError), "\(name): test errors")
            #expect(t.history.map(\.switchRates) == one.history.map(\.switchRates), "\(name): switch rates")
            for (m, n) in zip(t.history, one.history) {
                #expect(abs(m.loss.total - n.loss.total) <= 1e-6 * max(1, abs(n.loss.total)), "\(name): loss")
                #expect(m.loss.correct == n.loss.correct && m.loss.labeled == n.loss.labeled)
                #expect(m.loss.pseudoLabeled == n.loss.pseudoLabeled)
            }
        }
        let initial = try RenderingNetwork<Float>(architecture: a, seed: config.seed).parameters
        #expect(one.history.count == 2 && one.network.parameters != initial, "\(name): training moved the parameters")
    }

    /// Three ranks of four shards in all: the same run as one process of four workers up to
    /// the bracketing of the three-term sums.
    @Test func threeRanksAgreeWithOneProcessToRounding() throws {
        let (train, _) = try Support.mnist(train: 120, test: 1)
        let config = TrainingConfiguration(
            mode: .supervised, epochs: 1, batchSize: 20, optimizer: Optimizer(learningRate: 2e-3), seed: 4, workers: 4)
        let one = try Self.train(TrainingTests.small, config, train: train, test: nil, ranks: 1, epochs: 1)[0]
        let three = try Self.train(TrainingTests.small, config, train: train, test: nil, ranks: 3, epochs: 1)
        #expect(three[0].network.parameters == three[1].network.parameters)
        #expect(three[1].network.parameters == three[2].network.parameters)
        let worst = zip(three[0].network.parameters, one.network.parameters).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    /// One step's gradient: summed over two ranks = one process's.
    @Test func oneStepGradientOverRanksEqualsOneProcess() throws {
        let (train, _) = try Support.mnist(train: 30, test: 1)
        let network = try RenderingNetwork<Float>(architecture: TrainingTests.twoLevel, seed: 2)
        var pixels: [Float] = []
        var batchLabels = train.gather(Array(0..<30)[...], hideLabels: false, into: &pixels)
        for i in stride(from: 1, to: 30, by: 3) { batchLabels[i] = -1 }
        let (images, labels) = (pixels, batchLabels)
        let objective = Objective(crossEntropy: 1, reconstruction: 0.5, classPosterior: 0.1)
        @Sendable func gradient(_ c: any Communicator) throws -> ([Float], LossTerms) {
            let engine = DataParallelGradient(network: network, workers: 2, communicator: c)
            var g: [Float]? = []
            var p: [Int] = []
            let terms = try engine.evaluate(
                network, images: images, labels: labels, objective: objective, gradient: &g, predictions: &p)
            return (g ?? [], terms)
        }
        let (single, terms) = try gradient(SingleProcess())
        let ranks = try InProcessGroup(size: 2).run { try gradient($0) }
        #expect(single.contains { $0 != 0 })
        for (g, t) in ranks {
            #expect(g == single)
            #expect(abs(t.total - terms.total) <= 1e-6 * abs(terms.total))
            #expect(t.correct == terms.correct && t.labeled == terms.labeled && t.labeled == 20)
        }
    }

    /// Hard EM with the images split over two and three ranks: the same objective trace and
    /// parameters as one process holding them all.
    @Test(arguments: [2, 3])
    func hardEMOverRanksEqualsOneProcess(ranks: Int) throws {
        let a = Support.toy(top: .dense)
        let (images, labels) = try HardEMTests.teacherData(a, n: 30, seed: 7)
        let partial = labels.enumerated().map { $0.offset % 3 == 0 ? -1 : $0.element }
        let start = try Support.randomNetwork(a, seed: 3, scale: 0.3)
        let one = try HardEM(network: start, images: images, labels: partial)
        let trace = try (0..<3).flatMap { _ in try one.iterate() }
        let d = a.inputShape.reduce(1, *)
        let results = try InProcessGroup(size: ranks).run { c in
            let mine = (30 * c.rank / ranks)..<(30 * (c.rank + 1) / ranks)
            let em = try HardEM(
                network: start, images: Array(images[(mine.lowerBound * d)..<(mine.upperBound * d)]),
                labels: Array(partial[mine]), communicator: c)
            let t = try (0..<3).flatMap { _ in try em.iterate() }
            return (t, em.network.parameters, em.noiseVariance, em.classPrior, em.switchPrior, em.assignedClasses)
        }
        #expect(results.flatMap(\.5) == one.assignedClasses)
        for r in results {
            #expect(zip(r.0, trace).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }, "J \(r.0) vs \(trace)")
            #expect(zip(r.1, one.network.parameters).allSatisfy { abs($0 - $1) <= 1e-9 })
            #expect(abs(r.2 - one.noiseVariance) <= 1e-12 * one.noiseVariance)
            #expect(zip(r.3, one.classPrior).allSatisfy { abs($0 - $1) <= 1e-15 })
            #expect(zip(r.4, one.switchPrior).allSatisfy { abs($0 - $1) <= 1e-15 })
        }
        #expect(results.allSatisfy { $0.1 == results[0].1 }, "every rank holds the broadcast solution")
    }

    /// Soft EM likewise.
    @Test func softEMOverRanksEqualsOneProcess() throws {
        let a = Support.toy(top: .meanPool)
        let (images, labels) = try HardEMTests.teacherData(a, n: 24, seed: 11)
        let start = try Support.randomNetwork(a, seed: 5, scale: 0.3)
        let one = try SoftEM(network: start, images: images, labels: labels, temperature: 0.5)
        let trace = try one.mStep()
        let d = a.inputShape.reduce(1, *)
        let results = try InProcessGroup(size: 2).run { c in
            let mine = (12 * c.rank)..<(12 * c.rank + 12)
            let em = try SoftEM(
                network: start, images: Array(images[(mine.lowerBound * d)..<(mine.upperBound * d)]),
                labels: Array(labels[mine]), temperature: 0.5, communicator: c)
            return (try em.mStep(), em.network.parameters, em.noiseVariance)
        }
        for r in results {
            #expect(zip(r.0, trace).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) })
            #expect(zip(r.1, one.network.parameters).allSatisfy { abs($0 - $1) <= 1e-9 })
            #expect(abs(r.2 - one.noiseVariance) <= 1e-12 * one.noiseVariance)
        }
    }

    /// A rank with another configuration, or other data, is refused on every rank.
    @Test func mismatchedRanksAreRefused() throws {
        let (train, _) = try Support.mnist(train: 40, test: 1)
        let network = try RenderingNetwork<Float>(architecture: TrainingTests.small, seed: 1)
        let config = TrainingConfiguration(epochs: 1, batchSize: 20, seed: 1, workers: 2)
        let outcomes = try InProcessGroup(size: 2).run { c -> String in
            var mine = config
            if c.rank == 1 { mine.seed = 2 }
            do {
                _ = try EGTrainer(network: network, configuration: mine, train: train, communicator: c)
                return "accepted"
            } catch let error as DistributedError {
                return error.description
            }
        }
        #expect(outcomes.allSatisfy { $0.contains("rank 1 differs from rank 0") }, "\(outcomes)")
        let tooFew = try InProcessGroup(size: 3).run { c -> Bool in
            do { _ = try EGTrainer(network: network, configuration: config, train: train, communicator: c) } catch {
                return (error as? LearningError)?.description.contains("cannot be spread over 3 ranks") ?? false
            }
            return false
        }
        #expect(tooFew == [true, true, true])
    }
}

/// Rank 0 of a two-rank job whose other rank contributes nothing: records what is reduced.
final class RecordingCommunicator: Communicator {
    let rank = 0, size = 2
    var floatLengths: [Int] = [], doubleLengths: [Int] = []
    func sum(_ values: inout [Float]) throws { floatLengths.append(values.count) }
    func sum(_ values: inout [Double]) throws { doubleLengths.append(values.count) }
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws {}
}

@Suite struct ReductionCountTests {
    /// A distributed step reduces one buffer of `EGTrainer.reducedValuesPerStep` values
    /// (gradient and all) and, mid-pass, the `K` values of `q̄` — nothing else.
    @Test func oneStepReducesOneBufferOfTheAnnouncedLength() throws {
        let (train, _) = try Support.mnist(train: 40, test: 1)
        let a = TrainingTests.twoLevel.batchNormalized(folded: false)
        let network = try RenderingNetwork<Float>(architecture: a, seed: 1)
        let config = TrainingConfiguration(epochs: 1, batchSize: 20, seed: 1, workers: 2)
        let c = RecordingCommunicator()
        let trainer = try EGTrainer(network: network, configuration: config, train: train, communicator: c)
        c.floatLengths = []
        c.doubleLengths = []
        try trainer.runEpoch()
        let steps = 2
        #expect(c.floatLengths == [Int](repeating: EGTrainer.reducedValuesPerStep(network), count: steps))
        #expect(c.doubleLengths == [Int](repeating: a.classes, count: steps))
        #expect(EGTrainer.reducedValuesPerStep(network) == network.parameters.count + 7 + 2 * 6 + 2 * (6 + 8))
    }
}

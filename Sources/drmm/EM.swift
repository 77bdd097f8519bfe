import ArgumentParser
import FactorGraphCommands
import DRMMLearning
import Foundation
import NumericalCore

struct EM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "em",
        abstract: "Train a small DRMM by hard or soft EM (exact least-squares M-steps), over MPI ranks with --mpi.",
        discussion: """
            Hard EM (spec §4.1) alternates the max-sum E-step with block-wise ridge least-squares M-steps; soft EM \
            (§4.7) uses the mean-field expectations at --temperature. The cost grows with the block sizes times the \
            images: this is the exact learner for small models. With --mpi the images are split across the ranks \
            (rank r takes the r-th of R contiguous parts), the normal equations, counts and residuals are summed \
            over the ranks, and rank 0 solves every block and writes --json: the objective after every step, σ², \
            the priors and the parameters.
            """)

    @Option(help: "hard or soft.") var method: Method = .hard
    @Option(help: "Architecture preset: rfm, drmm2 or drmm5 (default rfm).") var model: String?
    @Option(help: "Architecture from a JSON file (without batch normalisation).") var architecture: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Use the first N training images.") var trainLimit = 100
    @Flag(help: "Hide every label: the E-step infers the classes (unsupervised).") var hideLabels = false
    @Option(help: "EM iterations.") var iterations = 3
    @Option(help: "Temperature τ of soft EM's E-step.") var temperature = 1.0
    @Option(help: "Starting pixel noise variance σ².") var noiseVariance = 1.0
    @Option(help: "Ridge ε of the least-squares M-steps.") var ridge = 1e-6
    @Option(help: "Seed of the starting parameters.") var seed: UInt64 = 1
    @Option(help: "Write the trace, σ², the priors and the parameters here (JSON, by rank 0).") var json: String?
    @OptionGroup var limitOptions: LimitOptions
    @OptionGroup var mpiOptions: MPIOptions

    enum Method: String, ExpressibleByArgument, CaseIterable { case hard, soft }

    func validate() throws {
        guard trainLimit >= 1, iterations >= 1 else {
            throw ValidationError("--train-limit and --iterations must be at least 1")
        }
        guard model == nil || architecture == nil else {
            throw ValidationError("--model names a preset and --architecture a file; give one")
        }
    }

    func run() throws {
        try mpiOptions.run { c in
            let limits = try limitOptions.limits()
            let arch: Architecture
            if let architecture {
                arch = try Architecture.read(path: architecture, limits: limits)
            } else if let preset = Architecture.presets[model ?? "rfm"] {
                arch = preset
            } else {
                throw ValidationError("unknown model '\(model ?? "")'")
            }
            let train = try dataOptions.load(trainLimit: trainLimit, testLimit: 1, limits: limits).train
            try arch.check(train, named: "training")
            guard train.count >= c.size else {
                throw ValidationError("\(train.count) images cannot be split over \(c.size) ranks")
            }
            let d = train.shape.reduce(1, *)
            let mine = (train.count * c.rank / c.size)..<(train.count * (c.rank + 1) / c.size)
            let images = train.pixels[(mine.lowerBound * d)..<(mine.upperBound * d)].map(Double.init)
            let labels = hideLabels ? [Int](repeating: -1, count: mine.count) : Array(train.labels[mine])
            let start = try RenderingNetwork<Double>(architecture: arch, seed: seed)
            let clock = Date()
            var report: [String: Any] = [
                "method": method.rawValue, "model": arch.name, "images": train.count, "ranks": c.size,
                "iterations": iterations
            ]
            let network: RenderingNetwork<Double>
            switch method {
            case .hard:
                let em = try HardEM(
                    network: start, images: images, labels: labels, noiseVariance: noiseVariance, ridge: ridge,
                    communicator: c)
                let trace = try (0..<iterations).map { _ in try em.iterate() }
                network = em.network
                report["trace"] = trace
                (report["noiseVariance"], report["classPrior"], report["switchPrior"]) = (
                    em.noiseVariance, em.classPrior, em.switchPrior
                )
            case .soft:
                let em = try SoftEM(
                    network: start, images: images, labels: labels, temperature: temperature,
                    noiseVariance: noiseVariance, ridge: ridge, communicator: c)
                let trace = try (0..<iterations).map { i in
                    if i > 0 { try em.eStep() }
                    return try em.mStep()
                }
                network = em.network
                report["trace"] = trace
                report["noiseVariance"] = em.noiseVariance
            }
            report["seconds"] = Date().timeIntervalSince(clock)
            report["parameters"] = network.parameters
            guard c.isRoot else { return }
            let last = (report["trace"] as? [[Double]])?.last?.last ?? .nan
            print(
                String(
                    format: "%@ EM, %@, %d images on %d rank(s), %d iterations: objective %.6g, σ² %.4g, %.1f s",
                    method.rawValue, arch.name, train.count, c.size, iterations, last,
                    report["noiseVariance"] as? Double ?? .nan, report["seconds"] as? Double ?? 0))
            if let json { try writeJSONObject(report, to: json) }
        }
    }
}

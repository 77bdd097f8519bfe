import ArgumentParser
import DRMM
import Foundation
import NumericalCore

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample images from a small stroke-rendering DRMM, infer them back, and write PNGs.",
        discussion:
            "Writes samples.png, reconstructions.png and templates.png to --out and prints how many classes and "
            + "active units were recovered."
    )

    @Option(help: "Number of images to sample.") var count = 24
    @Option(help: "Number of classes.") var classes = 4
    @Option(help: "Pixel noise variance σ².") var noise = 0.01
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output directory.") var out = "drmm-render"

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be in 1...10000, got \(count)") }
        guard (2...64).contains(classes) else { throw ValidationError("--classes must be in 2...64, got \(classes)") }
        guard noise > 0, noise.isFinite else {
            throw ValidationError("--noise must be a positive variance, got \(noise)")
        }
    }

    @Option(help: "Write the figures as JSON here.") var json: String?

    func run() throws {
        let model = try Demonstrations.strokeModel(classes: classes, seed: seed, noiseVariance: noise)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let rng = RandomSource(seed: seed &+ 100)
        var samples: [[Double]] = [], linear: [[Double]] = [], gaussian: [[Double]] = []
        var correct = (linear: 0, gaussian: 0)
        var squaredError = (noisy: 0.0, linear: 0.0, gaussian: 0.0)
        for _ in 0..<count {
            let (c, g, image) = try model.sample(using: rng)
            let clean = try model.render(class: c, nuisances: g)
            let inferred = try model.infer(image)
            let map = try model.gaussianMAP(image, from: inferred)
            if inferred.predictedClass == c { correct.linear += 1 }
            if map.predictedClass == c { correct.gaussian += 1 }
            let byLinear = try model.reconstruct(inferred)
            let byGaussian = try model.render(class: map.predictedClass, nuisances: map.nuisances)
            func mse(_ x: Tensor) -> Double {
                zip(x.elements, clean.elements).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(clean.count)
            }
            squaredError.noisy += mse(image); squaredError.linear += mse(byLinear);
            squaredError.gaussian += mse(byGaussian)
            samples.append(image.elements); linear.append(byLinear.elements); gaussian.append(byGaussian.elements)
        }
        let templates = try (0..<classes).map { c -> [Double] in
            let all = Nuisances(
                translations: model.geometry.map { [Int](repeating: 0, count: $0.pooled.reduce(1, *)) },
                switches: model.geometry.map { [Bool](repeating: true, count: $0.pooled.reduce(1, *)) })
            return try model.render(class: c, nuisances: all).elements
        }
        let columns = min(count, 8)
        try PNGImage.grid(samples, tileWidth: 16, tileHeight: 16, columns: columns, scale: 4).write(
            to: out + "/samples.png")
        try PNGImage.grid(linear, tileWidth: 16, tileHeight: 16, columns: columns, scale: 4).write(
            to: out + "/reconstructions.png")
        try PNGImage.grid(gaussian, tileWidth: 16, tileHeight: 16, columns: columns, scale: 4).write(
            to: out + "/reconstructions-gaussian.png")
        try PNGImage.grid(templates, tileWidth: 16, tileHeight: 16, columns: classes, scale: 4).write(
            to: out + "/templates.png")
        let n = Double(count)
        func percent(_ k: Int) -> String { String(format: "%.0f %%", 100 * Double(k) / n) }
        print(
            "sampled \(count) images at σ² = \(noise); the class recovered by max-sum (linear score) in "
                + "\(correct.linear) (\(percent(correct.linear))), by the Gaussian MAP in \(correct.gaussian) "
                + "(\(percent(correct.gaussian)))"
        )
        print(
            String(
                format:
                    "mean squared error to the noiseless render: noisy input %.4f, max-sum reconstruction %.4f, "
                    + "Gaussian-MAP reconstruction %.4f",
                squaredError.noisy / n, squaredError.linear / n, squaredError.gaussian / n))
        print(
            "wrote \(out)/samples.png, \(out)/reconstructions.png (max-sum), \(out)/reconstructions-gaussian.png, "
                + "\(out)/templates.png"
        )
        if let json {
            let report: [String: Any] = [
                "count": count, "classes": classes, "noiseVariance": noise, "seed": seed,
                "classRecoveredLinear": correct.linear, "classRecoveredGaussian": correct.gaussian,
                "mseNoisy": squaredError.noisy / n, "mseLinear": squaredError.linear / n,
                "mseGaussian": squaredError.gaussian / n
            ]
            try writeJSONObject(report, to: json)
        }
    }
}

struct Equivalence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show on a tiny DRMM that max-sum inference equals Conv → ReLU → MaxPool.",
        discussion:
            "Prints each class's score by the BLAS convnet pass, naive loops, brute force over every rendering path, "
            + "and the generic max-sum engine on the model's factor graph."
    )

    @Option(help: "Random seed of the model and the image.") var seed: UInt64 = 1
    @Option(help: "Write the four columns and the largest difference as JSON here.") var json: String?

    func run() throws {
        let r = try Demonstrations.equivalence(seed: seed)
        if let json {
            try writeJSONObject(
                [
                    "seed": seed, "convnet": r.convnet, "naiveLoops": r.naiveLoops, "bruteForce": r.bruteForce,
                    "genericMaxSum": r.genericMaxSum, "largestDifference": r.largestDifference
                ] as [String: Any], to: json)
        }
        print("class | convnet (BLAS) | naive loops | brute force max_g ⟨μ_cg, I⟩ | generic max-sum engine")
        for c in r.convnet.indices {
            print(
                String(
                    format: "%5d | %14.10f | %11.10f | %27.10f | %22.10f", c, r.convnet[c], r.naiveLoops[c],
                    r.bruteForce[c], r.genericMaxSum[c]))
        }
        print(String(format: "largest difference: %.2e", r.largestDifference))
        if r.largestDifference > 1e-8 { throw ExitCode.failure }
    }
}

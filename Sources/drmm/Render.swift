import ArgumentParser
import DRMM
import Foundation
import NumericalCore

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample images from a small stroke-rendering DRMM, infer them back, and write PNGs.",
        discussion: "Writes samples.png, reconstructions.png and templates.png to --out and prints how many classes and active units were recovered.")

    @Option(help: "Number of images to sample.") var count = 24
    @Option(help: "Number of classes.") var classes = 4
    @Option(help: "Pixel noise variance σ².") var noise = 0.01
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output directory.") var out = "drmm-render"

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be in 1...10000, got \(count)") }
        guard (2...64).contains(classes) else { throw ValidationError("--classes must be in 2...64, got \(classes)") }
        guard noise > 0, noise.isFinite else { throw ValidationError("--noise must be a positive variance, got \(noise)") }
    }

    func run() throws {
        let model = try Demonstrations.strokeModel(classes: classes, seed: seed, noiseVariance: noise)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let rng = RandomSource(seed: seed &+ 100)
        var samples: [[Double]] = [], reconstructions: [[Double]] = []
        var correct = 0
        for _ in 0..<count {
            let (c, _, image) = try model.sample(using: rng)
            let inferred = try model.infer(image)
            if inferred.predictedClass == c { correct += 1 }
            samples.append(image.elements)
            reconstructions.append(try model.reconstruct(inferred).elements)
        }
        let templates = try (0..<classes).map { c -> [Double] in
            let all = Nuisances(translations: model.geometry.map { [Int](repeating: 0, count: $0.pooled.reduce(1, *)) },
                                switches: model.geometry.map { [Bool](repeating: true, count: $0.pooled.reduce(1, *)) })
            return try model.render(class: c, nuisances: all).elements
        }
        try PNGImage.grid(samples, tileWidth: 16, tileHeight: 16, columns: 8, scale: 4).write(to: out + "/samples.png")
        try PNGImage.grid(reconstructions, tileWidth: 16, tileHeight: 16, columns: 8, scale: 4).write(to: out + "/reconstructions.png")
        try PNGImage.grid(templates, tileWidth: 16, tileHeight: 16, columns: classes, scale: 4).write(to: out + "/templates.png")
        print("sampled \(count) images at σ² = \(noise); bottom-up max-sum recovered the class of \(correct) (\(String(format: "%.0f", 100 * Double(correct) / Double(count))) %)")
        print("wrote \(out)/samples.png, \(out)/reconstructions.png, \(out)/templates.png")
    }
}

struct Equivalence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show on a tiny DRMM that max-sum inference equals Conv → ReLU → MaxPool.",
        discussion: "Prints each class's score by the BLAS convnet pass, naive loops, brute force over every rendering path, and the generic max-sum engine on the model's factor graph.")

    @Option(help: "Random seed of the model and the image.") var seed: UInt64 = 1

    func run() throws {
        let r = try Demonstrations.equivalence(seed: seed)
        print("class | convnet (BLAS) | naive loops | brute force max_g ⟨μ_cg, I⟩ | generic max-sum engine")
        for c in r.convnet.indices {
            print(String(format: "%5d | %14.10f | %11.10f | %27.10f | %22.10f", c, r.convnet[c], r.naiveLoops[c], r.bruteForce[c], r.genericMaxSum[c]))
        }
        print(String(format: "largest difference: %.2e", r.largestDifference))
        if r.largestDifference > 1e-8 { throw ExitCode.failure }
    }
}

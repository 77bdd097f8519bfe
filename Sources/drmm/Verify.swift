import ArgumentParser
import FactorGraphCommands
import Datasets
import DRMMLearning
import Foundation

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certify a trained checkpoint as max-sum inference in the DRMM it folds into.",
        discussion: """
            For every test image: render the inferred configuration top-down and compare its score with the \
            convnet's class score; count the negative filter entries above level 1 and class-template entries \
            (the theorem's condition E2); where E2 is violated, search a few images for configurations that beat \
            the convnet's.
            """)
    @Option(help: "The checkpoint written by drmm train.") var checkpoint: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Use only the first N test images (0: all).") var testLimit = 0
    @Option(help: "Images searched for better configurations when E2 is violated.") var searchImages = 3
    @Option(help: "Unit moves per searched image.") var searchMoves = 300
    @Option(help: "Data-parallel workers of the network's own predictions.") var workers = 2
    @Option(help: "Write the certificate as JSON here.") var json: String?
    @OptionGroup var limitOptions: LimitOptions

    func validate() throws {
        guard testLimit >= 0 else { throw ValidationError("--test-limit must be ≥ 0 (0: all), got \(testLimit)") }
        guard searchImages >= 0, searchMoves >= 0 else {
            throw ValidationError("--search-images and --search-moves must be ≥ 0")
        }
        let limits = try limitOptions.limits()
        guard (1...limits.workers).contains(workers) else {
            throw ValidationError("--workers must be in 1...\(limits.workers), got \(workers)")
        }
    }

    func run() throws {
        let c = try Checkpoint.read(from: checkpoint, limits: try limitOptions.limits())
        let network = try c.network()
        let test = try dataOptions.load(trainLimit: 1, testLimit: testLimit, limits: try limitOptions.limits()).test
        let start = Date()
        let r = try NetworkCertificate.certify(
            network, on: test, searchImages: searchImages, searchMoves: searchMoves, workers: workers)
        let seconds = Date().timeIntervalSince(start)
        func percent(_ a: Int, _ b: Int) -> String {
            String(format: "%.2f %%", b == 0 ? 0 : 100 * Double(a) / Double(b))
        }
        print(
            "\(c.architecture.name) after \(c.epoch) epochs, \(r.imagesChecked) images "
                + "(\(String(format: "%.1f", seconds)) s)"
        )
        print(
            String(
                format:
                    "(a) inferred configuration's score vs the convnet's: largest difference %.3g (relative %.3g); "
                    + "DRMM class = network's prediction on %d of %d",
                r.largestScoreDifference, r.largestRelativeScoreDifference, r.predictionsAgreeing, r.imagesChecked))
        print(
            "(b) E2: \(r.negativeUpperFilterEntries) of \(r.upperFilterEntries) filter entries above level 1 "
                + "negative (\(percent(r.negativeUpperFilterEntries, r.upperFilterEntries))), "
                + "\(r.negativeTemplateEntries) of \(r.templateEntries) class-template entries "
                + "(\(percent(r.negativeTemplateEntries, r.templateEntries)))"
        )
        if let gap = r.largestGapFound {
            print(
                String(
                    format: "(c) search on %d images, %d unit moves: largest gap above the convnet's score %.4g",
                    r.searchedImages, r.searchMoves, gap))
        } else {
            print("(c) no search needed: E2 holds")
        }
        print(
            r.provesExactMaxSum
                ? "certified: the network is exact max-sum inference in its DRMM on these images"
                : "not certified: the convnet's score is the score of a configuration, but not proven the maximum")
        if let json { try writeJSON(r, to: json) }
    }
}

import ArgumentParser
import FactorGraphCommands
import DRMMLearning
import FactorGraph
import Foundation
import NumericalCore

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate, verify or run inference on many model files at once, split across MPI ranks with --mpi.",
        discussion: """
            Every path is a file or a folder (its files with the command's extension, in name order). The files are \
            dealt to the ranks in turn (file i to rank i mod N); the results are gathered in input order into one \
            JSON (--json), written by rank 0. A file that fails gets an "error" entry and the command exits 1 after \
            the others are done.
            """,
        subcommands: [BatchEvaluate.self, BatchVerify.self, BatchInfer.self])
}

/// The part every batch command shares: the inputs, the ranks, the gathered JSON.
struct BatchOptions: ParsableArguments {
    @Argument(help: "Model files, or folders of them.") var paths: [String]
    @Option(help: "Write the gathered results here (atomically, by rank 0).") var json: String
    @OptionGroup var mpiOptions: MPIOptions

    /// The files of `paths`, folders expanded to their files ending in `suffix`, sorted.
    func files(suffix: String) throws -> [String] {
        try paths.flatMap { path -> [String] in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw ValidationError("\(path): no such file or folder")
            }
            guard isFolder.boolValue else { return [path] }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(suffix) }
                .sorted()
            return names.map { (path as NSString).appendingPathComponent($0) }
        }
    }

    /// Runs `work` on this rank's share of `files`, gathers every rank's results on rank 0 in
    /// input order and writes `{task, ranks, seconds, results: [...]}`; throws after writing if
    /// a file failed.
    func run(
        task: String, suffix: String, setUp: (any Communicator) throws -> Void = { _ in },
        _ work: (String) throws -> [String: Any]
    ) throws {
        let files = try self.files(suffix: suffix)
        guard !files.isEmpty else { throw ValidationError("no \(suffix) files in \(paths.joined(separator: ", "))") }
        var failure: BatchFailure?
        try mpiOptions.run { c in
            try setUp(c)
            let start = Date()
            var mine: [[String: Any]] = []
            for i in stride(from: c.rank, to: files.count, by: c.size) {
                let t = Date()
                var entry: [String: Any] = ["index": i, "path": files[i]]
                do {
                    entry["result"] = try work(files[i])
                } catch {
                    entry["error"] = "\(error)"
                }
                entry["seconds"] = Date().timeIntervalSince(t)
                entry["rank"] = c.rank
                mine.append(entry)
            }
            let gathered = try c.gather(Array(try JSONSerialization.data(withJSONObject: mine)))
            guard c.isRoot else { return }
            var results = [[String: Any]](repeating: [:], count: files.count)
            for bytes in gathered {
                guard let entries = try JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else {
                    throw DistributedError.communication("a rank sent results that are not a JSON array")
                }
                for e in entries { if let i = e["index"] as? Int, results.indices.contains(i) { results[i] = e } }
            }
            let failed = results.filter { $0["error"] != nil }.count
            try writeJSONObject(
                [
                    "task": task, "ranks": c.size, "files": files.count, "failed": failed,
                    "seconds": Date().timeIntervalSince(start), "results": results
                ], to: json)
            print(
                "\(task): \(files.count - failed) of \(files.count) files done on \(c.size) rank(s); results in \(json)"
            )
            if failed > 0 {
                let first = results.first { $0["error"] != nil }
                failure = BatchFailure(
                    description:
                        "\(failed) file(s) failed, the first \(first?["path"] ?? "") (\(first?["error"] ?? ""))")
            }
        }
        // After MPI is finalised: a failed file is no reason to abort the other ranks.
        if let failure { throw failure }
    }
}

/// Some files of a batch failed (each has its error in the JSON).
struct BatchFailure: Error, CustomStringConvertible {
    var description: String
}

/// `value` as a JSON object (through its `Encodable` form).
func jsonObject<V: Encodable>(_ value: V) throws -> [String: Any] {
    let data = try JSONEncoder().encode(value)
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
}

/// What `batch evaluate` and `batch verify` share: the test data every rank loads once, and
/// each checkpoint read and run against it.
struct CheckpointBatchOptions: ParsableArguments {
    @OptionGroup var batch: BatchOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Use only the first N test images (0: all).") var testLimit = 0
    @Option(help: "Data-parallel workers on each rank.") var workers = 1
    @OptionGroup var limitOptions: LimitOptions

    func run(task: String, _ work: (Checkpoint, ImageSet) throws -> [String: Any]) throws {
        var test: ImageSet?
        try batch.run(
            task: task, suffix: ".json",
            setUp: { _ in
                if workers > 1 { BLASInfo.setThreadCount(1) }
                test = try dataOptions.load(trainLimit: 1, testLimit: testLimit, limits: try limitOptions.limits()).test
            }
        ) { path in
            guard let test else { return [:] }
            let c = try Checkpoint.read(from: path, limits: try limitOptions.limits())
            var object = try work(c, test)
            (object["model"], object["epochs"]) = (c.architecture.name, c.epoch)
            return object
        }
    }
}

struct BatchEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "The test error of every checkpoint (as drmm evaluate).")
    @OptionGroup var options: CheckpointBatchOptions

    func run() throws {
        try options.run(task: "evaluate") { c, test in
            let net = try c.network()
            let (error, predictions) = try Evaluation.classify(net, test, workers: options.workers)
            return [
                "testError": error, "testImages": test.count,
                "confusion": Evaluation.confusion(
                    predictions: predictions, labels: test.labels, classes: net.architecture.classes)
            ]
        }
    }
}

struct BatchVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Certify every checkpoint as max-sum inference in its DRMM (as drmm verify).")
    @OptionGroup var options: CheckpointBatchOptions
    @Option(help: "Images searched for better configurations when E2 is violated.") var searchImages = 3
    @Option(help: "Unit moves per searched image.") var searchMoves = 300

    func run() throws {
        try options.run(task: "verify") { c, test in
            let r = try NetworkCertificate.certify(
                try c.network(), on: test, searchImages: searchImages, searchMoves: searchMoves,
                workers: options.workers)
            var object = try jsonObject(r)
            object["certified"] = r.provesExactMaxSum
            return object
        }
    }
}

struct BatchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Inference on every UAI or libDAI model (as drmm infer --json).")
    @OptionGroup var batch: BatchOptions
    @OptionGroup var options: InferOptions
    @Option(help: "Extension of the model files taken from folders.") var suffix = ".uai"
    @Flag(help: "Use the evidence file <model>.evid beside a model when there is one.") var evidence = false

    func run() throws {
        let limits = try options.limitOptions.limits()
        try batch.run(task: "infer \(options.task.rawValue) \(options.algorithm.rawValue)", suffix: suffix) { path in
            let graph = try ModelFile.read(path: path, limits: limits)
            let evidencePath = path + ".evid"
            let ev =
                evidence && FileManager.default.fileExists(atPath: evidencePath)
                ? try UAIFormat.readEvidence(path: evidencePath, for: graph) : Evidence()
            var object = try options.answer(graph, ev, model: path, verbose: false).json
            if !ev.states.isEmpty { object["evidence"] = .string(evidencePath) }
            return object.mapValues(\.plain)
        }
    }
}

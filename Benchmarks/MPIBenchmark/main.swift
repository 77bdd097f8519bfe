// The cost of the one reduction of a distributed EG step: MPI_Allreduce (in place, Float, sum)
// of the buffer a Conv-Small step reduces, and of a range of sizes, on the ranks of this job.
//
//   swift build -c release --traits MPI --product MPIBenchmark
//   mpirun -np 2 .build/release/MPIBenchmark [--json FILE]
//
// Prints one JSON object: the Conv-Small buffer (values and bytes per step), and per size the
// median, minimum and maximum seconds of one MPI_Allreduce over the repeats.
import DRMMLearning
import Foundation

#if MPI
import DRMMMPI

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

let c = try MPICommunicator(timeout: 120)
let convSmall = try RenderingNetwork<Float>(
    architecture: Architecture.presets["drmm5"]!.batchNormalized(folded: false), seed: 1)
let stepValues = EGTrainer.reducedValuesPerStep(convSmall)
var sizes = [stepValues]
var n = 256
while n <= 1 << 24 {
    sizes.append(n)
    n *= 4
}
var rows: [[String: Any]] = []
for count in sizes {
    var buffer = [Float](repeating: 1, count: count)
    let repeats = max(10, min(200, (1 << 26) / max(1, count)))
    for _ in 0..<3 { try c.sum(&buffer) }  // warm-up
    var times: [Double] = []
    for _ in 0..<repeats {
        var one = [0.0]
        try c.sum(&one)  // start together
        let t = DispatchTime.now().uptimeNanoseconds
        try c.sum(&buffer)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    rows.append([
        "values": count, "bytes": count * 4, "repeats": repeats, "medianSeconds": median(times),
        "minSeconds": times.min() ?? 0, "maxSeconds": times.max() ?? 0,
        "gigabytesPerSecond": Double(count * 4) / median(times) / 1e9
    ])
}
// What every rank repeats for the whole global batch: gathering its images (the per-row copy
// ImageSet.gather makes, from a 60,000-image MNIST-sized set) and the Adam step.
let imageSize = 784, setSize = 60_000, gathered = 51_200
let set = [Float](repeating: 0.5, count: setSize * imageSize)
var batch: [Float] = []
batch.reserveCapacity(gathered * imageSize)
let order = (0..<gathered).map { ($0 &* 7919) % setSize }
var gatherTimes: [Double] = []
for _ in 0..<5 {
    batch.removeAll(keepingCapacity: true)
    let t = DispatchTime.now().uptimeNanoseconds
    for i in order { batch.append(contentsOf: set[(i * imageSize)..<((i + 1) * imageSize)]) }
    gatherTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 / Double(gathered))
}
var state = OptimizerState(parameterCount: convSmall.parameters.count)
var parameters = convSmall.parameters
let gradient = [Float](repeating: 1e-3, count: parameters.count)
var adamTimes: [Double] = []
for _ in 0..<50 {
    let t = DispatchTime.now().uptimeNanoseconds
    state.apply(Optimizer(), rate: 1e-3, parameters: &parameters, gradient: gradient, decayed: [])
    adamTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
}
if c.isRoot {
    let report: [String: Any] = [
        "gatherSecondsPerImage": median(gatherTimes), "adamStepSeconds": median(adamTimes),
        "ranks": c.size, "convSmallParameters": convSmall.parameters.count, "convSmallValuesPerStep": stepValues,
        "convSmallBytesPerStep": stepValues * 4, "allreduce": rows
    ]
    let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--json"), i + 1 < args.count {
        try data.write(to: URL(fileURLWithPath: args[i + 1]), options: .atomic)
    }
    print(String(decoding: data, as: UTF8.self))
}
c.finalize()
#else
FileHandle.standardError.write(Data("MPIBenchmark needs the trait: swift build --traits MPI\n".utf8))
exit(2)
#endif

// Bottom-up DRMM inference (= the DCN forward pass) of the 5-layer MNIST architecture
// (Conv-Small, spec §6.5) on batches of 100 28×28 Float32 images, next to OpenBLAS sgemm's
// peak on this machine.
//
//   OPENBLAS_NUM_THREADS=2 swift run -c release DRMMBenchmark [--batch 100] [--repeats 30]
import DRMM
import Foundation
import NumericalCore

let args = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}
let batch = option("--batch", 100), repeats = option("--repeats", 30)

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

// Conv-Small: conv5×5·32 full, pool 2; conv3×3·64 valid; conv3×3·64 full, pool 2;
// conv3×3·128 valid; conv1×1·10 valid; global mean-pool; dense 10.
let convSmall = [
    LayerSpec(channels: 32, kernel: 5, padding: .full, pool: 2),
    LayerSpec(channels: 64, kernel: 3, padding: .valid),
    LayerSpec(channels: 64, kernel: 3, padding: .full, pool: 2),
    LayerSpec(channels: 128, kernel: 3, padding: .valid),
    LayerSpec(channels: 10, kernel: 1, padding: .valid)
]
var net = try ConvNet(inputShape: [1, 28, 28], layers: convSmall, classes: 10, meanPoolTop: true, seed: 1)
net.workers = option("--workers", 1)
let rng = RandomSource(seed: 7)
let images = (0..<(batch * 784)).map { _ in Float(rng.uniform()) }
let ws = ConvNet.Workspace()
for _ in 0..<3 { _ = try net.forward(images, count: batch, workspace: ws) }
var times: [Double] = []
for _ in 0..<repeats { times.append(try seconds { _ = try net.forward(images, count: batch, workspace: ws) }) }
let t = median(times)
let gflops = net.flopsPerImage * Double(batch) / t / 1e9

// sgemm peak on as many cores as the forward used.
let blasThreads = BLASInfo.threadCount
BLASInfo.setThreadCount(max(net.workers, blasThreads))
let n = 1024
let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 0.5, count: n * n)
var c = [Float](repeating: 0, count: n * n)
var gemmTimes: [Double] = []
for i in 0..<12 {
    let s = seconds {
        Float.gemm(
            transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0,
            c: &c, ldc: n)
    }
    if i >= 2 { gemmTimes.append(s) }
}
let peak = 2 * pow(Double(n), 3) / median(gemmTimes) / 1e9
let peakThreads = BLASInfo.threadCount
BLASInfo.setThreadCount(blasThreads)

print(
    "forward workers: \(net.workers), BLAS threads: \(BLASInfo.threadCount); batch \(batch); \(repeats) timed runs "
        + "(median)"
)
print(
    String(
        format:
            "Conv-Small forward (DRMM bottom-up max-sum), Float32: %.2f ms per batch, %.0f images/s, %.1f GFLOP/s "
            + "(%.1f MFLOP per image)",
        t * 1000, Double(batch) / t, gflops, net.flopsPerImage / 1e6))
print(
    String(
        format: "OpenBLAS sgemm %d×%d×%d on %d thread(s): %.1f GFLOP/s (forward reaches %.0f%% of it)", n, n, n,
        peakThreads, peak, 100 * gflops / peak))

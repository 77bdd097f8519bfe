// Release-build benchmark of the FactorGraph module.
//
//   swift run -c release FactorGraphBenchmark [--repeats N] [--json FILE]
//   swift run -c release FactorGraphBenchmark memory      # 100×100 grid, peak RSS
//   swift run -c release FactorGraphBenchmark order       # min-fill order on 10^4–10^6 variables
//   swift run -c release FactorGraphBenchmark large [SIDE] [THREADS…] [--damping D] [--max-iterations N]
//                                                         # parallel BP on a SIDE×SIDE grid (1000)
//
// Loopy BP on libDAI's Ising grids (tol 1e-9, sequential and parallel, every semiring) and
// exact inference on the UAI 2014 instances; medians over repeated runs.
import Foundation
import FactorGraph
import NumericalCore

let arguments = CommandLine.arguments.dropFirst()
func value(of flag: String) -> String? {
    guard let i = arguments.firstIndex(of: flag), arguments.index(after: i) < arguments.endIndex else { return nil }
    return arguments[arguments.index(after: i)]
}
let fixtures = value(of: "--fixtures") ?? "Tests/FactorGraphTests/Fixtures"
let repeats = Int(value(of: "--repeats") ?? "") ?? 11

func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// A random binary Ising grid like libDAI's ISINGGAUSS (σ_w = 0.5, σ_θ = 0.1).
func isingGrid(side: Int, seed: UInt64) throws -> FactorGraph {
    let rng = RandomSource(seed: seed)
    var g = FactorGraph()
    for _ in 0..<(side * side) { g.addCategorical(cardinality: 2) }
    for r in 0..<side {
        for c in 0..<side {
            let v = r * side + c
            let th = rng.gaussian(standardDeviation: 0.1)
            try g.addFactor(scope: [v], logValues: [th, -th])
            if c + 1 < side {
                let w = rng.gaussian(standardDeviation: 0.5);
                try g.addFactor(scope: [v, v + 1], logValues: [w, -w, -w, w])
            }
            if r + 1 < side {
                let w = rng.gaussian(standardDeviation: 0.5);
                try g.addFactor(scope: [v, v + side], logValues: [w, -w, -w, w])
            }
        }
    }
    return g
}

if arguments.first == "memory" {
    let before = peakResidentMegabytes()
    let g = try isingGrid(side: 100, seed: 42)
    var bp = BeliefPropagation()
    bp.options.schedule = .sequential
    bp.options.tolerance = 1e-9
    let (r, seconds) = try time { try bp.run(g, semiring: SumProduct.self) }
    print(
        String(
            format:
                "100×100 binary grid, sequential sum-product BP: %.3f s, %d iterations, converged %@, peak RSS %.1f "
                + "MB (%.1f MB before building the graph)",
            seconds, r.iterations, r.converged ? "yes" : "no", peakResidentMegabytes(), before))
    exit(0)
}

if arguments.first == "large" {
    // Parallel (flooding) sum-product BP on a side×side grid: build time, run time per thread
    // count, iterations, peak RSS. The answers of every thread count are compared bit for bit.
    let rest = Array(arguments.dropFirst())
    let side = rest.first.flatMap { Int($0) } ?? 1000
    let threadCounts = rest.dropFirst().prefix { !$0.hasPrefix("--") }.compactMap { Int($0) }
    let before = peakResidentMegabytes()
    let (g, build) = try time { try isingGrid(side: side, seed: 42) }
    print(
        String(
            format: "%d×%d grid: %d variables, %d factors, built in %.2f s (peak RSS %.0f MB, %.0f MB before)", side,
            side, g.variableCount, g.factors.count, build, peakResidentMegabytes(), before))
    var reference: [[Double]]? = nil
    for threads in threadCounts.isEmpty ? [1, 2] : threadCounts {
        var bp = BeliefPropagation()
        bp.options.schedule = .parallel
        bp.options.tolerance = 1e-9
        bp.options.maxIterations = Int(value(of: "--max-iterations") ?? "") ?? 1000
        bp.options.damping = Double(value(of: "--damping") ?? "") ?? 0
        bp.options.threads = threads
        let (r, seconds) = try time { try bp.run(g, semiring: SumProduct.self) }
        let same = reference.map { $0 == r.marginals } ?? true
        if reference == nil { reference = r.marginals }
        print(
            String(
                format:
                    "threads %d: %.2f s, %d iterations, converged %@, last change %.2e, log Z %.4f, %.2e message "
                    + "updates/s, peak RSS %.0f MB, marginals identical to the first run: %@",
                threads, seconds, r.iterations, r.converged ? "yes" : "no", r.maxDifference, r.logPartition ?? .nan,
                Double(r.messageUpdates) / seconds, peakResidentMegabytes(), same ? "yes" : "NO"))
    }
    exit(0)
}

if arguments.first == "order" {
    // The min-fill elimination order on 10^4–10^6 variables: isolated variables, a random tree
    // (each variable joined to a random earlier one), and the refusal of a 100×100 grid.
    print("| graph | variables | order (s, median of 3) | largest clique |")
    print("|---|---|---|---|")
    for n in [10_000, 100_000, 1_000_000] {
        var isolated = FactorGraph()
        for _ in 0..<n { isolated.addCategorical(cardinality: 2) }
        var tree = isolated
        let rng = RandomSource(seed: 9)
        for v in 1..<n { try tree.addFactor(scope: [rng.integer(below: v), v], logValues: [0, 1, 1, 0]) }
        for (name, g) in [("isolated", isolated), ("random tree", tree)] {
            var seconds: [Double] = []
            var clique = 0
            for _ in 0..<3 {
                let (r, s) = try time { try VariableElimination().eliminationOrder(g) }
                seconds.append(s)
                clique = r.largestClique
            }
            print("| \(name) | \(n) | \(String(format: "%.3f", median(seconds))) | \(clique) |")
        }
    }
    let grid = try isingGrid(side: 100, seed: 42)
    let (refusal, s) = time { () -> String in
        do { _ = try VariableElimination().eliminationOrder(grid); return "ordered" } catch { return "\(error)" }
    }
    print(
        "| 100×100 grid, refused | 10000 | \(String(format: "%.3f", s)) | "
            + "\(refusal.contains("2^27") ? "over 2^26, refused" : refusal) |"
    )
    exit(0)
}

struct Row: Codable {
    var model: String, method: String, schedule: String
    var seconds: Double, iterations: Int, messageUpdatesPerSecond: Double, converged: Bool, value: Double?
}
var rows: [Row] = []

print("BLAS threads: \(BLASInfo.threadCount); repeats: \(repeats) (median reported)")
print("")
print("| model | semiring | schedule | median s | iterations | converged | message updates/s | log Z or MAP score |")
print("|---|---|---|---|---|---|---|---|")

@MainActor func benchBP<S: Semiring>(
    _ name: String, _ g: FactorGraph, _ s: S.Type, _ schedule: BeliefPropagation.Schedule, repeats: Int
) throws {
    var bp = BeliefPropagation()
    bp.options.schedule = schedule
    bp.options.tolerance = 1e-9
    // Max-sum oscillates on these frustrated grids (as max-product generally may on loopy
    // graphs); it is capped at 1000 iterations and reported as not converged.
    bp.options.maxIterations = S.isMaximizing ? 1000 : 10_000
    var times: [Double] = []
    var last: BeliefPropagationResult?
    for _ in 0..<repeats {
        let (r, t) = try time { try bp.run(g, semiring: S.self) }
        times.append(t); last = r
    }
    let r = last!
    let m = median(times)
    let value = r.logPartition ?? r.map?.logScore ?? 0
    rows.append(
        Row(
            model: name, method: S.name, schedule: schedule.rawValue, seconds: m, iterations: r.iterations,
            messageUpdatesPerSecond: Double(r.messageUpdates) / m, converged: r.converged, value: value))
    print(
        String(
            format: "| %@ | %@ | %@ | %.4f | %d | %@ | %.3g | %.4f |", name, S.name, schedule.rawValue, m, r.iterations,
            r.converged ? "yes" : "no", Double(r.messageUpdates) / m, value))
}

for (name, file) in [("ising10", "ising/ising10.fg"), ("ising20", "ising/ising20.fg"), ("ising50", "ising/ising50.fg")]
{
    let g = try LibDAIFormat.read(path: "\(fixtures)/\(file)").graph
    let reps = name == "ising50" ? max(3, repeats / 2) : repeats
    for schedule in [BeliefPropagation.Schedule.sequential, .parallel] {
        try benchBP(name, g, SumProduct.self, schedule, repeats: reps)
        try benchBP(name, g, LogSumProduct.self, schedule, repeats: reps)
        try benchBP(name, g, MaxSum.self, schedule, repeats: reps)
    }
}

print("")
print("| instance | task | median s | value |")
print("|---|---|---|---|")
for name in ["Alchemy_11", "CSP_12", "DBN_11", "Grids_12", "Promedus_24", "Segmentation_11"] {
    let g = try UAIFormat.readModel(path: "\(fixtures)/uai2014/\(name).uai")
    let ev = try UAIFormat.readEvidence(path: "\(fixtures)/uai2014/\(name).uai.evid", for: g)
    let ve = VariableElimination()
    let reps = max(1, repeats / 4)
    var pr: [Double] = [], mar: [Double] = [], mpe: [Double] = []
    var logZ = 0.0, score = 0.0
    for _ in 0..<reps {
        let (z, t1) = try time { try ve.logPartition(g, evidence: ev) }
        let (_, t2) = try time { try ve.marginals(g, evidence: ev) }
        let (m, t3) = try time { try ve.mostProbableAssignment(g, evidence: ev) }
        pr.append(t1); mar.append(t2); mpe.append(t3); logZ = z; score = m.logScore
    }
    for (task, ts, v) in [("PR", pr, logZ / log(10)), ("MAR", mar, Double.nan), ("MPE", mpe, score / log(10))] {
        rows.append(
            Row(
                model: name, method: "variable elimination", schedule: task, seconds: median(ts), iterations: 1,
                messageUpdatesPerSecond: 0, converged: true, value: v.isNaN ? nil : v))
        print(
            String(
                format: "| %@ | %@ | %.3f | %@ |", name, task, median(ts),
                v.isNaN ? "" : String(format: "log10 %.4f", v)))
    }
}

if let path = value(of: "--json") {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(String(decoding: try enc.encode(rows), as: UTF8.self), to: path)
}

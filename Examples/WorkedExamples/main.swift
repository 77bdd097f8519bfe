// Two worked examples of the FactorGraph module, each checked against an exact reference as
// it runs:
//
//   swift run -c release WorkedExamples
//
// 1. A hidden Markov model decoded by max-sum (the Viterbi path) on the chain's factor graph.
// 2. A Gaussian random walk observed in noise, smoothed by Gaussian belief propagation (on a
//    chain this is the Rauch–Tung–Striebel smoother).
import Foundation
import FactorGraph
import NumericalCore

// MARK: 1. HMM: which days were rainy?

let states = ["sunny", "cloudy", "rainy"]
let observationNames = ["dry", "damp", "soggy"]
let initial = [0.5, 0.3, 0.2]
let transition = [
    [0.7, 0.2, 0.1],  // from sunny
    [0.3, 0.4, 0.3],  // from cloudy
    [0.2, 0.3, 0.5]
]  // from rainy
let emission = [
    [0.7, 0.2, 0.1],  // sunny: dry, damp, soggy
    [0.3, 0.4, 0.3],
    [0.1, 0.3, 0.6]
]
let observed = [0, 1, 2, 2, 1, 0, 0, 2, 2, 2, 1, 0]

var hmm = FactorGraph()
let days = observed.indices.map { hmm.addCategorical(cardinality: 3, name: "day\($0)") }
try hmm.addFactor(scope: [days[0]], values: initial)
for t in 1..<days.count {
    try hmm.addFactor(scope: [days[t - 1], days[t]], values: transition.flatMap { $0 })
}
// Each observation is evidence on a child; summing it out of p(o | s) leaves the column
// p(o_t | s_t) as a unary factor on the hidden state.
for (t, o) in observed.enumerated() {
    try hmm.addFactor(scope: [days[t]], values: emission.map { $0[o] })
}

let viterbi = try BeliefPropagation().run(hmm, semiring: MaxSum.self)
let map = viterbi.map!
let posterior = try BeliefPropagation().run(hmm, semiring: LogSumProduct.self)
let exact = try VariableElimination().mostProbableAssignment(hmm, evidence: .none)

print("Hidden Markov model, \(observed.count) days (a chain, so max-sum is exact: \(map.isExact))")
print("day  observed  Viterbi  P(rainy | all observations)")
for t in observed.indices {
    let o = observationNames[observed[t]].padding(toLength: 8, withPad: " ", startingAt: 0)
    let s = states[map.states[t]].padding(toLength: 7, withPad: " ", startingAt: 0)
    print(String(format: "%3d  ", t) + o + "  " + s + String(format: "  %.3f", posterior.marginals[t][2]))
}
print(
    String(
        format: "log p(path, observations) = %.6f; variable elimination's optimum: %.6f", map.logScore, exact.logScore))
print(String(format: "log p(observations) = %.6f", posterior.logPartition!))
guard abs(map.logScore - exact.logScore) < 1e-9 else { print("MISMATCH"); exit(1) }

// MARK: 2. Gaussian chain: smoothing a noisy random walk

let n = 50
let processVariance = 0.1, noiseVariance = 1.0
let rng = RandomSource(seed: 2026)
var truth = [0.0]
for _ in 1..<n { truth.append(truth.last! + rng.gaussian(standardDeviation: processVariance.squareRoot())) }
let measurements = truth.map { $0 + rng.gaussian(standardDeviation: noiseVariance.squareRoot()) }

var chain = FactorGraph()
let x = try (0..<n).map { try chain.addGaussian(dimension: 1, name: "x\($0)") }
// Prior x₀ ~ N(0, 1); each step x_t − x_{t−1} ~ N(0, q): precision (1/q)[[1, −1], [−1, 1]].
try chain.addGaussianFactor(scope: [x[0]], precision: Matrix.diagonal([1]), potential: [0])
let q = 1 / processVariance
for t in 1..<n {
    try chain.addGaussianFactor(scope: [x[t - 1], x[t]], precision: try Matrix([[q, -q], [-q, q]]), potential: [0, 0])
}
// Each measurement y_t ~ N(x_t, r) contributes precision 1/r and potential y_t / r.
for t in 0..<n {
    try chain.addGaussianFactor(
        scope: [x[t]], precision: Matrix.diagonal([1 / noiseVariance]), potential: [measurements[t] / noiseVariance])
}
let smoothed = try GaussianBeliefPropagation().run(chain)

// The same posterior by one dense solve of the joint information form (LAPACK).
var J = Matrix(rows: n, columns: n), h = [Double](repeating: 0, count: n)
J[0, 0] += 1
for t in 1..<n { J[t - 1, t - 1] += q; J[t, t] += q; J[t - 1, t] -= q; J[t, t - 1] -= q }
for t in 0..<n { J[t, t] += 1 / noiseVariance; h[t] += measurements[t] / noiseVariance }
let chol = try Cholesky(J)
let denseMean = try chol.solve(h), denseCov = try chol.inverse()
var worst = 0.0
for t in 0..<n {
    let m = smoothed.marginals[x[t]]!
    worst = max(worst, abs(m.mean[0] - denseMean[t]), abs(m.covariance[0, 0] - denseCov[t, t]))
}
func rms(_ a: [Double]) -> Double { (a.map { $0 * $0 }.reduce(0, +) / Double(a.count)).squareRoot() }
let smoothedMeans = (0..<n).map { smoothed.marginals[x[$0]]!.mean[0] }
print("")
print("Gaussian chain of \(n) steps (a tree, so Gaussian BP is exact: \(smoothed.isExact))")
print(
    String(
        format: "RMS error of the raw measurements: %.3f; of the smoothed means: %.3f",
        rms(zip(measurements, truth).map { $0 - $1 }), rms(zip(smoothedMeans, truth).map { $0 - $1 })))
print(String(format: "largest difference from the dense LAPACK solve (means and variances): %.2e", worst))
guard worst < 1e-9 else { print("MISMATCH"); exit(1) }

import Testing
import NumericalCore
import FactorGraph

/// Gaussian BP against a dense Cholesky solve of the joint information form `J μ = h`,
/// `Σ = J⁻¹`, assembled here independently of the library's message code.
@Suite("Gaussian belief propagation")
struct GaussianBeliefPropagationTests {
    /// The joint (J, h) over the free variables, with observed ones conditioned out.
    func denseJoint(_ g: FactorGraph, observed: [Int: [Double]] = [:]) throws -> (
        free: [Int], offset: [Int: Int], J: Matrix, h: [Double]
    ) {
        var offset = [Int: Int](), free: [Int] = [], D = 0
        for (v, variable) in g.variables.enumerated() where observed[v] == nil {
            offset[v] = D; free.append(v); D += variable.dimension!
        }
        var J = Matrix(rows: D, columns: D), h = [Double](repeating: 0, count: D)
        for f in g.gaussianFactors {
            let fo = f.blockOffsets
            for (i, v) in f.scope.enumerated() {
                for a in 0..<f.dimensions[i] {
                    guard let rv = offset[v] else { continue }
                    h[rv + a] += f.potential[fo[i] + a]
                    for (j, u) in f.scope.enumerated() {
                        for b in 0..<f.dimensions[j] {
                            let entry = f.precision[fo[i] + a, fo[j] + b]
                            if let ru = offset[u] {
                                J[rv + a, ru + b] += entry
                            } else {
                                h[rv + a] -= entry * observed[u]![b]
                            }
                        }
                    }
                }
            }
        }
        return (free, offset, J, h)
    }

    /// A random positive-semidefinite `n × n` block `AᵀA`.
    func psd(_ n: Int, rng: RandomSource, scale: Double) -> Matrix {
        var a = Matrix(rows: n, columns: n)
        for i in a.elements.indices { a.elements[i] = rng.gaussian(standardDeviation: scale) }
        return try! a.transposed * a
    }

    func randomTree(seed: UInt64) throws -> FactorGraph {
        let rng = RandomSource(seed: seed)
        var g = FactorGraph()
        let n = 2 + rng.integer(below: 30)
        for _ in 0..<n { try g.addGaussian(dimension: 1 + rng.integer(below: 3)) }
        for v in 0..<n {
            let d = g.variables[v].dimension!
            var J = psd(d, rng: rng, scale: 0.5)
            for i in 0..<d { J[i, i] += 1 }
            try g.addGaussianFactor(scope: [v], precision: J, potential: (0..<d).map { _ in rng.gaussian() })
            if v > 0 {
                let p = rng.integer(below: v)
                let dp = g.variables[p].dimension!
                try g.addGaussianFactor(
                    scope: [p, v], precision: psd(dp + d, rng: rng, scale: 0.7),
                    potential: (0..<(dp + d)).map { _ in rng.gaussian() })
            }
        }
        return g
    }

    @Test("exact on trees: means and covariances equal the dense solve", arguments: Array(UInt64(1)...25))
    func tree(seed: UInt64) throws {
        let g = try randomTree(seed: seed)
        let r = try GaussianBeliefPropagation().run(g)
        #expect(r.isExact)
        let (free, offset, J, h) = try denseJoint(g)
        let chol = try Cholesky(J)
        let mu = try chol.solve(h), cov = try chol.inverse()
        for v in free {
            let m = try #require(r.marginals[v])
            let o = offset[v]!
            for a in m.mean.indices {
                #expect(abs(m.mean[a] - mu[o + a]) <= 1e-8 * max(1, abs(mu[o + a])), "seed \(seed) var \(v)")
                for b in m.mean.indices { #expect(abs(m.covariance[a, b] - cov[o + a, o + b]) <= 1e-8) }
            }
        }
    }

    @Test("observations condition the tree exactly", arguments: Array(UInt64(100)...110))
    func treeWithEvidence(seed: UInt64) throws {
        let g = try randomTree(seed: seed)
        let rng = RandomSource(seed: seed)
        var ev = Evidence()
        for v in 0..<g.variableCount where rng.uniform() < 0.3 {
            ev.observations[v] = (0..<g.variables[v].dimension!).map { _ in rng.gaussian() }
        }
        let r = try GaussianBeliefPropagation().run(g, evidence: ev)
        let (free, offset, J, h) = try denseJoint(g, observed: ev.observations)
        guard !free.isEmpty else { return }
        let chol = try Cholesky(J)
        let mu = try chol.solve(h), cov = try chol.inverse()
        for v in free {
            let m = try #require(r.marginals[v])
            for a in m.mean.indices {
                #expect(abs(m.mean[a] - mu[offset[v]! + a]) <= 1e-8 * max(1, abs(mu[offset[v]! + a])))
                #expect(abs(m.covariance[a, a] - cov[offset[v]! + a, offset[v]! + a]) <= 1e-8)
            }
        }
        for (v, y) in ev.observations { #expect(r.marginals[v]?.mean == y) }
    }

    /// Scalar variables on a grid with chords; `J` strictly diagonally dominant, hence
    /// walk-summable, so loopy Gaussian BP converges and its means are exact. Its variances
    /// are the usual loopy approximation: the test reports their error and only bounds it.
    @Test(
        "loopy, diagonally dominant: converges, means exact", arguments: [UInt64(1), 2, 3, 4, 5],
        [BeliefPropagation.Schedule.sequential, .parallel])
    func loopy(seed: UInt64, schedule: BeliefPropagation.Schedule) throws {
        let rng = RandomSource(seed: seed)
        let side = 6
        var g = FactorGraph()
        for _ in 0..<(side * side) { try g.addGaussian() }
        var edges: [(Int, Int)] = []
        for r in 0..<side {
            for c in 0..<side {
                let v = r * side + c
                if c + 1 < side { edges.append((v, v + 1)) }
                if r + 1 < side { edges.append((v, v + side)) }
            }
        }
        for _ in 0..<8 {
            let a = rng.integer(below: side * side), b = rng.integer(below: side * side);
            if a != b { edges.append((min(a, b), max(a, b))) }
        }
        var rowSum = [Double](repeating: 0, count: side * side)
        for (a, b) in edges {
            let w = rng.uniform(-0.5, 0.5)
            rowSum[a] += abs(w); rowSum[b] += abs(w)
            try g.addGaussianFactor(scope: [a, b], precision: try Matrix([[0, w], [w, 0]]), potential: [0, 0])
        }
        for v in 0..<(side * side) {
            try g.addGaussianFactor(
                scope: [v], precision: try Matrix([[rowSum[v] + 0.5 + rng.uniform()]]), potential: [rng.gaussian()])
        }
        var bp = GaussianBeliefPropagation()
        bp.options.schedule = schedule
        bp.options.tolerance = 1e-13
        let r = try bp.run(g)
        #expect(r.converged && !r.isExact)
        let (_, _, J, h) = try denseJoint(g)
        let chol = try Cholesky(J)
        let mu = try chol.solve(h), cov = try chol.inverse()
        var worstVariance = 0.0
        for v in 0..<(side * side) {
            let m = try #require(r.marginals[v])
            #expect(abs(m.mean[0] - mu[v]) <= 1e-8 * max(1, abs(mu[v])), "seed \(seed) var \(v)")
            worstVariance = max(worstVariance, abs(m.covariance[0, 0] - cov[v, v]) / cov[v, v])
        }
        print(
            "loopy Gaussian BP seed \(seed) \(schedule): \(r.iterations) iterations, worst relative variance error "
                + "\(worstVariance)"
        )
        #expect(worstVariance < 0.2)
    }

    @Test("an improper model is a typed error, not a crash")
    func improper() throws {
        var g = FactorGraph()
        let a = try g.addGaussian(), b = try g.addGaussian()
        try g.addGaussianFactor(scope: [a, b], precision: try Matrix([[0, 1], [1, 0]]), potential: [0, 0])
        #expect(throws: FactorGraphError.self) { try GaussianBeliefPropagation().run(g) }
    }
}

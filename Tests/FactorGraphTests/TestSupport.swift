import Foundation
import NumericalCore
import FactorGraph

/// Paths of the bundled fixtures (copied from libDAI's tests, the UAI 2014 competition, and
/// libDAI-generated Ising grids).
enum Fixture {
    static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }
    static func path(_ relative: String) -> String { root + "/" + relative }
    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
}

/// Seeded random models for tests.
enum RandomModels {
    /// A random log-potential table; entries are zero (−∞) with probability `zeroRate`, except
    /// entry 0, so that the all-zeros configuration keeps the model's Z positive.
    static func table(_ size: Int, rng: RandomSource, zeroRate: Double, scale: Double = 1) -> [Double] {
        var t = (0..<size).map { _ in
            rng.uniform() < zeroRate ? -Double.infinity : rng.gaussian(standardDeviation: scale)
        }
        if t[0] == -.infinity { t[0] = rng.gaussian(standardDeviation: scale) }
        return t
    }

    /// A random forest: `n` variables with cardinalities in 1...6 (their product capped at
    /// `maxStates` so brute force stays possible), joined by pairwise and ternary factors into
    /// trees (each new variable or pair attaches to one earlier variable; with probability
    /// `newTreeRate` it starts a new tree), plus random unary factors.
    static func forest(
        n: Int, rng: RandomSource, zeroRate: Double = 0.15, newTreeRate: Double = 0.1, maxStates: Int = 1 << 16
    ) -> FactorGraph {
        var g = FactorGraph()
        var states = 1
        for _ in 0..<n {
            var c = 1 + rng.integer(below: 6)
            while c > 1 && states * c > maxStates { c -= 1 }
            states *= c
            g.addCategorical(cardinality: c)
        }
        var v = 1
        while v < n {
            if rng.uniform() < newTreeRate { v += 1; continue }
            let parent = rng.integer(below: v)
            if v + 1 < n && rng.uniform() < 0.3 {
                let scope = [v, parent, v + 1]  // a ternary factor: parent with two new variables
                let size = scope.map { g.cardinalities[$0] }.reduce(1, *)
                try! g.addFactor(scope: scope, logValues: table(size, rng: rng, zeroRate: zeroRate))
                v += 2
            } else {
                let scope = rng.uniform() < 0.5 ? [parent, v] : [v, parent]
                let size = scope.map { g.cardinalities[$0] }.reduce(1, *)
                try! g.addFactor(scope: scope, logValues: table(size, rng: rng, zeroRate: zeroRate))
                v += 1
            }
        }
        for u in 0..<n where rng.uniform() < 0.5 {
            try! g.addFactor(scope: [u], logValues: table(g.cardinalities[u], rng: rng, zeroRate: zeroRate))
        }
        return g
    }

    /// A random loopy graph: a ring plus random chords, pairwise factors with coupling
    /// strength `coupling`, unary fields.
    static func loopy(
        n: Int, extraEdges: Int, rng: RandomSource, maxCardinality: Int = 3, coupling: Double, zeroRate: Double = 0
    ) -> FactorGraph {
        var g = FactorGraph()
        for _ in 0..<n { g.addCategorical(cardinality: 2 + rng.integer(below: max(1, maxCardinality - 1))) }
        var edges: [(Int, Int)] = (0..<n).map { ($0, ($0 + 1) % n) }
        for _ in 0..<extraEdges {
            let a = rng.integer(below: n), b = rng.integer(below: n)
            if a != b && !edges.contains(where: { ($0 == a && $1 == b) || ($0 == b && $1 == a) }) {
                edges.append((a, b))
            }
        }
        for (a, b) in edges {
            let size = g.cardinalities[a] * g.cardinalities[b]
            try! g.addFactor(scope: [a, b], logValues: table(size, rng: rng, zeroRate: zeroRate, scale: coupling))
        }
        for u in 0..<n {
            try! g.addFactor(scope: [u], logValues: table(g.cardinalities[u], rng: rng, zeroRate: 0, scale: 1))
        }
        return g
    }
}

func maxAbsDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    var d = 0.0
    for (x, y) in zip(a, b) {
        precondition(x.count == y.count)
        for (p, q) in zip(x, y) { d = max(d, abs(p - q)) }
    }
    return d
}

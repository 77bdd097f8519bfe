#if canImport(Glibc)
import Glibc
#endif

/// A dense table over categorical variables in a log-domain semiring's encoding
/// (``LogSumProduct`` or ``MaxSum``), row-major over `scope` (first variable most
/// significant). The working type of variable elimination.
struct Table {
    var scope: [Int]
    var cardinalities: [Int]
    var values: [Double]

    var strides: [Int] { DiscreteFactor.rowMajorStrides(cardinalities) }

    /// The table of `factor` restricted to the evidence (clamped variables dropped).
    static func restricted(_ factor: DiscreteFactor, clamp: [Int?]) -> Table {
        var keep: [Int] = [], keepCards: [Int] = [], keepStrides: [Int] = []
        var base = 0
        for (i, v) in factor.scope.enumerated() {
            if let c = clamp[v] {
                base += c * factor.strides[i]
            } else {
                keep.append(v); keepCards.append(factor.cardinalities[i]); keepStrides.append(factor.strides[i])
            }
        }
        var out = Table(
            scope: keep, cardinalities: keepCards, values: [Double](repeating: 0, count: keepCards.reduce(1, *)))
        factor.logValues.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                Table.walk(cardinalities: keepCards, strides: keepStrides, base: base) { i, j in dst[i] = src[j] }
            }
        }
        return out
    }

    /// Visits every configuration of `cardinalities` in row-major order, passing its position
    /// `i` and `base + Σ digit·strides` (the matching index in another table).
    @inline(__always)
    static func walk(cardinalities: [Int], strides: [Int], base: Int = 0, _ body: (Int, Int) -> Void) {
        let n = cardinalities.count
        if n == 0 { body(0, base); return }
        let inner = cardinalities[n - 1], innerStride = strides[n - 1]
        let outer = cardinalities[..<(n - 1)].reduce(1, *)
        var digits = [Int](repeating: 0, count: n - 1)
        var j0 = base
        var i = 0
        for _ in 0..<outer {
            var j = j0
            for _ in 0..<inner { body(i, j); i += 1; j += innerStride }
            var d = n - 2
            while d >= 0 {
                digits[d] += 1; j0 += strides[d]
                if digits[d] < cardinalities[d] { break }
                j0 -= strides[d] * cardinalities[d]; digits[d] = 0; d -= 1
            }
        }
    }

    /// The strides of `self` seen from a table over `scope` (0 where a variable is absent).
    func strides(in scope: [Int]) -> [Int] {
        let own = strides
        return scope.map { v in self.scope.firstIndex(of: v).map { own[$0] } ?? 0 }
    }

    /// The product (log-domain sum) of `tables`, laid out over `scope`, which must contain
    /// every table's scope.
    static func product(_ tables: [Table], scope: [Int], cardinalityOf card: [Int]) -> Table {
        let cards = scope.map { card[$0] }
        var out = Table(scope: scope, cardinalities: cards, values: [Double](repeating: 0, count: cards.reduce(1, *)))
        out.values.withUnsafeMutableBufferPointer { dst in
            for t in tables {
                t.values.withUnsafeBufferPointer { src in
                    walk(cardinalities: cards, strides: t.strides(in: scope)) { i, j in dst[i] += src[j] }
                }
            }
        }
        return out
    }

    /// `⊕` over every variable not in `target` (log-sum-exp, or max when `maximize`), the
    /// result laid out over `target` (a subset of the scope).
    func marginalized(onto target: [Int], maximize: Bool) -> Table {
        let tcards = target.map { cardinalities[scope.firstIndex(of: $0)!] }
        let tstrides = DiscreteFactor.rowMajorStrides(tcards)
        let mapped = scope.map { v in target.firstIndex(of: v).map { tstrides[$0] } ?? 0 }
        var peak = [Double](repeating: -.infinity, count: tcards.reduce(1, *))
        values.withUnsafeBufferPointer { src in
            peak.withUnsafeMutableBufferPointer { m in
                Table.walk(cardinalities: cardinalities, strides: mapped) { i, j in if src[i] > m[j] { m[j] = src[i] } }
            }
        }
        if maximize { return Table(scope: target, cardinalities: tcards, values: peak) }
        var sum = [Double](repeating: 0, count: peak.count)
        values.withUnsafeBufferPointer { src in
            peak.withUnsafeBufferPointer { m in
                sum.withUnsafeMutableBufferPointer { s in
                    Table.walk(cardinalities: cardinalities, strides: mapped) { i, j in
                        if m[j] > -.infinity { s[j] += exp(src[i] - m[j]) }
                    }
                }
            }
        }
        for k in sum.indices { sum[k] = peak[k] == -.infinity ? -.infinity : peak[k] + log(sum[k]) }
        return Table(scope: target, cardinalities: tcards, values: sum)
    }

    /// Sums of linear-domain values `linear` (laid out like `self`) over every variable not in
    /// `target`, laid out over `target`: marginalisation without an `exp` per entry.
    func summedLinear(_ linear: [Double], onto target: [Int]) -> [Double] {
        let tcards = target.map { v in cardinalities[scope.firstIndex(of: v) ?? 0] }
        let tstrides = DiscreteFactor.rowMajorStrides(tcards)
        let mapped = scope.map { v in target.firstIndex(of: v).map { tstrides[$0] } ?? 0 }
        var sum = [Double](repeating: 0, count: tcards.reduce(1, *))
        linear.withUnsafeBufferPointer { src in
            sum.withUnsafeMutableBufferPointer { s in
                Table.walk(cardinalities: cardinalities, strides: mapped) { i, j in s[j] += src[i] }
            }
        }
        return sum
    }

    /// `⊕` over the last variable of the scope (contiguous blocks).
    func eliminatingLast(maximize: Bool) -> Table {
        let block = cardinalities.last ?? 1
        let outSize = values.count / block
        var out = [Double](repeating: -.infinity, count: outSize)
        values.withUnsafeBufferPointer { v in
            for i in 0..<outSize {
                let b = UnsafeBufferPointer(rebasing: v[(i * block)..<((i + 1) * block)])
                if maximize { out[i] = b.max() ?? -.infinity } else { out[i] = LogSpace.sum(b) }
            }
        }
        return Table(scope: Array(scope.dropLast()), cardinalities: Array(cardinalities.dropLast()), values: out)
    }

    /// The value at a full assignment of the graph's variables.
    func value(at x: [Int]) -> Double {
        var k = 0
        var s = 1
        for i in stride(from: scope.count - 1, through: 0, by: -1) {
            k += x[scope[i]] * s
            s *= cardinalities[i]
        }
        return values[k]
    }
}

import NumericalCore

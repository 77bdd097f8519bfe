/// A dense table over categorical variables in a semiring's encoding, row-major over `scope`
/// (first variable most significant). The working type of variable elimination.
struct Table {
    var scope: [Int]
    var cardinalities: [Int]
    var values: [Double]

    var strides: [Int] { DiscreteFactor.rowMajorStrides(cardinalities) }

    /// The table of `factor` restricted to the evidence (clamped variables dropped), encoded in `S`.
    static func restricted<S: Semiring>(_ factor: DiscreteFactor, clamp: [Int?], _: S.Type) -> Table {
        var keep: [Int] = [], keepCards: [Int] = [], keepStrides: [Int] = []
        var base = 0
        for (i, v) in factor.scope.enumerated() {
            if let c = clamp[v] { base += c * factor.strides[i] } else {
                keep.append(v); keepCards.append(factor.cardinalities[i]); keepStrides.append(factor.strides[i])
            }
        }
        let size = keepCards.reduce(1, *)
        var values = [Double](repeating: 0, count: size)
        var digits = [Int](repeating: 0, count: keep.count)
        var src = base
        for t in 0..<size {
            values[t] = S.encode(log: factor.logValues[src])
            var j = keep.count - 1
            while j >= 0 {
                digits[j] += 1; src += keepStrides[j]
                if digits[j] < keepCards[j] { break }
                src -= keepStrides[j] * keepCards[j]; digits[j] = 0; j -= 1
            }
        }
        return Table(scope: keep, cardinalities: keepCards, values: values)
    }

    /// `⊗` of `tables`, laid out over `scope` (which must contain every table's scope).
    static func product<S: Semiring>(_ tables: [Table], scope: [Int], cardinalityOf card: [Int], _: S.Type) -> Table {
        let cards = scope.map { card[$0] }
        let size = cards.reduce(1, *)
        let n = scope.count
        // stride[t][j]: how far table t's index moves when result digit j moves by one.
        var stride = [[Int]](repeating: [Int](repeating: 0, count: n), count: tables.count)
        for (t, table) in tables.enumerated() {
            let s = table.strides
            for (i, v) in table.scope.enumerated() {
                if let j = scope.firstIndex(of: v) { stride[t][j] = s[i] }
            }
        }
        var values = [Double](repeating: S.one, count: size)
        var idx = [Int](repeating: 0, count: tables.count)
        var digits = [Int](repeating: 0, count: n)
        for r in 0..<size {
            var p = S.one
            for t in 0..<tables.count { p = S.times(p, tables[t].values[idx[t]]) }
            values[r] = p
            var j = n - 1
            while j >= 0 {
                digits[j] += 1
                for t in 0..<tables.count { idx[t] += stride[t][j] }
                if digits[j] < cards[j] { break }
                for t in 0..<tables.count { idx[t] -= stride[t][j] * cards[j] }
                digits[j] = 0
                j -= 1
            }
        }
        return Table(scope: scope, cardinalities: cards, values: values)
    }

    /// `⊕` over the last `count` variables of the scope.
    func eliminatingTrailing<S: Semiring>(_ count: Int, _: S.Type) -> Table {
        let keep = scope.count - count
        let block = cardinalities[keep...].reduce(1, *)
        let outSize = values.count / max(block, 1)
        var out = [Double](repeating: S.zero, count: outSize)
        for i in 0..<outSize {
            var acc = S.zero
            for k in 0..<block { acc = S.plus(acc, values[i * block + k]) }
            out[i] = acc
        }
        return Table(scope: Array(scope[..<keep]), cardinalities: Array(cardinalities[..<keep]), values: out)
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

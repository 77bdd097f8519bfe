import NumericalCore
/// libDAI's `.fg` factor-graph format.
///
/// The number of factors, then per factor: the number of variables, their labels, their
/// cardinalities, the number of non-zero entries, and that many `index value` lines. The
/// index is linear with the **first** listed variable least significant (the reverse of
/// UAI); entries not listed are zero. Lines starting with `#` are comments.
///
/// Labels may be any non-negative integers; variables are numbered by sorted label, so a file
/// with labels `0…n−1` keeps them. ``LibDAIModel/labels`` maps back.
public enum LibDAIFormat {
    /// Parses a `.fg` model. Its tables are sparse, so the file's size does not bound them:
    /// every table, and all of them together, are checked against `limits` before they are
    /// allocated.
    public static func parse(_ text: String, path: String = "<model>", limits: ResourceLimits = .standard) throws
        -> LibDAIModel
    {
        try parse(TokenStream(text: text, path: path, comments: true), limits: limits)
    }

    /// One factor as the file lists it: labels, cardinalities and the dense table in libDAI's order.
    private struct RawFactor {
        var labels: [Int]
        var cards: [Int]
        var values: [Double]
        var line: Int
    }

    static func parse(_ tokens: TokenStream, limits: ResourceLimits) throws -> LibDAIModel {
        var ts = tokens
        let mLine = ts.line
        let m = try ts.integer("the number of factors", in: 0...Int.max)
        guard m <= ts.remaining else {
            throw ts.error("declares \(m) factors but the file has only \(ts.remaining) more tokens", line: mLine)
        }
        var totalEntries = 0
        var raws: [RawFactor] = []
        var cardOfLabel: [Int: Int] = [:]
        for f in 0..<m {
            raws.append(
                try parseFactor(&ts, f, limits: limits, totalEntries: &totalEntries, cardOfLabel: &cardOfLabel))
        }
        guard ts.isAtEnd else { throw ts.error("unexpected text after the last factor") }
        let labels = cardOfLabel.keys.sorted()
        try ts.limited(0) {
            try limits.check(labels.count, limit: \.variables, what: "the model's variable count")
            try limits.check(
                labels.reduce(0) { $0 + cardOfLabel[$1]! }, limit: \.totalStates,
                what: "the states of all variables together")
        }
        var id = [Int: Int]()
        var graph = FactorGraph()
        for l in labels { id[l] = graph.addCategorical(cardinality: cardOfLabel[l]!, name: "x\(l)") }
        for (f, raw) in raws.enumerated() {
            do {
                try graph.addFactor(scope: raw.labels.map { id[$0]! }, values: rowMajor(raw.values, cards: raw.cards))
            } catch let e as FactorGraphError {
                throw FactorGraphError.malformedFile(path: ts.path, line: raw.line, message: "factor \(f): \(e)")
            }
        }
        return LibDAIModel(graph: graph, labels: labels)
    }

    /// Factor `f`: its labels, cardinalities (consistent with earlier factors, within the limits)
    /// and sparse entries, the table checked against `limits` before it is allocated.
    private static func parseFactor(
        _ ts: inout TokenStream, _ f: Int, limits: ResourceLimits, totalEntries: inout Int,
        cardOfLabel: inout [Int: Int]
    ) throws -> RawFactor {
        let line = ts.line
        let k = try ts.integer("the number of variables of factor \(f)", in: 0...Int.max)
        guard 2 * k <= ts.remaining else {
            throw ts.error("factor \(f): \(k) variables declared, only \(ts.remaining) tokens left")
        }
        var labels: [Int] = []
        var seen = Set<Int>()
        for _ in 0..<k {
            let vl = ts.line
            let l = try ts.integer("a variable label of factor \(f)", in: 0...Int(Int32.max))
            guard seen.insert(l).inserted else {
                throw ts.error("factor \(f): variable label \(l) appears twice", line: vl)
            }
            labels.append(l)
        }
        var cards: [Int] = []
        for j in 0..<k {
            let cl = ts.line
            let c = try ts.integer("the cardinality of variable \(labels[j])", in: 1...Int.max)
            try ts.limited(cl) {
                try limits.check(c, limit: \.cardinality, what: "variable \(labels[j])'s cardinality")
            }
            if let old = cardOfLabel[labels[j]], old != c {
                throw ts.error(
                    "factor \(f): variable \(labels[j]) has cardinality \(c) here but \(old) in an earlier factor",
                    line: cl)
            }
            cardOfLabel[labels[j]] = c
            cards.append(c)
        }
        let size = try ts.limited(line) {
            let size = try limits.checkedProduct(
                cards, limit: \.tableEntries, what: "factor \(f)'s table over cardinalities \(cards)")
            totalEntries = try limits.check(
                totalEntries + size, limit: \.totalTableEntries, what: "the tables of factors 0...\(f) together")
            return size
        }
        let values = try parseEntries(&ts, f, size: size)
        return RawFactor(labels: labels, cards: cards, values: values, line: line)
    }

    /// The non-zero entries of factor `f` (`index value` pairs) as a dense table of `size` entries.
    private static func parseEntries(_ ts: inout TokenStream, _ f: Int, size: Int) throws -> [Double] {
        let nz = try ts.integer("the number of non-zero entries of factor \(f)", in: 0...Int.max)
        guard nz <= size else { throw ts.error("factor \(f): \(nz) entries listed but the table has only \(size)") }
        guard 2 * nz <= ts.remaining else {
            throw ts.error("factor \(f): \(nz) entries declared, only \(ts.remaining) tokens left")
        }
        var values = [Double](repeating: 0, count: size)
        for _ in 0..<nz {
            let il = ts.line
            let i = try ts.integer("an entry index of factor \(f)")
            guard i < size else { throw ts.error("factor \(f): entry index \(i) is outside 0..<\(size)", line: il) }
            let (v, vl) = try ts.real("the value of entry \(i) of factor \(f)")
            guard v >= 0, v.isFinite else {
                throw ts.error("factor \(f): entry \(i) is \(v); potentials must be finite and non-negative", line: vl)
            }
            values[i] = v
        }
        return values
    }

    /// libDAI's order (first variable least significant) to ours (first most significant).
    private static func rowMajor(_ table: [Double], cards: [Int]) -> [Double] {
        let k = cards.count
        let strides = DiscreteFactor.rowMajorStrides(cards)
        var values = [Double](repeating: 0, count: table.count)
        var digits = [Int](repeating: 0, count: k)
        for i in 0..<table.count {
            var ours = 0
            for j in 0..<k { ours += digits[j] * strides[j] }
            values[ours] = table[i]
            var j = 0
            while j < k {
                digits[j] += 1
                if digits[j] < cards[j] { break }
                digits[j] = 0
                j += 1
            }
        }
        return values
    }

    /// Reads a `.fg` file.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> LibDAIModel {
        try parse(TokenStream(bytes: try readFileBytes(path), path: path, comments: true), limits: limits)
    }
}

/// A model read from libDAI's format, with the file's variable labels.
public struct LibDAIModel: Sendable {
    /// The model's factor graph, variables in the file's order.
    public let graph: FactorGraph
    /// `labels[v]` is the label of variable `v` in the file.
    public let labels: [Int]
}

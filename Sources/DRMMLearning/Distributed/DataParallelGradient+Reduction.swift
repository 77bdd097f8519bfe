import NumericalCore

/// The one reduction of a distributed step: everything the ranks' shards add up, packed into
/// one contiguous buffer and summed over the ranks in place.
///
/// Layout, in `T`: the gradient (when there is one); the seven loss terms; the four counts of
/// ``LossTerms``; the ON switches of every level; the batch-normalisation statistics (with a
/// gradient) or, without one, every image's class posteriors and prediction (each rank fills
/// the rows of its own images and leaves zeros elsewhere, so the sum is the gather). Counts
/// travel as two numbers, `⌊c / 4096⌋` and `c mod 4096`, so that their sums stay exact in
/// single precision up to `2³⁶`. The loss terms are summed in `T`: with `Float` they agree
/// with a one-process run to single-precision rounding.
extension DataParallelGradient {
    static var countBase: Int { 4096 }

    /// `gradient` is this rank's on entry (nil without one: then the rows are gathered) and
    /// the sum over the ranks on return.
    func reduce(
        _ terms: LossTerms, gradient: inout [T]?, predictions: inout [Int], classes k: Int, batch n: Int
    ) throws -> LossTerms {
        let withRows = gradient == nil
        let parameterCount = gradient?.count ?? 0
        var buffer = gradient ?? []
        gradient = nil  // the buffer is now the gradient's only reference: appending does not copy it
        let statistics = withRows ? [] : localStatistics
        let levels = localSwitchesOn.count
        let extra = 7 + 2 * (4 + levels) + (withRows ? n * (k + 1) : statistics.reduce(0) { $0 + $1.count })
        buffer.reserveCapacity(parameterCount + extra)
        let losses = [
            terms.crossEntropy, terms.reconstruction, terms.classPosterior, terms.nonnegativity, terms.classBalance,
            terms.pseudoLabel, terms.total
        ]
        buffer += losses.map { T($0) }
        let counts = [terms.correct, terms.labeled, terms.pseudoLabeled, terms.pseudoLabeledCorrectly] + localSwitchesOn
        for c in counts { buffer += [T(c / Self.countBase), T(c % Self.countBase)] }
        if withRows {
            let rows = localRows(n)
            let q = passes[0..<lastParts.count].flatMap { $0.posteriors }
            let start = buffer.count
            buffer += repeatElement(0, count: n * (k + 1))
            for (j, i) in rows.enumerated() {
                for c in 0..<k { buffer[start + i * (k + 1) + c] = q[j * k + c] }
                buffer[start + i * (k + 1) + k] = T(predictions[j])
            }
        } else {
            buffer += statistics.flatMap { $0 }
        }
        try sumOverRanks(&buffer)

        var offset = parameterCount
        func take(_ m: Int) -> ArraySlice<T> {
            defer { offset += m }
            return buffer[offset..<(offset + m)]
        }
        var out = LossTerms()
        let l = take(losses.count).map { Double($0) }
        (out.crossEntropy, out.reconstruction, out.classPosterior, out.nonnegativity) = (l[0], l[1], l[2], l[3])
        (out.classBalance, out.pseudoLabel, out.total) = (l[4], l[5], l[6])
        let pairs = take(2 * counts.count)
        let summed = (0..<counts.count).map { i in
            Int(pairs[pairs.startIndex + 2 * i]) * Self.countBase + Int(pairs[pairs.startIndex + 2 * i + 1])
        }
        (out.correct, out.labeled, out.pseudoLabeled, out.pseudoLabeledCorrectly) = (
            summed[0], summed[1], summed[2], summed[3]
        )
        reducedSwitchesOn = Array(summed[4...])
        if withRows {
            let table = take(n * (k + 1))
            var q = [T](repeating: 0, count: n * k)
            predictions = (0..<n).map { i in
                for c in 0..<k { q[i * k + c] = table[table.startIndex + i * (k + 1) + c] }
                return Int(table[table.startIndex + i * (k + 1) + k])
            }
            gatheredPosteriors = q
        } else {
            reducedStatistics = Self.split(Array(take(statistics.reduce(0) { $0 + $1.count })), like: statistics)
        }
        if parameterCount > 0 {
            buffer.removeLast(buffer.count - parameterCount)
            gradient = buffer
        }
        return out
    }

    /// `buffer` summed over the ranks, in `T`.
    func sumOverRanks(_ buffer: inout [T]) throws {
        if var f = buffer as? [Float] {
            buffer = []
            try communicator.sum(&f)
            buffer = f as! [T]
        } else if var d = buffer as? [Double] {
            buffer = []
            try communicator.sum(&d)
            buffer = d as! [T]
        } else {
            throw DistributedError.communication("no reduction for \(T.self)")
        }
    }
}

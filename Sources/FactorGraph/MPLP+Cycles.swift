/// Tightening MPLP's relaxation with cycles (Sontag et al. 2008): a cluster over the
/// variables of a short cycle of pairwise factors (a triangle, or a square without a chord)
/// sends each of its factors a message `δ_cf(x_f)`, which joins the factor's score. The
/// cluster enforces that its factors' beliefs agree with one joint distribution over the
/// cycle, which the local polytope does not: on frustrated cycles (spin glasses) the bound
/// drops, often to the exact MAP score.
struct CycleCluster {
    /// The cycle's variables and their cardinalities.
    let variables: [Int]
    let cardinalities: [Int]
    /// The factors on the cycle (indices into `DualState.scopes`).
    let members: [Int]
    /// For each member, the stride of each cluster variable in the member's table (0 if absent).
    let strides: [[Int]]
    /// Where the cluster's messages start in `DualState.clusterMessages` (one block per member,
    /// each laid out as the member's table).
    var messageStart = 0

    /// The triangles and chordless squares of the pairwise factors (the first factor of each
    /// pair of variables), skipping clusters of more than `maximumEntries` joint states.
    static func find(scopes: [[Int]], cardinalities: [Int], maximumEntries: Int = 1 << 12) -> [CycleCluster] {
        var edge = [Int: Int]()
        let n = cardinalities.count
        var neighbours = [[Int]](repeating: [], count: n)
        func key(_ a: Int, _ b: Int) -> Int { min(a, b) * n + max(a, b) }
        for (f, s) in scopes.enumerated() where s.count == 2 && edge[key(s[0], s[1])] == nil {
            edge[key(s[0], s[1])] = f
            neighbours[s[0]].append(s[1])
            neighbours[s[1]].append(s[0])
        }
        func adjacent(_ a: Int, _ b: Int) -> Bool { edge[key(a, b)] != nil }
        var cycles: [[Int]] = []
        for a in 0..<n {
            let nb = neighbours[a].sorted()
            for (i, b) in nb.enumerated() where b > a {
                for d in nb[(i + 1)...] where d > a {
                    // Triangle a-b-d, or squares a-b-c-d with a the smallest and no chord.
                    if adjacent(b, d) {
                        cycles.append([a, b, d])
                        continue
                    }
                    for c in neighbours[b] where c > a && c != d && adjacent(c, d) && !adjacent(a, c) {
                        cycles.append([a, b, c, d])
                    }
                }
            }
        }
        return cycles.compactMap { cycle in
            let cards = cycle.map { cardinalities[$0] }
            guard cards.reduce(1, *) <= maximumEntries else { return nil }
            let members = cycle.indices.map { edge[key(cycle[$0], cycle[($0 + 1) % cycle.count])]! }
            let strides = members.map { f in
                cycle.map { v in
                    guard let p = scopes[f].firstIndex(of: v) else { return 0 }
                    return p == 0 ? cardinalities[scopes[f][1]] : 1
                }
            }
            return CycleCluster(variables: cycle, cardinalities: cards, members: members, strides: strides)
        }
    }
}

extension DualState {
    /// The MPLP update of cluster `c`: with `λ_f = θ'_f − δ_cf − Σ_{i∈f} δ_fi` (θ' the factor's
    /// score with every cluster message),
    ///
    ///     m_f(x_f) = max_{x_c ∖ x_f} Σ_{g∈c} λ_g(x_g),  δ_cf = m_f/|c| − λ_f,
    ///
    /// which leaves the cluster's own dual term zero.
    mutating func updateCluster(_ c: Int) {
        let cluster = clusters[c]
        let k = cluster.members.count
        // λ_f for every member, one block per member (as the member's table), in `lambda`.
        lambda.removeAll(keepingCapacity: true)
        memberStart.removeAll(keepingCapacity: true)
        memberStart.append(contentsOf: repeatElement(0, count: k + 1))
        for (m, f) in cluster.members.enumerated() {
            let card1 = problem.cardinalities[scopes[f][1]]
            let d0 = deltaStart[f], d1 = deltaStart[f] + blocks[f][1]
            let message = cluster.messageStart + memberStart[m]
            for t in scores[f].indices {
                lambda.append(
                    scores[f][t] - clusterMessages[message + t] - delta[d0 + t / card1] - delta[d1 + t % card1])
            }
            memberStart[m + 1] = lambda.count
        }
        maxima.removeAll(keepingCapacity: true)
        maxima.append(contentsOf: repeatElement(-.infinity, count: lambda.count))
        digits.removeAll(keepingCapacity: true)
        digits.append(contentsOf: repeatElement(0, count: cluster.variables.count))
        for _ in 0..<cluster.cardinalities.reduce(1, *) {
            var s = 0.0
            for m in 0..<k {
                var i = memberStart[m]
                for j in digits.indices { i += digits[j] * cluster.strides[m][j] }
                s += lambda[i]
            }
            for m in 0..<k {
                var i = memberStart[m]
                for j in digits.indices { i += digits[j] * cluster.strides[m][j] }
                if s > maxima[i] { maxima[i] = s }
            }
            var j = digits.count - 1
            while j >= 0 {
                digits[j] += 1
                if digits[j] < cluster.cardinalities[j] { break }
                digits[j] = 0
                j -= 1
            }
        }
        let share = 1 / Double(k)
        for (m, f) in cluster.members.enumerated() {
            let message = cluster.messageStart + memberStart[m]
            for t in scores[f].indices {
                let i = memberStart[m] + t
                let new = maxima[i] * share - lambda[i]
                scores[f][t] += new - clusterMessages[message + t]
                clusterMessages[message + t] = new
            }
        }
    }
}

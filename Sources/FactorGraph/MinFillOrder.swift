#if canImport(Glibc)
import Glibc
#endif

/// The greedy min-fill elimination order: repeatedly eliminate the variable whose elimination
/// adds the fewest edges between its neighbours (ties: fewest neighbours, then lowest index),
/// connecting those neighbours.
///
/// The scores live in a binary heap with lazy deletion. Eliminating `v` changes the score of
/// its neighbours, and — when it adds edges — of the neighbours of each new edge's ends, and
/// of no one else; only those are rescored. A graph of `n` variables of bounded degree is
/// ordered in `O(n log n)`.
struct MinFillOrder {
    /// Per variable, its neighbours among the free variables, sorted.
    private var adjacency: [[Int]]
    private let free: [Bool]

    init(variableCount n: Int, scopes: [[Int]], free: [Bool]) {
        self.free = free
        adjacency = [[Int]](repeating: [], count: n)
        for s in scopes where s.count > 1 {
            for a in s where free[a] { for b in s where b != a && free[b] { adjacency[a].append(b) } }
        }
        for v in 0..<n where adjacency[v].count > 1 {
            adjacency[v].sort()
            var w = 1
            for r in 1..<adjacency[v].count where adjacency[v][r] != adjacency[v][w - 1] {
                adjacency[v][w] = adjacency[v][r]; w += 1
            }
            adjacency[v].removeLast(adjacency[v].count - w)
        }
    }

    /// The position of `x` in the sorted `a`, or where it would go.
    @inline(__always)
    private static func search(_ a: [Int], _ x: Int) -> (index: Int, found: Bool) {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if a[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < a.count && a[lo] == x)
    }

    private struct Key: Comparable {
        var fill: Int, degree: Int, variable: Int
        static func < (a: Key, b: Key) -> Bool {
            (a.fill, a.degree, a.variable) < (b.fill, b.degree, b.variable)
        }
    }

    /// The order. With `cardinalities` and `cliqueLimit`, refuses (before the rest of the order
    /// is computed) as soon as one elimination would form a clique table over the limit.
    func order(cardinalities: [Int]? = nil, cliqueLimit: Int = .max) throws -> [Int] {
        var adj = adjacency
        var heap = BinaryHeap<Key>()
        let n = adj.count
        var current = [Key?](repeating: nil, count: n)
        func score(_ v: Int) -> Key {
            let nb = adj[v]
            var f = 0
            for i in 0..<nb.count {
                let a = adj[nb[i]]
                var j = i + 1
                while j < nb.count { if !Self.search(a, nb[j]).found { f += 1 }; j += 1 }
            }
            return Key(fill: f, degree: nb.count, variable: v)
        }
        for v in 0..<n where free[v] {
            let k = score(v)
            current[v] = k
            heap.push(k)
        }
        var order: [Int] = []
        order.reserveCapacity(heap.count)
        var mark = [Bool](repeating: false, count: n)
        var touched: [Int] = []
        while let top = heap.pop() {
            let v = top.variable
            guard let k = current[v], k == top else { continue }  // stale entry
            current[v] = nil
            let nb = adj[v]
            if let cardinalities {
                try Self.checkClique(
                    v: v, neighbours: nb, cardinalities: cardinalities, limit: cliqueLimit, eliminated: order.count)
            }
            touched.removeAll(keepingCapacity: true)
            touched.append(contentsOf: nb)
            var added = false
            for a in nb {
                // a loses v and gains every other neighbour of v it lacks.
                let (i, _) = Self.search(adj[a], v)
                adj[a].remove(at: i)
                for b in nb where b != a {
                    let (j, found) = Self.search(adj[a], b)
                    if !found { adj[a].insert(b, at: j); added = true }
                }
            }
            adj[v] = []
            if added {
                // A new edge (a, b) changes the score of every common neighbour of a and b.
                for a in nb { touched.append(contentsOf: adj[a]) }
            }
            for u in touched where !mark[u] && current[u] != nil {
                mark[u] = true
                let k = score(u)
                if k != current[u] { current[u] = k; heap.push(k) }
            }
            for u in touched { mark[u] = false }
            order.append(v)
        }
        return order
    }

    /// Throws when eliminating `v` with `neighbours` forms a table over `limit` entries.
    private static func checkClique(v: Int, neighbours: [Int], cardinalities: [Int], limit: Int, eliminated: Int) throws
    {
        var size = cardinalities[v]
        var overflow = false
        for u in neighbours {
            let (p, o) = size.multipliedReportingOverflow(by: cardinalities[u])
            if o || p > limit { overflow = true; break }
            size = p
        }
        guard overflow || size > limit else { return }
        let log2Size = neighbours.reduce(log2(Double(cardinalities[v]))) { $0 + log2(Double(cardinalities[$1])) }
        let entries = exp2(log2Size)
        throw FactorGraphError.tooLarge(
            "exact inference needs a clique table of at least 2^\(log2Size.formatted(decimalPlaces: 1)) entries "
                + "(\(ResourceLimits.describe(doubles: entries))) when it eliminates variable \(v) with its "
                + "\(neighbours.count) neighbours, after \(eliminated) variables; the limit is \(limit) entries "
                + "(raise with --limit cliqueEntries=N, or use --algorithm bp)")
    }
}

/// A binary min-heap.
struct BinaryHeap<Element: Comparable> {
    private var items: [Element] = []

    var count: Int { items.count }

    mutating func push(_ x: Element) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i] < items[p] else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> Element? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}

import NumericalCore

import NumericalCore

/// Improving a full assignment of a ``DiscreteProblem`` without ever lowering its score: moves
/// of one variable (iterated conditional modes) and exact moves of a whole induced forest
/// given the rest (block coordinate ascent, each block solved by variable elimination).
struct LocalSearch {
    let problem: DiscreteProblem
    /// The restricted tables with their true values (−∞ kept).
    let tables: [Table]
    /// Per variable, the tables whose scope contains it.
    let incident: [[Int]]

    init(_ problem: DiscreteProblem) {
        self.problem = problem
        tables = problem.factors.map { Table.restricted($0, clamp: problem.clamp) }
        var incident = [[Int]](repeating: [], count: problem.variableCount)
        for (index, t) in tables.enumerated() { for v in t.scope { incident[v].append(index) } }
        self.incident = incident
    }

    /// The score of the tables touching free variable `v` for each of its states, the others
    /// as in `x` (which is returned unchanged).
    func localScores(_ v: Int, _ x: inout [Int], into scores: inout [Double]) {
        let current = x[v]
        scores.removeAll(keepingCapacity: true)
        for s in 0..<problem.cardinalities[v] {
            x[v] = s
            var total = 0.0
            for t in incident[v] { total += tables[t].value(at: x) }
            scores.append(total)
        }
        x[v] = current
    }

    /// Iterated conditional modes: each free variable in turn moves to the state that raises
    /// the score most given the others, until no move raises it (at most 100 passes).
    func conditionalModes(_ x: inout [Int]) {
        var scores: [Double] = []
        for _ in 0..<100 {
            var moved = false
            for v in 0..<problem.variableCount where problem.clamp[v] == nil && !incident[v].isEmpty {
                localScores(v, &x, into: &scores)
                let current = x[v]
                var best = scores[current]
                for (s, score) in scores.enumerated() where score > best {
                    best = score
                    x[v] = s
                }
                if x[v] != current { moved = true }
            }
            if !moved { return }
        }
    }

    /// `rounds` exact block moves: each draws a random order of the free variables, takes
    /// greedily those that keep the block an induced forest of the factor graph, clamps the
    /// rest to `x`, and sets the block to its exact MAP given them (never a lower score).
    func forestBlocks(_ x: inout [Int], rounds: Int, rng: RandomSource) throws {
        let free = (0..<problem.variableCount).filter { problem.clamp[$0] == nil }
        var score = problem.logScore(x)
        for _ in 0..<rounds {
            var order = free
            rng.shuffle(&order)
            let block = forest(order)
            var clamp = x.map { Optional($0) }
            for v in block { clamp[v] = nil }
            let candidate = try VariableElimination().mostProbableAssignment(problem.clamping(clamp))
            if candidate.logScore > score {
                score = candidate.logScore
                x = candidate.states
            }
        }
    }

    /// The variables of `order` taken greedily while the factor graph they induce (each factor
    /// cut down to its block variables) stays acyclic.
    func forest(_ order: [Int]) -> [Int] {
        var component = [Int](repeating: -1, count: problem.variableCount)
        func root(_ v: Int) -> Int {
            var r = v
            while component[r] != r { r = component[r] }
            var u = v
            while component[u] != r { let next = component[u]; component[u] = r; u = next }
            return r
        }
        var block: [Int] = []
        var touched: [Int] = []
        for v in order {
            touched.removeAll(keepingCapacity: true)
            var cycle = false
            for t in incident[v] {
                guard let u = tables[t].scope.first(where: { $0 != v && component[$0] >= 0 }) else { continue }
                let r = root(u)
                if touched.contains(r) { cycle = true; break }
                touched.append(r)
            }
            if cycle { continue }
            component[v] = v
            for r in touched { component[r] = v }
            block.append(v)
        }
        return block
    }
}

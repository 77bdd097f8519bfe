/// The bipartite variable–factor structure shared by discrete and Gaussian message passing.
///
/// An *edge* is a (factor, position-in-scope) pair. Edges are numbered factor by factor, so
/// the edges of factor `f` are `factorEdgeStart[f] ..< factorEdgeStart[f + 1]`, in scope order.
/// Each variable lists its edges in `variableEdges[variableEdgeStart[v] ..< variableEdgeStart[v + 1]]`.
struct GraphTopology {
    let variableCount: Int
    let factorCount: Int
    let factorEdgeStart: [Int]
    let edgeVariable: [Int]
    let edgeFactor: [Int]
    let variableEdgeStart: [Int]
    let variableEdges: [Int]

    init(variableCount: Int, scopes: [[Int]]) {
        self.variableCount = variableCount
        factorCount = scopes.count
        var fStart = [0]
        var eVar = [Int](), eFac = [Int]()
        for (f, scope) in scopes.enumerated() {
            for v in scope { eVar.append(v); eFac.append(f) }
            fStart.append(eVar.count)
        }
        var degree = [Int](repeating: 0, count: variableCount)
        for v in eVar { degree[v] += 1 }
        var vStart = [0]
        for d in degree { vStart.append(vStart.last! + d) }
        var fill = vStart
        var vEdges = [Int](repeating: 0, count: eVar.count)
        for (e, v) in eVar.enumerated() { vEdges[fill[v]] = e; fill[v] += 1 }
        factorEdgeStart = fStart
        edgeVariable = eVar
        edgeFactor = eFac
        variableEdgeStart = vStart
        variableEdges = vEdges
    }

    var edgeCount: Int { edgeVariable.count }

    func degree(ofVariable v: Int) -> Int { variableEdgeStart[v + 1] - variableEdgeStart[v] }

    /// One message of a schedule: along `edge`, from the variable to the factor or the reverse.
    struct Step: Equatable {
        enum Direction: Equatable { case variableToFactor, factorToVariable }
        let direction: Direction
        let edge: Int
    }

    /// The exact two-pass schedule of a forest, with what MAP backtracking needs.
    struct TreeSchedule {
        /// Leaves to roots: every non-root node sends to its parent.
        let upward: [Step]
        /// Roots to leaves: every node sends to its children.
        let downward: [Step]
        /// One root variable per connected component (isolated variables included).
        let roots: [Int]
        /// Factors in breadth-first order with the edge to their parent variable.
        let factorsTopDown: [(factor: Int, parentEdge: Int)]
    }

    /// The two-pass schedule if the factor graph is a forest, `nil` if it has a cycle.
    func treeSchedule() -> TreeSchedule? {
        // Nodes: variables 0..<n, factors n..<n+F.
        let n = variableCount
        var visited = [Bool](repeating: false, count: n + factorCount)
        var order: [(node: Int, parentEdge: Int)] = []
        var roots: [Int] = []
        var queue: [(node: Int, parentEdge: Int)] = []
        for root in 0..<n where !visited[root] {
            roots.append(root)
            visited[root] = true
            queue.removeAll(keepingCapacity: true)
            queue.append((root, -1))
            var head = 0
            while head < queue.count {
                let (node, pe) = queue[head]; head += 1
                order.append((node, pe))
                if node < n {
                    for k in variableEdgeStart[node]..<variableEdgeStart[node + 1] {
                        let e = variableEdges[k]
                        if e == pe { continue }
                        let f = n + edgeFactor[e]
                        if visited[f] { return nil }
                        visited[f] = true
                        queue.append((f, e))
                    }
                } else {
                    let f = node - n
                    for e in factorEdgeStart[f]..<factorEdgeStart[f + 1] where e != pe {
                        let v = edgeVariable[e]
                        if visited[v] { return nil }
                        visited[v] = true
                        queue.append((v, e))
                    }
                }
            }
        }
        var up: [Step] = [], down: [Step] = []
        var factorsTopDown: [(Int, Int)] = []
        for (node, pe) in order.reversed() where pe >= 0 {
            up.append(Step(direction: node < n ? .variableToFactor : .factorToVariable, edge: pe))
        }
        for (node, pe) in order {
            if node < n {
                for k in variableEdgeStart[node]..<variableEdgeStart[node + 1] where variableEdges[k] != pe {
                    down.append(Step(direction: .variableToFactor, edge: variableEdges[k]))
                }
            } else {
                let f = node - n
                factorsTopDown.append((f, pe))
                for e in factorEdgeStart[f]..<factorEdgeStart[f + 1] where e != pe {
                    down.append(Step(direction: .factorToVariable, edge: e))
                }
            }
        }
        return TreeSchedule(upward: up, downward: down, roots: roots, factorsTopDown: factorsTopDown)
    }
}

import FactorGraph
#if canImport(Glibc)
import Glibc
#endif

/// The evolutionary DRMM (spec §5): a tree of templates. The root renders `μ_root`; each child
/// renders its parent's template plus an additive mutation (`Λ = [1 | α]`); the image is a
/// leaf's template plus `N(0, σ²I)` noise; `π` is the probability of each child given its parent.
///
/// Every node carries the natural parameters of its Gaussian hypothesis,
/// `w_ν = μ_ν/σ²` and `b_ν = −‖μ_ν‖²/2σ² + ln π_ν`, so that choosing among children is
/// `argmax ⟨w_ν, I⟩ + b_ν` — a decision-tree node. A *relaxed* tree (imported from an ordinary
/// decision tree) has free `(w, b)` and no templates.
public struct EvolutionaryTree: Sendable {
    /// One node of the tree: a Gaussian hypothesis and its place in the hierarchy.
    public struct Node: Sendable, Equatable {
        /// The parent's index (`nil` at the root).
        public var parent: Int?
        /// The children's indices (empty at a leaf).
        public var children: [Int] = []
        /// `μ_ν` (empty for a relaxed node).
        public var template: [Double]
        /// `ln π(ν | parent)` (0 at the root).
        public var logPrior: Double
        /// Natural parameters: `w_ν`, and `b_ν` (which includes `ln π_ν`).
        public var weights: [Double]
        /// `b_ν`, including the log prior `ln π_ν`.
        public var bias: Double
        /// Label counts of the training images routed here (leaf histograms).
        public var labelCounts: [Double] = []
        /// Levels below the root (0 at the root).
        public var depth: Int
    }

    public internal(set) var nodes: [Node]
    /// `D`, the length of an image.
    public let dimension: Int
    /// `σ²` (1 for a relaxed tree).
    public let noiseVariance: Double

    /// A tree with only its root template.
    public init(root: [Double], noiseVariance: Double) throws {
        guard !root.isEmpty, root.allSatisfy({ $0.isFinite }) else {
            throw EDRMMError.invalidModel("the root template must be non-empty and finite")
        }
        guard noiseVariance > 0, noiseVariance.isFinite else {
            throw EDRMMError.invalidModel("σ² must be positive and finite, got \(noiseVariance)")
        }
        dimension = root.count
        self.noiseVariance = noiseVariance
        nodes = []
        nodes.append(Self.node(template: root, logPrior: 0, parent: nil, depth: 0, noiseVariance: noiseVariance))
    }

    /// A relaxed tree: free `(w, b)` per node, built by ``addRelaxedChild(of:weights:bias:)``.
    public init(relaxedDimension d: Int) throws {
        guard d >= 1 else { throw EDRMMError.invalidModel("dimension must be at least 1") }
        dimension = d
        noiseVariance = 1
        nodes = [
            Node(parent: nil, template: [], logPrior: 0, weights: [Double](repeating: 0, count: d), bias: 0, depth: 0)
        ]
    }

    static func node(template: [Double], logPrior: Double, parent: Int?, depth: Int, noiseVariance s2: Double) -> Node {
        Node(
            parent: parent, template: template, logPrior: logPrior,
            weights: template.map { $0 / s2 }, bias: -template.reduce(0) { $0 + $1 * $1 } / (2 * s2) + logPrior,
            depth: depth)
    }

    /// Adds a child of `parent` rendering `μ_parent + mutation`, chosen with probability `prior`
    /// (the priors of a node's children should sum to one; ``validate()`` checks).
    @discardableResult
    public mutating func addChild(of parent: Int, mutation: [Double], prior: Double) throws -> Int {
        guard nodes.indices.contains(parent), !nodes[parent].template.isEmpty else {
            throw EDRMMError.invalidModel("no generative node \(parent)")
        }
        guard mutation.count == dimension, mutation.allSatisfy({ $0.isFinite }) else {
            throw EDRMMError.invalidModel(
                "mutation of length \(mutation.count) (finite entries needed), the templates have \(dimension)")
        }
        guard prior > 0, prior <= 1 else {
            throw EDRMMError.invalidModel("child prior must be in (0, 1], got \(prior)")
        }
        let t = zip(nodes[parent].template, mutation).map { $0 + $1 }
        nodes.append(
            Self.node(
                template: t, logPrior: log(prior), parent: parent, depth: nodes[parent].depth + 1,
                noiseVariance: noiseVariance))
        nodes[parent].children.append(nodes.count - 1)
        return nodes.count - 1
    }

    /// Adds a relaxed child with free parameters.
    @discardableResult
    public mutating func addRelaxedChild(of parent: Int, weights: [Double], bias: Double) throws -> Int {
        guard nodes.indices.contains(parent) else { throw EDRMMError.invalidModel("no node \(parent)") }
        guard weights.count == dimension else {
            throw EDRMMError.invalidModel("weights of length \(weights.count), expected \(dimension)")
        }
        nodes.append(
            Node(
                parent: parent, template: [], logPrior: 0, weights: weights, bias: bias, depth: nodes[parent].depth + 1)
        )
        nodes[parent].children.append(nodes.count - 1)
        return nodes.count - 1
    }

    /// A tree whose mutation sets are shared across parents: every node at depth ℓ−1 has one
    /// child per mutation of `mutations[ℓ−1]`, with priors `priors[ℓ−1]` (the plain generative
    /// equations of spec §5.1, one global nuisance per level).
    public static func shared(root: [Double], mutations: [[[Double]]], priors: [[Double]], noiseVariance: Double) throws
        -> EvolutionaryTree
    {
        var tree = try EvolutionaryTree(root: root, noiseVariance: noiseVariance)
        guard mutations.count == priors.count else {
            throw EDRMMError.invalidModel("\(mutations.count) levels of mutations but \(priors.count) of priors")
        }
        var frontier = [0]
        for (level, set) in mutations.enumerated() {
            guard set.count == priors[level].count, !set.isEmpty else {
                throw EDRMMError.invalidModel(
                    "level \(level + 1): \(set.count) mutations, \(priors[level].count) priors")
            }
            var next: [Int] = []
            for p in frontier {
                for (m, pr) in zip(set, priors[level]) { next.append(try tree.addChild(of: p, mutation: m, prior: pr)) }
            }
            frontier = next
        }
        return tree
    }

    /// The indices of the leaves, in node order.
    public var leaves: [Int] { nodes.indices.filter { nodes[$0].children.isEmpty } }

    /// The nodes from the root to `node`.
    public func path(to node: Int) -> [Int] {
        var p = [node]
        while let q = nodes[p[0]].parent { p.insert(q, at: 0) }
        return p
    }

    /// Checks the children's priors of every generative node sum to one.
    public func validate() throws {
        for (i, n) in nodes.enumerated() where !n.children.isEmpty && !n.template.isEmpty {
            let s = n.children.reduce(0) { $0 + exp(nodes[$1].logPrior) }
            guard abs(s - 1) < 1e-9 else {
                throw EDRMMError.invalidModel("the children of node \(i) have priors summing to \(s), not 1")
            }
        }
    }

    func check(_ image: [Double]) throws {
        guard image.count == dimension else {
            throw EDRMMError.invalidInput("image has \(image.count) features, the model \(dimension)")
        }
        if let bad = image.firstIndex(where: { !$0.isFinite }) {
            throw EDRMMError.invalidInput("feature \(bad) is \(image[bad])")
        }
    }

    /// `⟨w_ν, I⟩ + b_ν`: a node's score as a child of its parent.
    public func score(_ node: Int, _ image: [Double]) -> Double {
        var s = nodes[node].bias
        let w = nodes[node].weights
        for i in 0..<dimension { s += w[i] * image[i] }
        return s
    }
}

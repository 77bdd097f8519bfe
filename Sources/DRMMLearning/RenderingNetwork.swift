import DRMM
import NumericalCore
#if canImport(Glibc)
import Glibc
#endif

/// The parameters of a trainable DRMM, in one contiguous buffer.
///
/// For each level ℓ = 1…L: the filters `W⁽ˡ⁾` (`[C_ℓ, C_{ℓ−1}, K, K]`, row-major), which render
/// top-down as a transposed convolution and infer bottom-up as a convolution (tied weights),
/// then the bias `b⁽ˡ⁾` (one per channel; the discriminatively relaxed prior of the switch,
/// spec §3.9). Then the class templates `μ_c` (`[classes, d]`, also the softmax weights of
/// the top) and the class biases `b_c` (the relaxed `ln π_c`). One buffer makes the optimiser,
/// the data-parallel gradient sum and the checkpoint single loops.
///
/// With batch normalisation (``Architecture/Normalization/batch``) each level also holds its
/// scales `γ` (one per channel, trained) and its running statistics (the channel means, then
/// the variances; updated by the trainer from the batches, never by the optimiser: their
/// gradient is zero).
public struct RenderingNetwork<T: BLASScalar>: Sendable {
    /// Where each block lives in ``parameters``.
    public struct Layout: Sendable, Equatable {
        /// `W⁽ˡ⁾` of every level.
        public let filters: [Range<Int>]
        /// `b⁽ˡ⁾` of every level.
        public let biases: [Range<Int>]
        /// `γ` per level (empty without batch normalisation).
        public let scales: [Range<Int>]
        /// Running means then variances per level (empty without batch normalisation).
        public let statistics: [Range<Int>]
        /// `μ_c` of every class, `[classes, d]`.
        public let classTemplates: Range<Int>
        /// `b_c` of every class.
        public let classBias: Range<Int>
        /// `d`: the length of one class template.
        public let templateLength: Int
        /// The number of parameters.
        public var count: Int { classBias.upperBound }
    }

    /// The network's shape.
    public let architecture: Architecture
    /// Every level's shapes, chained from the input.
    public let geometry: [LayerGeometry]
    /// Where each block lives in ``parameters``.
    public let layout: Layout
    /// Every parameter, in one buffer.
    public var parameters: [T]

    /// A network with every parameter zero (batch-normalisation scales and variances one)
    /// except the biases, which start at each level's declared switch prior as log-odds,
    /// `ln(π_ON/π_OFF)` (zero for the default `π_ON = ½`): the bias is the relaxed prior.
    public init(architecture: Architecture, limits: ResourceLimits = .standard) throws {
        self.architecture = architecture
        geometry = try architecture.geometry(limits: limits)
        layout = Self.layout(architecture: architecture, geometry: geometry)
        parameters = [T](repeating: 0, count: layout.count)
        for (l, spec) in architecture.layers.enumerated() where spec.switchPrior != 0.5 {
            let logOdds = T(log(spec.switchPrior / (1 - spec.switchPrior)))
            for i in layout.biases[l] { parameters[i] = logOdds }
        }
        // γ = 1; running means 0 and variances 1.
        for (l, g) in geometry.enumerated() where architecture.normalization.isBatch {
            for i in layout.scales[l] { parameters[i] = 1 }
            for i in layout.statistics[l].dropFirst(g.convolved[0]) { parameters[i] = 1 }
        }
    }

    /// Where each block of the parameters of `architecture` (with its `geometry`) lives.
    static func layout(architecture: Architecture, geometry: [LayerGeometry]) -> Layout {
        var at = 0
        func take(_ n: Int) -> Range<Int> { defer { at += n }; return at..<(at + n) }
        var f: [Range<Int>] = [], b: [Range<Int>] = [], scales: [Range<Int>] = [], statistics: [Range<Int>] = []
        let normalised = architecture.normalization.isBatch
        for g in geometry {
            f.append(take(g.convolved[0] * g.input[0] * g.kernel * g.kernel))
            b.append(take(g.convolved[0]))
            scales.append(take(normalised ? g.convolved[0] : 0))
            statistics.append(take(normalised ? 2 * g.convolved[0] : 0))
        }
        let top = geometry[geometry.count - 1].pooled
        let d = architecture.top == .dense ? top.reduce(1, *) : top[0]
        let templates = take(architecture.classes * d)
        let classBias = take(architecture.classes)
        return Layout(
            filters: f, biases: b, scales: scales, statistics: statistics, classTemplates: templates,
            classBias: classBias, templateLength: d)
    }

    /// How filters are drawn at the start.
    public enum Initialization: String, Codable, Sendable, CaseIterable {
        /// Uniform on `±√(6/(fan_in + fan_out))`: the authors' code (spec §6.6).
        case xavier
        /// Uniform on `±√(6/fan_in)` (variance `2/fan_in`), which keeps the scale of ReLU
        /// activations from level to level (He et al.).
        case he
    }

    /// Random filters and templates (GSL MT19937 draws) and biases at the switch priors’
    /// log-odds. Templates are always
    /// Xavier-uniform.
    public init(architecture: Architecture, seed: UInt64, initialization: Initialization = .xavier) throws {
        try self.init(architecture: architecture)
        let rng = RandomSource(seed: seed)
        for (l, g) in geometry.enumerated() {
            let k2 = g.kernel * g.kernel
            let limit =
                initialization == .xavier
                ? (6.0 / Double((g.input[0] + g.convolved[0]) * k2)).squareRoot()
                : (6.0 / Double(g.input[0] * k2)).squareRoot()
            for i in layout.filters[l] { parameters[i] = T(rng.uniform(-limit, limit)) }
        }
        let limit = (6.0 / Double(layout.templateLength + architecture.classes)).squareRoot()
        for i in layout.classTemplates { parameters[i] = T(rng.uniform(-limit, limit)) }
    }

    /// The same network in another precision.
    public func converted<U: BLASScalar>(to: U.Type = U.self) -> RenderingNetwork<U> {
        // The layout depends only on the architecture, which was already validated.
        var other = RenderingNetwork<U>(
            unchecked: architecture, geometry: geometry,
            layout: RenderingNetwork<U>.Layout(
                filters: layout.filters, biases: layout.biases, scales: layout.scales, statistics: layout.statistics,
                classTemplates: layout.classTemplates,
                classBias: layout.classBias, templateLength: layout.templateLength))
        other.parameters = parameters.map { U($0) }
        return other
    }

    init(unchecked architecture: Architecture, geometry: [LayerGeometry], layout: Layout) {
        self.architecture = architecture
        self.geometry = geometry
        self.layout = layout
        parameters = [T](repeating: 0, count: layout.count)
    }

    /// The indices that the theorem's condition E2 needs nonnegative: the filters of levels
    /// ℓ ≥ 2, the batch-normalisation scales `γ` (they multiply the filters when folded), and
    /// the class templates.
    public var upperWeightIndices: [Range<Int>] {
        Array(layout.filters.dropFirst()) + layout.scales + [layout.classTemplates]
    }

    /// Projects ``upperWeightIndices`` onto `[0, ∞)`.
    public mutating func projectOntoNonnegativeUpperWeights() {
        let ranges = upperWeightIndices
        parameters.withUnsafeMutableBufferPointer { p in
            for r in ranges { for i in r where p[i] < 0 { p[i] = 0 } }
        }
    }

    /// Checks that every parameter is finite.
    public func validate() throws {
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            throw DRMMError.invalidParameter(
                "parameter \(bad) of \(parameters.count) is \(parameters[bad])" + describe(index: bad))
        }
    }

    /// Names the block an index falls in ("filters of level 2", …).
    public func describe(index i: Int) -> String {
        for l in geometry.indices {
            if layout.filters[l].contains(i) { return " (filters of level \(l + 1))" }
            if layout.biases[l].contains(i) { return " (bias of level \(l + 1))" }
            if layout.scales[l].contains(i) { return " (normalisation scale of level \(l + 1))" }
            if layout.statistics[l].contains(i) { return " (running statistics of level \(l + 1))" }
        }
        return layout.classTemplates.contains(i) ? " (class templates)" : " (class bias)"
    }
}

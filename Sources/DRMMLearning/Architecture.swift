import DRMM
import NumericalCore

/// The shape of a trainable DRMM: the rendering levels, and how the top level meets the
/// classes.
///
/// The top is where the class template `μ_c` lives. With `Readout.dense` `μ_c` is a
/// full map over the top level (the class scores are `⟨μ_c, I⁽ᴸ⁾⟩ + b_c`); with
/// `Readout.meanPool` `μ_c` is one value per channel, broadcast over the map when
/// rendering, and the scores read the globally mean-pooled map (Conv-Small's top, spec §6.5).
public struct Architecture: Codable, Equatable, Sendable {
    /// How the top level meets the classes (`Readout`, shared with the convnet and the model).
    public typealias Top = Readout

    /// What happens to a level's convolution before its bias and switch.
    ///
    /// With ``batch`` (Ioffe & Szegedy), training normalises each channel of `S = W ⋆ I` by the
    /// mean and variance over the batch's images and positions and rescales it by a learned
    /// `γ`: `γ (S − m) / √(v + ε) + b`. At test time `m` and `v` are running averages, so the
    /// level is again `W' ⋆ I + b'` with `W' = γ W / √(v + ε)` and `b' = b − γ m / √(v + ε)`: a
    /// DRMM level with a rescaled rendering matrix and a shifted switch prior (spec §9: the
    /// authors' code has it as an option, and Ladder's Conv-Small uses it).
    public enum Normalization: String, Codable, Sendable, CaseIterable {
        /// No normalisation: the level is `W ⋆ I + b`.
        case none
        /// Batch normalisation in the bottom-up pass only; the top-down reconstruction renders
        /// with `W` itself, whose scale the normalisation leaves free.
        case batch
        /// Batch normalisation whose top-down pass renders with the normalised rendering matrix
        /// `Λ = γ W / σ` (per output channel, `σ = √(v + ε)` of the same statistics as the
        /// bottom-up pass): the rendering matrix of the DRMM the normalised level folds into.
        case batchFolded

        /// Whether the bottom-up pass normalises.
        public var isBatch: Bool { self != .none }
    }

    /// A name for reports and checkpoints (`drmm5`, `drmm5-bn`, …).
    public var name: String
    /// `[C, H, W]` of an image.
    public var inputShape: [Int]
    /// The rendering levels, bottom (ℓ = 1) first.
    public var layers: [LayerSpec]
    /// The number of classes.
    public var classes: Int
    /// How the top level meets the classes.
    public var top: Top
    /// What happens to each level's convolution before its bias and switch.
    public var normalization: Normalization

    /// An architecture; ``geometry(limits:)`` checks that the levels chain.
    public init(
        name: String, inputShape: [Int], layers: [LayerSpec], classes: Int, top: Top,
        normalization: Normalization = .none
    ) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        self.classes = classes
        self.top = top
        self.normalization = normalization
    }

    private enum CodingKeys: String, CodingKey { case name, inputShape, layers, classes, top, normalization }

    /// Decodes an architecture; `name` (`custom`), `top` (dense) and `normalization` (none)
    /// may be left out.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decodeIfPresent(String.self, forKey: .name) ?? "custom",
            inputShape: try c.decode([Int].self, forKey: .inputShape),
            layers: try c.decode([LayerSpec].self, forKey: .layers),
            classes: try c.decode(Int.self, forKey: .classes),
            top: try c.decodeIfPresent(Top.self, forKey: .top) ?? .dense,
            normalization: try c.decodeIfPresent(Normalization.self, forKey: .normalization) ?? .none)
    }

    /// The same architecture with batch normalisation, named `<name>-bn`, or `<name>-bnf` when
    /// the top-down pass renders with the normalised filters (`folded`).
    public func batchNormalized(folded: Bool = false) -> Architecture {
        var a = self
        a.normalization = folded ? .batchFolded : .batch
        for suffix in ["-bn", "-bnf"] where a.name.hasSuffix(suffix) { a.name.removeLast(suffix.count) }
        a.name += folded ? "-bnf" : "-bn"
        return a
    }

    /// Every level's shapes, chained from the input; throws if they do not chain, or if the
    /// network's parameters or one image's activations would exceed `limits` (checked with
    /// overflow-safe arithmetic before anything is allocated).
    public func geometry(limits: ResourceLimits = .standard) throws -> [LayerGeometry] {
        let geometry = try LayerGeometry.chain(layers, input: inputShape, limits: limits)
        guard classes >= 2 else {
            throw DRMMError.invalidParameter("a classifier needs at least 2 classes, got \(classes)")
        }
        guard classes <= limits.architectureSize else {
            throw DRMMError.tooLarge(
                "\(classes) classes is above the limit of \(limits.architectureSize) (raise it with --limit "
                    + "architectureSize=N)"
            )
        }
        try checkSizes(geometry, limits: limits)
        return geometry
    }

    /// Refuses a network whose parameters or per-image activations exceed `limits`.
    private func checkSizes(_ geometry: [LayerGeometry], limits: ResourceLimits) throws {
        var parameters = 0, activations = ResourceLimits.product(inputShape) ?? .max
        func add(_ total: inout Int, _ factors: [Int]) {
            total = ResourceLimits.product(factors).flatMap { ResourceLimits.sum(total, $0) } ?? .max
        }
        for g in geometry {
            add(&parameters, [g.convolved[0], g.input[0], g.kernel, g.kernel])
            add(&parameters, [4, g.convolved[0]])  // bias, scale, running mean and variance
            add(&activations, g.convolved)
            add(&activations, g.pooled)
        }
        let top = geometry[geometry.count - 1].pooled
        add(&parameters, [classes, self.top == .dense ? ResourceLimits.product(top) ?? .max : top[0]])
        add(&parameters, [classes])
        do {
            try limits.check(parameters, limit: \.modelParameters, what: "architecture \(name)'s parameters")
            try limits.check(
                activations, limit: \.activationsPerImage, what: "architecture \(name)'s activations per image")
        } catch let e as ResourceLimitError { throw DRMMError.tooLarge("\(e)") }
    }

    /// The 1-level Rendering Factor Model for MNIST (spec §2.9, §6.2): 32 filters 5×5 with
    /// "full" padding, 2×2 max-pool, and a dense class template over the 16×16×32 map. The paper
    /// does not give its configuration; this is the single-level head of Conv-Small.
    public static let rfm = Architecture(
        name: "rfm", inputShape: [1, 28, 28],
        layers: [LayerSpec(channels: 32, kernel: 5, padding: .full, pool: 2)], classes: 10, top: .dense)

    /// A 2-level DRMM for MNIST (configuration not given in the paper): Conv-Small's first two
    /// levels, 5×5×32 full + pool, 3×3×64 valid + pool, and a dense class template over 7×7×64.
    public static let drmm2 = Architecture(
        name: "drmm2", inputShape: [1, 28, 28],
        layers: [
            LayerSpec(channels: 32, kernel: 5, padding: .full, pool: 2),
            LayerSpec(channels: 64, kernel: 3, padding: .valid, pool: 2)
        ], classes: 10, top: .dense)

    /// The 5-level MNIST DRMM, Ladder's Conv-Small (spec §6.5): 5×5×32 full, pool, 3×3×64 valid,
    /// 3×3×64 full, pool, 3×3×128 valid, 1×1×10 valid, global mean-pool, then 10 classes.
    public static let drmm5 = Architecture(
        name: "drmm5", inputShape: [1, 28, 28],
        layers: [
            LayerSpec(channels: 32, kernel: 5, padding: .full, pool: 2),
            LayerSpec(channels: 64, kernel: 3, padding: .valid, pool: 1),
            LayerSpec(channels: 64, kernel: 3, padding: .full, pool: 2),
            LayerSpec(channels: 128, kernel: 3, padding: .valid, pool: 1),
            LayerSpec(channels: 10, kernel: 1, padding: .valid, pool: 1)
        ], classes: 10, top: .meanPool)

    /// The named MNIST architectures: `rfm`, `drmm2`, `drmm5`.
    public static let presets: [String: Architecture] = ["rfm": rfm, "drmm2": drmm2, "drmm5": drmm5]
}

import NumericalCore

/// Zero padding of a convolution, as a convnet user names it.
public enum Padding: String, Sendable, CaseIterable, Codable {
    /// No padding: output = input − kernel + 1.
    case valid
    /// Pad (kernel − 1)/2 on each side (odd kernels): output = input.
    case same
    /// Pad kernel − 1 on each side: output = input + kernel − 1.
    case full

    /// Padding on each side for a `kernel × kernel` filter.
    public func amount(kernel: Int) -> Int {
        switch self {
        case .valid: return 0
        case .same: return (kernel - 1) / 2
        case .full: return kernel - 1
        }
    }
}

/// One rendering level, declared the way a convnet layer is: `channels` filters of size
/// `kernel × kernel` with `padding`, then a `pool × pool` max-pool with stride `pool` (1 means
/// no pooling). In the DRMM the pool window is the range of the translational nuisance `t`, and
/// each pooled unit has a switch `a ∈ {OFF, ON}` with prior `switchPrior = p(a = ON)`.
public struct LayerSpec: Equatable, Sendable, Codable {
    /// `C_ℓ`: filters, and channels of the level's output.
    public var channels: Int
    /// `K`: the filters are `K × K`.
    public var kernel: Int
    /// Zero padding of the convolution.
    public var padding: Padding
    /// `p`: the translational nuisance ranges over a `p × p` window (1: no pooling).
    public var pool: Int
    /// `π_ON = p(a = ON)` of every switch of the level, in (0, 1).
    public var switchPrior: Double

    /// A level of `channels` `kernel × kernel` filters with `padding`, a `pool × pool` pool and
    /// switch prior `switchPrior`. The values are checked when the level is chained.
    public init(channels: Int, kernel: Int, padding: Padding = .valid, pool: Int = 1, switchPrior: Double = 0.5) {
        self.channels = channels
        self.kernel = kernel
        self.padding = padding
        self.pool = pool
        self.switchPrior = switchPrior
    }

    private enum CodingKeys: String, CodingKey { case channels, kernel, padding, pool, switchPrior }

    /// Decodes a level; `padding` (valid), `pool` (1) and `switchPrior` (½) may be left out.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            channels: try c.decode(Int.self, forKey: .channels), kernel: try c.decode(Int.self, forKey: .kernel),
            padding: try c.decodeIfPresent(Padding.self, forKey: .padding) ?? .valid,
            pool: try c.decodeIfPresent(Int.self, forKey: .pool) ?? 1,
            switchPrior: try c.decodeIfPresent(Double.self, forKey: .switchPrior) ?? 0.5)
    }
}

/// The shapes of one level once chained from the input.
public struct LayerGeometry: Equatable, Sendable {
    /// `[C_{ℓ−1}, H, W]`: the level's input (the previous level's pooled map).
    public let input: [Int]
    /// `[C_ℓ, H', W']`: the convolution's output (the unpooled resolution, where switches act).
    public let convolved: [Int]
    /// `[C_ℓ, H'/p, W'/p]`: the pooled output, one unit per nuisance `(t, a)`.
    public let pooled: [Int]
    /// `K`, the filter size.
    public let kernel: Int
    /// Zero padding on each side.
    public let pad: Int
    /// `p`, the pooling window's side.
    public let pool: Int

    /// Every level of `layers` chained from an input of shape `input` (`[C, H, W]`); throws if
    /// the input shape is not three positive sizes, there is no level, or a level does not chain.
    public static func chain(_ layers: [LayerSpec], input: [Int], limits: ResourceLimits = .standard) throws
        -> [LayerGeometry]
    {
        guard input.count == 3, input.allSatisfy({ $0 >= 1 }) else {
            throw DRMMError.invalidInput(
                "input shape must be [channels, height, width] with positive sizes, got \(input)")
        }
        guard !layers.isEmpty else {
            throw DRMMError.invalidLayer(layer: 0, message: "a DRMM needs at least one level")
        }
        var shape = input
        return try layers.enumerated().map { i, spec in
            let g = try chain(spec, input: shape, layer: i + 1, limits: limits)
            shape = g.pooled
            return g
        }
    }

    /// Chains `spec` onto an input of shape `[C, H, W]`, checking that everything fits and that
    /// no size exceeds `limits.architectureSize` (so that no shape arithmetic can overflow).
    public static func chain(_ spec: LayerSpec, input: [Int], layer: Int, limits: ResourceLimits = .standard) throws
        -> LayerGeometry
    {
        let largest = limits.architectureSize
        for (what, size) in [("channels", spec.channels), ("kernel", spec.kernel), ("pool", spec.pool)]
            + zip(["input channels", "input height", "input width"], input).map({ ($0, $1) }) where size > largest
        {
            throw DRMMError.tooLarge(
                "layer \(layer): \(what) \(size) is above the limit of \(largest) (raise it with --limit "
                    + "architectureSize=N)"
            )
        }
        guard input.count == 3 else {
            throw DRMMError.invalidLayer(layer: layer, message: "input must be [channels, height, width], got \(input)")
        }
        guard spec.channels >= 1 else {
            throw DRMMError.invalidLayer(layer: layer, message: "channels must be at least 1, got \(spec.channels)")
        }
        guard spec.kernel >= 1 else {
            throw DRMMError.invalidLayer(layer: layer, message: "kernel must be at least 1, got \(spec.kernel)")
        }
        guard spec.pool >= 1 else {
            throw DRMMError.invalidLayer(layer: layer, message: "pool must be at least 1, got \(spec.pool)")
        }
        guard spec.switchPrior > 0, spec.switchPrior < 1, spec.switchPrior.isFinite else {
            throw DRMMError.invalidLayer(
                layer: layer, message: "switch prior p(ON) must be in (0, 1), got \(spec.switchPrior)")
        }
        if spec.padding == .same && spec.kernel % 2 == 0 {
            throw DRMMError.invalidLayer(
                layer: layer, message: "'same' padding needs an odd kernel, got \(spec.kernel)")
        }
        let pad = spec.padding.amount(kernel: spec.kernel)
        let (h, w) = (input[1] + 2 * pad, input[2] + 2 * pad)
        guard spec.kernel <= h, spec.kernel <= w else {
            throw DRMMError.invalidLayer(
                layer: layer,
                message:
                    "kernel \(spec.kernel)×\(spec.kernel) is larger than its padded input \(h)×\(w) (height × width)")
        }
        let conv = [spec.channels, h - spec.kernel + 1, w - spec.kernel + 1]
        guard conv[1] % spec.pool == 0, conv[2] % spec.pool == 0 else {
            throw DRMMError.invalidLayer(
                layer: layer,
                message: "pool \(spec.pool) does not tile the \(conv[1])×\(conv[2]) convolution output (height × width)"
            )
        }
        return LayerGeometry(
            input: input, convolved: conv, pooled: [spec.channels, conv[1] / spec.pool, conv[2] / spec.pool],
            kernel: spec.kernel, pad: pad, pool: spec.pool)
    }
}

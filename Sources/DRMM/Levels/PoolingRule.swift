import NumericalCore

/// How a level's bottom-up step turns its convolution responses into pooled messages, and how
/// its top-down step unpools a template through what the bottom-up step selected: the one
/// place where max-sum and sum-product inference in a DRMM differ, the way a semiring
/// separates max-product from sum-product message passing.
///
/// Both operate on channel-major batches: responses `S` are `[O, N, H', W']`, pooled messages
/// and templates `[O, N, H'/p, W'/p]`. The ``Selection`` is a view of caller-owned storage, so
/// a pass allocates nothing per level and several workers can fill disjoint planes at once.
public protocol PoolingRule: Sendable {
    /// The precision of the level's maps.
    associatedtype Scalar: BLASScalar
    /// Where the bottom-up step records its choice of nuisances (pointers into caller storage).
    associatedtype Selection

    /// Adds `bias[o]` to every response of channel `o`, applies the switch and pools the
    /// `(channel, image)` planes in `planes` into `output`, recording the nuisances in
    /// `selection`. Returns the number of units whose switch is ON (most probably ON, for a
    /// soft rule).
    @discardableResult
    func pool(
        _ s: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>, output: UnsafeMutablePointer<Scalar>, selection: Selection
    ) -> Int

    /// `selection ⊙ Unpool(z)`: the template `z` on the pooled units, placed back at the
    /// convolution's resolution through the nuisances the bottom-up step selected.
    func unpool(
        _ z: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int, selection: Selection,
        into out: UnsafeMutablePointer<Scalar>)
}

/// Max-sum pooling: `I = max(0, max_t S_t + b)`, the `Conv → ReLU → MaxPool` of a convnet. The
/// selection is one *route* per pooled unit: the in-plane offset `q` of the argmax when the
/// switch is ON, `~q` when it is OFF (ties: the first position in the window, OFF at exactly
/// zero). Top-down, a route places the unit's value at its argmax when ON.
public struct MaxPooling<Scalar: BLASScalar>: PoolingRule {
    /// The max-sum rule.
    public init() {}

    /// `I = max(0, max_t S_t + b)` per pooled unit, its route in `routes`; returns the ON count.
    @discardableResult
    public func pool(
        _ s: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>, output: UnsafeMutablePointer<Scalar>, selection routes: UnsafeMutablePointer<Int32>
    ) -> Int {
        Kernels.biasReLUPool(s, bias: bias, g, batch: n, planes: planes, output: output, route: routes)
    }

    /// Each ON unit's value at its route, zero elsewhere: `a ⊙ t ⊙ Unpool(z)`.
    public func unpool(
        _ z: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int, selection routes: UnsafeMutablePointer<Int32>,
        into out: UnsafeMutablePointer<Scalar>
    ) {
        Kernels.scatterRouted(z, g, batch: n, route: routes, into: out)
    }

    /// The routes' translation `t = (y mod p)·p + (x mod p)` within the pooling window, for a
    /// route of either sign.
    public static func translation(route: Int32, _ g: LayerGeometry) -> Int {
        let q = Int(route >= 0 ? route : ~route), wo = g.convolved[2]
        return (q / wo % g.pool) * g.pool + q % wo % g.pool
    }

    /// The route of pooled unit `u` (an index in `[O, N, H'/p, W'/p]`) for translation `t` and
    /// switch `on`: the inverse of ``translation(route:_:)``.
    public static func route(unit u: Int, translation t: Int, on: Bool, _ g: LayerGeometry) -> Int32 {
        let (p, wp, hp, wo) = (g.pool, g.pooled[2], g.pooled[1], g.convolved[2])
        let (i, j) = ((u / wp) % hp, u % wp)
        let q = Int32((i * p + t / p) * wo + j * p + t % p)
        return on ? q : ~q
    }
}

/// What ``SoftPooling`` records per level: `q(a = ON)` of every pooled unit and the expected
/// mask `q(a = ON)·q(t)` at the convolution's resolution, both in caller-owned storage.
public struct SoftSelection<Scalar: BLASScalar> {
    /// `[O, N, H'/p, W'/p]`.
    public var switchPosterior: UnsafeMutablePointer<Scalar>
    /// `[O, N, H', W']`.
    public var mask: UnsafeMutablePointer<Scalar>

    /// A view of storage for `q(a = ON)` and the expected mask.
    public init(switchPosterior: UnsafeMutablePointer<Scalar>, mask: UnsafeMutablePointer<Scalar>) {
        self.switchPosterior = switchPosterior
        self.mask = mask
    }
}

/// Sum-product pooling at temperature τ (spec §4.7, the layer-local mean field): the max over
/// each nuisance becomes a log-sum-exp.
/// - translation: `u = τ ln((1/p²) Σ_t exp(S_t/τ)) + b` (uniform `π_t`), with `q(t) = softmax_t(S_t/τ)`;
/// - switch: `I = τ ln(1 + e^{u/τ})` (the soft ReLU), with `q(a = ON) = sigmoid(u/τ)`.
///
/// Top-down the masks are expectations, `q(a)·q(t) ⊙ Unpool(z)`. As τ → 0 each operator
/// becomes its ``MaxPooling`` counterpart.
public struct SoftPooling<Scalar: BLASScalar>: PoolingRule {
    /// τ > 0.
    public var temperature: Scalar

    /// The rule at temperature `temperature` (τ > 0).
    public init(temperature: Scalar) { self.temperature = temperature }

    /// `I = τ softplus(u/τ)` with `u` the log-sum-exp pool plus the bias, recording `q(a = ON)`
    /// and `q(a = ON)·q(t)`; returns the number of units more probably ON than OFF.
    @discardableResult
    public func pool(
        _ s: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>, output: UnsafeMutablePointer<Scalar>, selection: SoftSelection<Scalar>
    ) -> Int {
        let (ho, wo, p) = (g.convolved[1], g.convolved[2], g.pool)
        let (hp, wp) = (ho / p, wo / p)
        let tau = temperature, logWindow = Scalar.logarithm(Scalar(p * p))
        var on = 0
        for plane in planes {
            let b = bias[plane / n]
            let src = s + plane * ho * wo, qt = selection.mask + plane * ho * wo
            for i in 0..<hp {
                for j in 0..<wp {
                    var m = -Scalar.infinity
                    for di in 0..<p { for dj in 0..<p { m = max(m, src[(i * p + di) * wo + j * p + dj]) } }
                    var z: Scalar = 0
                    for di in 0..<p {
                        for dj in 0..<p {
                            let q = (i * p + di) * wo + j * p + dj
                            qt[q] = Scalar.exponential((src[q] - m) / tau)
                            z += qt[q]
                        }
                    }
                    let u = m + tau * (Scalar.logarithm(z) - logWindow) + b
                    let qa = 1 / (1 + Scalar.exponential(-u / tau))
                    for di in 0..<p { for dj in 0..<p { qt[(i * p + di) * wo + j * p + dj] *= qa / z } }
                    let unit = plane * hp * wp + i * wp + j
                    // τ·softplus(u/τ), stably.
                    output[unit] =
                        u > 0
                        ? u + tau * Scalar.logarithmOnePlus(Scalar.exponential(-u / tau))
                        : tau * Scalar.logarithmOnePlus(Scalar.exponential(u / tau))
                    selection.switchPosterior[unit] = qa
                    if qa > 0.5 { on += 1 }
                }
            }
        }
        return on
    }

    /// `q(a)·q(t) ⊙ Unpool(z)`: every unit's value spread over its window by the expected mask.
    public func unpool(
        _ z: UnsafePointer<Scalar>, _ g: LayerGeometry, batch n: Int, selection: SoftSelection<Scalar>,
        into out: UnsafeMutablePointer<Scalar>
    ) {
        LevelOperators.unpool(z, g, batch: n, mask: selection.mask, into: out)
    }
}

import NumericalCore

/// The two steps of one DRMM level, written once for every pass — exact Double inference, the
/// Float convnet, the training pass, soft inference, generation and reconstruction — generic
/// over the precision and, through ``PoolingRule``, over max-sum or sum-product pooling.
///
/// - **Bottom-up** (spec §3.7): `S = W⁽ˡ⁾ ⋆ I⁽ˡ⁻¹⁾` (im2col and one GEMM), then the rule's bias,
///   switch and pool: `I⁽ˡ⁾ = MaxPool(ReLU(S + β))` for ``MaxPooling``.
/// - **Top-down** (spec §3.4): unpool by the selected nuisances, then the transposed
///   convolution `z⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ ⋆ (a ⊙ t ⊙ Unpool z⁽ˡ⁾)`, the adjoint of the bottom-up
///   convolution with the same filters.
///
/// Maps are channel-major batches `[C, N, H, W]` (one image is `[C, H, W]` with `N = 1`).
/// Filters are `[O, C, K, K]`. Scratch buffers belong to the caller, so a pass that reuses them
/// allocates nothing per batch. The training pass reaches its Winograd kernels through the same
/// interface: only its convolution differs, never the pooling, unpooling or top.
public enum LevelOperators {
    /// The length of the im2col scratch that ``convolve(_:filters:_:batch:columns:into:)`` and
    /// ``transposedConvolve(_:filters:_:batch:columns:into:)`` need for `n` images.
    public static func columnsLength(_ g: LayerGeometry, batch n: Int) -> Int {
        g.input[0] * g.kernel * g.kernel * n * g.convolved[1] * g.convolved[2]
    }

    /// `S = W ⋆ x`: `x` is `[C, N, H, W]`, `s` receives `[O, N, H', W']`; `columns` holds the
    /// im2col patches afterwards (for a filter gradient).
    @inlinable
    public static func convolve<T: BLASScalar>(
        _ x: UnsafePointer<T>, filters w: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int,
        columns: UnsafeMutablePointer<T>, into s: UnsafeMutablePointer<T>
    ) {
        let rows = g.input[0] * g.kernel * g.kernel, cols = n * g.convolved[1] * g.convolved[2]
        Kernels.im2col(x, g, batch: n, into: columns)
        T.gemm(
            transposeA: false, transposeB: false, m: g.convolved[0], n: cols, k: rows, alpha: 1, a: w, lda: rows,
            b: columns, ldb: cols, beta: 0, c: s, ldc: cols)
    }

    /// `x = Wᵀ ⋆ m`, the adjoint of ``convolve(_:filters:_:batch:columns:into:)``: `m` is
    /// `[O, N, H', W']`, `x` receives `[C, N, H, W]` (overwritten).
    @inlinable
    public static func transposedConvolve<T: BLASScalar>(
        _ m: UnsafePointer<T>, filters w: UnsafePointer<T>, _ g: LayerGeometry,
        batch n: Int, columns: UnsafeMutablePointer<T>, into x: UnsafeMutablePointer<T>
    ) {
        let rows = g.input[0] * g.kernel * g.kernel, cols = n * g.convolved[1] * g.convolved[2]
        T.gemm(
            transposeA: true, transposeB: false, m: rows, n: cols, k: g.convolved[0], alpha: 1, a: w, lda: rows,
            b: m, ldb: cols, beta: 0, c: columns, ldc: cols)
        Kernels.col2im(columns, g, batch: n, into: x)
    }

    /// `mask ⊙ Unpool(z)`: every pooled value of `z` (`[O, N, H'/p, W'/p]`) spread over its
    /// window and weighted by `mask` (`[O, N, H', W']`) — the expected unpooling of soft
    /// inference, and the hard one when the mask is one-hot.
    @inlinable
    public static func unpool<T: BLASScalar>(
        _ z: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int, mask: UnsafePointer<T>,
        into out: UnsafeMutablePointer<T>
    ) {
        let (o, ho, wo, p) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
        let (hp, wp) = (ho / p, wo / p)
        for plane in 0..<(o * n) {
            for y in 0..<ho {
                let row = (plane * ho + y) * wo, pooledRow = (plane * hp + y / p) * wp
                for x in 0..<wo { out[row + x] = mask[row + x] * z[pooledRow + x / p] }
            }
        }
    }

    /// The bottom-up step of a level: ``convolve(_:filters:_:batch:columns:into:)`` into
    /// `response`, then the rule's bias, switch and pool into `output`. Returns the number of
    /// ON units.
    @discardableResult @inlinable
    public static func bottomUp<Rule: PoolingRule>(
        _ x: UnsafePointer<Rule.Scalar>, filters w: UnsafePointer<Rule.Scalar>,
        bias: UnsafePointer<Rule.Scalar>, _ g: LayerGeometry, batch n: Int, rule: Rule,
        columns: UnsafeMutablePointer<Rule.Scalar>, response: UnsafeMutablePointer<Rule.Scalar>,
        output: UnsafeMutablePointer<Rule.Scalar>, selection: Rule.Selection
    ) -> Int {
        convolve(x, filters: w, g, batch: n, columns: columns, into: response)
        return rule.pool(
            UnsafePointer(response), bias: bias, g, batch: n, planes: 0..<(g.convolved[0] * n), output: output,
            selection: selection)
    }

    /// The top-down step of a level: the rule's unpooling of `z` into `unpooled`, then
    /// ``transposedConvolve(_:filters:_:batch:columns:into:)`` into `x`.
    @inlinable
    public static func topDown<Rule: PoolingRule>(
        _ z: UnsafePointer<Rule.Scalar>, filters w: UnsafePointer<Rule.Scalar>, _ g: LayerGeometry,
        batch n: Int, rule: Rule, selection: Rule.Selection,
        unpooled: UnsafeMutablePointer<Rule.Scalar>, columns: UnsafeMutablePointer<Rule.Scalar>,
        into x: UnsafeMutablePointer<Rule.Scalar>
    ) {
        rule.unpool(z, g, batch: n, selection: selection, into: unpooled)
        transposedConvolve(UnsafePointer(unpooled), filters: w, g, batch: n, columns: columns, into: x)
    }
}

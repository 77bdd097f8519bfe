import NumericalCore

/// How the class scores read the top level's pooled map `I⁽ᴸ⁾` (`[C, H, W]`), and how a class
/// template is rendered onto it: the one place where the dense top and the mean-pool top (and
/// their adjoints) are written.
///
/// - ``dense``: the feature vector is the whole map (`d = C·H·W`), the scores are
///   `⟨μ_c, I⁽ᴸ⁾⟩ + b_c`, and `μ_c` is the top template itself.
/// - ``meanPool``: the features are the channel means (`d = C`; Conv-Small's top, spec §6.5),
///   the scores `Σ_k w_ck mean_k I⁽ᴸ⁾ + b_c`, and top-down `w_c` is broadcast over the map
///   (`z⁽ᴸ⁾[k, i, j] = w_ck`), so the score is `⟨z⁽ᴸ⁾, I⁽ᴸ⁾⟩ / (H·W)`.
public enum Readout: String, Codable, Sendable, CaseIterable {
    case dense
    case meanPool

    /// `d`, the length of a feature vector (and of a class's weights) over a `[C, H, W]` top.
    public func featureLength(top: [Int]) -> Int {
        self == .dense ? top.reduce(1, *) : top[0]
    }

    /// The features `f[N, d]` of a channel-major top map `[C, N, H, W]` of shape `top = [C, H, W]`.
    @inlinable
    public func features<T: BLASScalar>(
        _ map: UnsafePointer<T>, top: [Int], batch n: Int, into f: UnsafeMutablePointer<T>
    ) {
        let (ct, hw) = (top[0], top[1] * top[2])
        let d = featureLength(top: top)
        for i in 0..<n {
            for c in 0..<ct {
                let plane = map + (c * n + i) * hw
                switch self {
                case .meanPool:
                    var s: T = 0
                    for q in 0..<hw { s += plane[q] }
                    f[i * d + c] = s / T(hw)
                case .dense:
                    (f + i * d + c * hw).update(from: plane, count: hw)
                }
            }
        }
    }

    /// The adjoint of ``features(_:top:batch:into:)``: a gradient on the features `[N, d]`
    /// spread back onto the map `[C, N, H, W]` (a mean-pool feature's gradient goes to each of
    /// its `H·W` positions divided by `H·W`).
    @inlinable
    public func featuresAdjoint<T: BLASScalar>(
        _ df: UnsafePointer<T>, top: [Int], batch n: Int, into map: UnsafeMutablePointer<T>
    ) {
        let (ct, hw) = (top[0], top[1] * top[2])
        let d = featureLength(top: top)
        for i in 0..<n {
            for c in 0..<ct {
                let plane = map + (c * n + i) * hw
                switch self {
                case .meanPool: plane.update(repeating: df[i * d + c] / T(hw), count: hw)
                case .dense: plane.update(from: df + i * d + c * hw, count: hw)
                }
            }
        }
    }

    /// Places image `i`'s class template `w` (length `d`) on the top map `[C, N, H, W]` as
    /// `z⁽ᴸ⁾`, scaled by `weight` and added to what is there (the start of the top-down pass;
    /// soft inference adds every class weighted by its posterior).
    @inlinable
    public func render<T: BLASScalar>(
        _ w: UnsafePointer<T>, weight: T = 1, image i: Int, top: [Int], batch n: Int,
        into map: UnsafeMutablePointer<T>
    ) {
        let (ct, hw) = (top[0], top[1] * top[2])
        for c in 0..<ct {
            let plane = map + (c * n + i) * hw
            switch self {
            case .meanPool: for q in 0..<hw { plane[q] += weight * w[c] }
            case .dense: for q in 0..<hw { plane[q] += weight * w[c * hw + q] }
            }
        }
    }

    /// The adjoint of ``render(_:weight:image:top:batch:into:)`` with unit weight: adds image
    /// `i`'s gradient on the top map to the gradient of its template `dw` (a broadcast weight
    /// collects the sum over its map).
    @inlinable
    public func renderAdjoint<T: BLASScalar>(
        _ map: UnsafePointer<T>, image i: Int, top: [Int], batch n: Int,
        into dw: UnsafeMutablePointer<T>
    ) {
        let (ct, hw) = (top[0], top[1] * top[2])
        for c in 0..<ct {
            let plane = map + (c * n + i) * hw
            switch self {
            case .meanPool:
                var s: T = 0
                for q in 0..<hw { s += plane[q] }
                dw[c] += s
            case .dense:
                for q in 0..<hw { dw[c * hw + q] += plane[q] }
            }
        }
    }

    /// `scores[N, K] = f · Wᵀ + b`: the class scores of features `f[N, d]` under weights
    /// `W[K, d]` and biases `b[K]` (one GEMM).
    @inlinable
    public static func scores<T: BLASScalar>(
        _ f: UnsafePointer<T>, weights w: UnsafePointer<T>, bias b: UnsafePointer<T>,
        batch n: Int, classes k: Int, featureLength d: Int, into s: UnsafeMutablePointer<T>
    ) {
        for i in 0..<n { for c in 0..<k { s[i * k + c] = b[c] } }
        T.gemm(
            transposeA: false, transposeB: true, m: n, n: k, k: d, alpha: 1, a: f, lda: d, b: w, ldb: d, beta: 1, c: s,
            ldc: k)
    }

    /// The dense template over the whole `[C, H, W]` map whose score equals this readout's:
    /// itself for ``dense``, and `w_ck / (H·W)` at every position of channel `k` for ``meanPool``.
    public func denseTemplate<T: BLASScalar>(_ w: [T], top: [Int]) -> [T] {
        switch self {
        case .dense: return w
        case .meanPool:
            let hw = top[1] * top[2]
            return (0..<(top[0] * hw)).map { w[$0 / hw] / T(hw) }
        }
    }
}

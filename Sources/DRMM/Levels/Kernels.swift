/// The data-movement kernels of one level, on channel-major batches `[C, N, H, W]`.
///
/// `im2col` lays the `K×K` patches of every image side by side so that a convolution of the
/// whole batch is one GEMM, `S[O, N·H'·W'] = W[O, C·K·K] · cols`; `col2im` is its adjoint
/// (it sums overlapping patches back), so a transposed convolution — the DRMM's rendering
/// step — is `col2im(Wᵀ · m)`.
@usableFromInline package enum Kernels {
    /// `cols[(c·K + r)·K + s, (n·H' + y)·W' + x] = input[c, n, y + r − pad, x + s − pad]` (0 outside),
    /// for the rows in `rows` (all by default; callers splitting the work pass disjoint ranges).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func im2col<T: BinaryFloatingPoint>(
        _ x: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int,
        rows: Range<Int>? = nil, into out: UnsafeMutablePointer<T>
    ) {
        let (c, h, w) = (g.input[0], g.input[1], g.input[2])
        let (ho, wo, k, pad) = (g.convolved[1], g.convolved[2], g.kernel, g.pad)
        let cols = n * ho * wo
        for row in rows ?? 0..<(c * k * k) {
            let ci = row / (k * k), r = (row / k) % k, s = row % k
            let dst = out + row * cols
            let lo = min(wo, max(0, pad - s)), hi = max(lo, min(wo, w + pad - s))
            for img in 0..<n {
                let plane = x + (ci * n + img) * h * w
                let d = dst + img * ho * wo
                for oy in 0..<ho {
                    let iy = oy + r - pad
                    let drow = d + oy * wo
                    if iy < 0 || iy >= h { drow.update(repeating: 0, count: wo); continue }
                    if lo > 0 { drow.update(repeating: 0, count: lo) }
                    if hi > lo { drow.advanced(by: lo).update(from: plane + iy * w + lo + s - pad, count: hi - lo) }
                    if hi < wo { drow.advanced(by: hi).update(repeating: 0, count: wo - hi) }
                }
            }
        }
    }

    /// The adjoint of ``im2col(_:_:batch:into:)``: `out` is overwritten with the patch sums.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func col2im<T: BinaryFloatingPoint>(
        _ colsIn: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int, into x: UnsafeMutablePointer<T>
    ) {
        let (c, h, w) = (g.input[0], g.input[1], g.input[2])
        let (ho, wo, k, pad) = (g.convolved[1], g.convolved[2], g.kernel, g.pad)
        let cols = n * ho * wo
        x.update(repeating: 0, count: c * n * h * w)
        for row in 0..<(c * k * k) {
            let ci = row / (k * k), r = (row / k) % k, s = row % k
            let src = colsIn + row * cols
            let lo = min(wo, max(0, pad - s)), hi = max(lo, min(wo, w + pad - s))
            guard hi > lo else { continue }
            for img in 0..<n {
                let plane = x + (ci * n + img) * h * w
                let sp = src + img * ho * wo
                for oy in 0..<ho {
                    let iy = oy + r - pad
                    if iy < 0 || iy >= h { continue }
                    let dst = plane + iy * w + s - pad
                    let srow = sp + oy * wo
                    for ox in lo..<hi { dst[ox] += srow[ox] }
                }
            }
        }
    }

    /// Bias, ReLU and `p×p` max-pool of `S[O, N, H', W']`, recording the MAP nuisances: for every
    /// pooled unit, `route` holds the in-plane offset `q` of its argmax when the switch is ON
    /// (value + bias > 0) and `~q = −q − 1` when it is OFF, so that `route ≥ 0` is the switch and
    /// the argmax is kept either way. Ties go to the first position in the window.
    /// `planes` restricts the work to those `(channel, image)` planes (all by default; callers
    /// splitting the work pass disjoint ranges). Returns the number of ON switches.
    @discardableResult
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func biasReLUPool<T: BinaryFloatingPoint>(
        _ s: UnsafePointer<T>, bias: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>? = nil,
        output: UnsafeMutablePointer<T>, route: UnsafeMutablePointer<Int32>
    ) -> Int {
        let (o, ho, wo, p) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
        let (hp, wp) = (ho / p, wo / p)
        if T.self == Float.self, p == 1 {
            return biasReLU(
                UnsafeRawPointer(s).assumingMemoryBound(to: Float.self),
                bias: UnsafeRawPointer(bias).assumingMemoryBound(to: Float.self), g, batch: n, planes: planes,
                output: UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self), route: route)
        }
        if T.self == Float.self, p == 2 {
            return biasReLUPool2(
                UnsafeRawPointer(s).assumingMemoryBound(to: Float.self),
                bias: UnsafeRawPointer(bias).assumingMemoryBound(to: Float.self), g, batch: n, planes: planes,
                output: UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self), route: route)
        }
        var on = 0
        for plane in planes ?? 0..<(o * n) {
            let src = s + plane * ho * wo
            let b = bias[plane / n]
            let base = plane * hp * wp
            let out = output + base, r = route + base
            switch p {
            case 1:  // no pooling: bias and ReLU
                for u in 0..<(hp * wp) {
                    let v = src[u] + b
                    if v > 0 { out[u] = v; r[u] = Int32(u); on += 1 } else { out[u] = 0; r[u] = ~Int32(u) }
                }
            case 2:  // 2×2 windows
                for i in 0..<hp {
                    let r0 = src + 2 * i * wo, r1 = r0 + wo
                    for j in 0..<wp {
                        let (best, at) = window2(r0, r1, row: i, column: j, width: wo)
                        let v = best + b
                        let u = i * wp + j
                        if v > 0 { out[u] = v; r[u] = Int32(at); on += 1 } else { out[u] = 0; r[u] = ~Int32(at) }
                    }
                }
            default:
                for i in 0..<hp {
                    for j in 0..<wp {
                        var best = src[i * p * wo + j * p], at = i * p * wo + j * p
                        for di in 0..<p {
                            for dj in 0..<p {
                                let q = (i * p + di) * wo + j * p + dj
                                if src[q] > best { best = src[q]; at = q }
                            }
                        }
                        let v = best + b
                        let u = i * wp + j
                        if v > 0 { out[u] = v; r[u] = Int32(at); on += 1 } else { out[u] = 0; r[u] = ~Int32(at) }
                    }
                }
            }
        }
        return on
    }

    /// The maximum of the 2×2 window `(i, j)` over the rows `r0 = 2i`, `r1 = 2i + 1` of a plane
    /// `wo` wide, and its in-plane offset (ties to the first position, row by row).
    @inlinable @inline(__always) static func window2<T: BinaryFloatingPoint>(
        _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>,
        row i: Int, column j: Int, width wo: Int
    ) -> (T, Int) {
        var best = r0[2 * j], at = 2 * i * wo + 2 * j
        if r0[2 * j + 1] > best { best = r0[2 * j + 1]; at = 2 * i * wo + 2 * j + 1 }
        if r1[2 * j] > best { best = r1[2 * j]; at = (2 * i + 1) * wo + 2 * j }
        if r1[2 * j + 1] > best { best = r1[2 * j + 1]; at = (2 * i + 1) * wo + 2 * j + 1 }
        return (best, at)
    }

    /// ``biasReLUPool(_:bias:_:batch:output:route:)`` without pooling (1×1 windows) in Float,
    /// eight units at a time with SIMD.
    @inlinable static func biasReLU(
        _ s: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>?, output: UnsafeMutablePointer<Float>, route: UnsafeMutablePointer<Int32>
    ) -> Int {
        let (o, per) = (g.convolved[0], g.convolved[1] * g.convolved[2])
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7), one = SIMD8<Int32>(repeating: 1)
        var on = SIMD8<Int32>(repeating: 0), onScalar = 0
        for plane in planes ?? 0..<(o * n) {
            let src = s + plane * per, out = output + plane * per, r = route + plane * per
            let b = bias[plane / n]
            var u = 0
            while u + 8 <= per {
                let v = UnsafeRawPointer(src + u).loadUnaligned(as: SIMD8<Float>.self) + b
                let off = .!(v .> 0)
                UnsafeMutableRawPointer(out + u).storeBytes(of: v.replacing(with: 0, where: off), as: SIMD8<Float>.self)
                let at = lanes &+ Int32(u)
                UnsafeMutableRawPointer(r + u).storeBytes(
                    of: at.replacing(with: ~at, where: off), as: SIMD8<Int32>.self)
                on &+= one.replacing(with: 0, where: off)
                u += 8
            }
            while u < per {
                let v = src[u] + b
                if v > 0 { out[u] = v; r[u] = Int32(u); onScalar += 1 } else { out[u] = 0; r[u] = ~Int32(u) }
                u += 1
            }
        }
        return onScalar + Int(on.wrappedSum())
    }

    /// ``biasReLUPool(_:bias:_:batch:output:route:)`` for 2×2 windows in Float, eight windows at
    /// a time with SIMD (the same comparisons in the same order, so the same routes and ties).
    @inlinable static func biasReLUPool2(
        _ s: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ g: LayerGeometry, batch n: Int,
        planes: Range<Int>?, output: UnsafeMutablePointer<Float>, route: UnsafeMutablePointer<Int32>
    ) -> Int {
        let (o, ho, wo) = (g.convolved[0], g.convolved[1], g.convolved[2])
        let (hp, wp) = (ho / 2, wo / 2)
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14), one = SIMD8<Int32>(repeating: 1)
        var on = SIMD8<Int32>(repeating: 0), onScalar = 0
        for plane in planes ?? 0..<(o * n) {
            let src = s + plane * ho * wo
            let b = bias[plane / n]
            let base = plane * hp * wp
            let out = output + base, r = route + base
            for i in 0..<hp {
                let r0 = src + 2 * i * wo, r1 = r0 + wo
                var j = 0
                while j + 8 <= wp {
                    let top = UnsafeRawPointer(r0 + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    let bottom = UnsafeRawPointer(r1 + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    var best = top.evenHalf
                    var at = lanes &+ Int32(2 * i * wo + 2 * j)
                    var m = top.oddHalf .> best
                    best.replace(with: top.oddHalf, where: m); at.replace(with: at &+ 1, where: m)
                    m = bottom.evenHalf .> best
                    best.replace(with: bottom.evenHalf, where: m);
                    at.replace(with: lanes &+ Int32((2 * i + 1) * wo + 2 * j), where: m)
                    m = bottom.oddHalf .> best
                    best.replace(with: bottom.oddHalf, where: m);
                    at.replace(with: lanes &+ Int32((2 * i + 1) * wo + 2 * j + 1), where: m)
                    let v = best + b
                    let off = .!(v .> 0)
                    let u = i * wp + j
                    UnsafeMutableRawPointer(out + u).storeBytes(
                        of: v.replacing(with: 0, where: off), as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(r + u).storeBytes(
                        of: at.replacing(with: ~at, where: off), as: SIMD8<Int32>.self)
                    on &+= one.replacing(with: 0, where: off)
                    j += 8
                }
                while j < wp {
                    let (best, at) = window2(r0, r1, row: i, column: j, width: wo)
                    let v = best + b
                    let u = i * wp + j
                    if v > 0 { out[u] = v; r[u] = Int32(at); onScalar += 1 } else { out[u] = 0; r[u] = ~Int32(at) }
                    j += 1
                }
            }
        }
        return onScalar + Int(on.wrappedSum())
    }

    /// Scatters pooled values to their routed positions in a zeroed `[O, N, H', W']` map:
    /// `a ⊙ t ⊙ Unpool(z)`, the masked unpooling of the top-down pass (and the adjoint of
    /// ``gatherRouted(_:_:batch:route:into:)``).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func scatterRouted<T: BinaryFloatingPoint>(
        _ z: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int,
        route: UnsafePointer<Int32>, into out: UnsafeMutablePointer<T>
    ) {
        let (o, ho, wo, p) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
        let per = (ho / p) * (wo / p)
        if p == 1 {  // route[u] is u or −1: a masked copy
            for u in 0..<(o * n * per) { out[u] = route[u] >= 0 ? z[u] : 0 }
            return
        }
        out.update(repeating: 0, count: o * n * ho * wo)
        for plane in 0..<(o * n) {
            let dst = out + plane * ho * wo
            for u in (plane * per)..<((plane + 1) * per) where route[u] >= 0 { dst[Int(route[u])] = z[u] }
        }
    }

    /// Reads `s` at the routed positions: `out[u] = s[route[u]]` (0 when OFF).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func gatherRouted<T: BinaryFloatingPoint>(
        _ s: UnsafePointer<T>, _ g: LayerGeometry, batch n: Int,
        route: UnsafePointer<Int32>, into out: UnsafeMutablePointer<T>
    ) {
        let (o, ho, wo, p) = (g.convolved[0], g.convolved[1], g.convolved[2], g.pool)
        let per = (ho / p) * (wo / p)
        for plane in 0..<(o * n) {
            let src = s + plane * ho * wo
            for u in (plane * per)..<((plane + 1) * per) { out[u] = route[u] >= 0 ? src[Int(route[u])] : 0 }
        }
    }
}

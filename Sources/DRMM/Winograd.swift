/// Winograd's minimal filtering algorithm F(2×2, 3×3) for the 3×3, stride-1 convolutions of a
/// level (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
///
/// The output is cut into 2×2 tiles; the tile at `(ty, tx)` needs the 4×4 input patch `d` whose
/// corner is `(2ty − pad, 2tx − pad)`. With the 3×3 filter `g`,
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// is the 2×2 correlation `Y[i, j] = Σ_{r,s} g[r, s] d[i + r, j + s]` in 16 multiplications
/// instead of 36. Over channels the element-wise product becomes, for each of the 16 positions
/// `ξ` of the 4×4 tile, one matrix product
///
///     M_ξ[O, T] = U_ξ[O, C] · V_ξ[C, T]     (U = G g Gᵀ, V = Bᵀ d B, T = N · tiles)
///
/// so a level's convolution is 16 GEMMs with 2.25× fewer multiply-adds than im2col's one.
///
/// The same transforms give the two adjoints the G-step and the top-down pass need. With
/// `Δ = A δ Aᵀ` the transformed output gradient (the adjoint of the output transform):
/// - the filter gradient: `∂U_ξ = Δ_ξ · V_ξᵀ`, then `∂g = Gᵀ ∂U G`;
/// - the input gradient (the transposed convolution `Wᵀ ⋆`, the DRMM's rendering step):
///   `∂V_ξ = U_ξᵀ · Δ_ξ`, then each tile's `B ∂V Bᵀ` is added back onto its 4×4 patch.
///
/// Tensors are channel-major batches `[C, N, H, W]` as in ``Kernels``. Transformed tensors are
/// `[16, rows, T]`, their planes ``planeStride(rows:tiles:)`` apart, with the tile index
/// `t = (n · tilesHigh + ty) · tilesWide + tx`. The image transforms can work on a range of the
/// batch's images (`images`), with `n` counted from the range's start: a caller keeps the
/// transformed tiles of a few images in cache instead of streaming the whole batch's through
/// memory. Filters are the rows of `W[O, C·3·3]`, in the im2col order `(c·3 + r)·3 + s`.
/// Outputs with an odd side are handled by a last, partial tile.
package enum Winograd {
    /// Whether F(2×2, 3×3) computes a level's convolution: a 3×3 kernel (any padding).
    @inlinable package static func applies(to g: LayerGeometry) -> Bool { g.kernel == 3 }

    /// Tiles per image, `⌈H'/2⌉ × ⌈W'/2⌉`.
    @inlinable package static func tiles(_ g: LayerGeometry) -> (high: Int, wide: Int) {
        ((g.convolved[1] + 1) / 2, (g.convolved[2] + 1) / 2)
    }

    /// The distance between the 16 planes `[rows, T]` of a transformed tensor: `rows · T`
    /// rounded up to an odd multiple of 16 elements, so that the 16 planes a tile is written to
    /// fall in different cache sets (a multiple of 4 KB would send them all to one).
    @inlinable package static func planeStride(rows: Int, tiles t: Int) -> Int {
        var s = (rows * t + 15) / 16 * 16
        if (s / 16) % 2 == 0 { s += 16 }
        return s
    }

    /// The tiling of a transformed tensor with `rows` rows over `images` of a batch of `n`
    /// (all by default): tiles high and wide per image, tiles per image, the image range, its
    /// tile count `T`, and the plane stride.
    @inlinable static func chunkLayout(_ g: LayerGeometry, rows: Int, batch n: Int, images: Range<Int>?)
        -> (high: Int, wide: Int, perImage: Int, chunk: Range<Int>, tiles: Int, stride: Int)
    {
        let (th, tw) = tiles(g)
        let chunk = images ?? 0..<n, t = chunk.count * th * tw
        return (th, tw, th * tw, chunk, t, planeStride(rows: rows, tiles: t))
    }

    /// Length of the transformed input `V[16, C, T]` of `n` images.
    @inlinable package static func inputLength(_ g: LayerGeometry, batch n: Int) -> Int {
        let t = tiles(g)
        return 16 * planeStride(rows: g.input[0], tiles: n * t.high * t.wide)
    }

    /// Length of the transformed output `M[16, O, T]` (or output gradient `Δ`) of `n` images.
    @inlinable package static func outputLength(_ g: LayerGeometry, batch n: Int) -> Int {
        let t = tiles(g)
        return 16 * planeStride(rows: g.convolved[0], tiles: n * t.high * t.wide)
    }

    /// Length of the transformed filters `U[16, O, C]`.
    @inlinable package static func filterLength(_ g: LayerGeometry) -> Int { 16 * g.convolved[0] * g.input[0] }

    // The one-dimensional transforms. Bᵀ: 4 → 4; G: 3 → 4; Aᵀ: 4 → 2 and their transposes.
    @inlinable @inline(__always) static func bt<T: FloatingPoint>(_ d0: T, _ d1: T, _ d2: T, _ d3: T) -> (T, T, T, T) {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }
    @inlinable @inline(__always) static func b<T: FloatingPoint>(_ v0: T, _ v1: T, _ v2: T, _ v3: T) -> (T, T, T, T) {
        (v0, v1 - v2 + v3, v1 + v2 - v0, -v3)
    }
    @inlinable @inline(__always) static func g<T: FloatingPoint>(_ g0: T, _ g1: T, _ g2: T) -> (T, T, T, T) {
        let half = T(1) / 2
        return (g0, (g0 + g1 + g2) * half, (g0 - g1 + g2) * half, g2)
    }
    @inlinable @inline(__always) static func gt<T: FloatingPoint>(_ u0: T, _ u1: T, _ u2: T, _ u3: T) -> (T, T, T) {
        let half = T(1) / 2
        return (u0 + (u1 + u2) * half, (u1 - u2) * half, (u1 + u2) * half + u3)
    }
    @inlinable @inline(__always) static func at<T: FloatingPoint>(_ m0: T, _ m1: T, _ m2: T, _ m3: T) -> (T, T) {
        (m0 + m1 + m2, m1 - m2 - m3)
    }
    @inlinable @inline(__always) static func a<T: FloatingPoint>(_ y0: T, _ y1: T) -> (T, T, T, T) {
        (y0, y0 + y1, y0 - y1, -y1)
    }

    /// `U_ξ[o, c] = (G g Gᵀ)_ξ` for every filter `g = W[o, c]` (`w` holds `W[O, C·9]`).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func transformFilters<T: BinaryFloatingPoint>(
        _ w: UnsafePointer<T>, _ geometry: LayerGeometry,
        into u: UnsafeMutablePointer<T>
    ) {
        let (o, c) = (geometry.convolved[0], geometry.input[0])
        let stride = o * c
        for oi in 0..<o {
            for ci in 0..<c {
                let f = w + oi * c * 9 + ci * 9
                // G on the columns: 3×3 → 4×3.
                let c0 = g(f[0], f[3], f[6]), c1 = g(f[1], f[4], f[7]), c2 = g(f[2], f[5], f[8])
                let dst = u + oi * c + ci
                @inline(__always) func store(_ i: Int, _ r: (T, T, T, T)) {
                    dst[(4 * i) * stride] = r.0
                    dst[(4 * i + 1) * stride] = r.1
                    dst[(4 * i + 2) * stride] = r.2
                    dst[(4 * i + 3) * stride] = r.3
                }
                // G on the rows: 4×3 → 4×4.
                store(0, g(c0.0, c1.0, c2.0)); store(1, g(c0.1, c1.1, c2.1))
                store(2, g(c0.2, c1.2, c2.2)); store(3, g(c0.3, c1.3, c2.3))
            }
        }
    }

    /// `∂W[o, c] += Gᵀ ∂U[o, c] G`: the filter gradient from the transformed one `∂U[16, O, C]`.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func accumulateFilterGradient<T: BinaryFloatingPoint>(
        _ du: UnsafePointer<T>, _ geometry: LayerGeometry,
        into dw: UnsafeMutablePointer<T>
    ) {
        let (o, c) = (geometry.convolved[0], geometry.input[0])
        let stride = o * c
        for oi in 0..<o {
            for ci in 0..<c {
                let src = du + oi * c + ci
                @inline(__always) func e(_ i: Int, _ j: Int) -> T { src[(4 * i + j) * stride] }
                // Gᵀ on the columns: 4×4 → 3×4, then on the rows: 3×4 → 3×3.
                let k0 = gt(e(0, 0), e(1, 0), e(2, 0), e(3, 0)), k1 = gt(e(0, 1), e(1, 1), e(2, 1), e(3, 1))
                let k2 = gt(e(0, 2), e(1, 2), e(2, 2), e(3, 2)), k3 = gt(e(0, 3), e(1, 3), e(2, 3), e(3, 3))
                let r0 = gt(k0.0, k1.0, k2.0, k3.0), r1 = gt(k0.1, k1.1, k2.1, k3.1), r2 = gt(k0.2, k1.2, k2.2, k3.2)
                let f = dw + oi * c * 9 + ci * 9
                f[0] += r0.0; f[1] += r0.1; f[2] += r0.2
                f[3] += r1.0; f[4] += r1.1; f[5] += r1.2
                f[6] += r2.0; f[7] += r2.1; f[8] += r2.2
            }
        }
    }

    /// `V_ξ[c, t] = (Bᵀ d B)_ξ` for the 4×4 input patch `d` of every tile (zero outside the
    /// image: the level's padding).
    ///
    /// Bᵀ combines four input rows at once over the whole width (rows outside the image read
    /// as zeros, columns outside it are the zero border of the combined rows), then B runs along
    /// the combined rows, one tile (4 columns, step 2) at a time.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func transformInput<T: BinaryFloatingPoint>(
        _ x: UnsafePointer<T>, _ geometry: LayerGeometry, batch n: Int, images: Range<Int>? = nil,
        into v: UnsafeMutablePointer<T>
    ) {
        let (c, h, w, pad) = (geometry.input[0], geometry.input[1], geometry.input[2], geometry.pad)
        let (th, tw, per, chunk, t, stride) = chunkLayout(geometry, rows: c, batch: n, images: images)
        let wp = 2 * tw + 2  // the width every patch reads, padding included (≥ w + pad for a 3×3 kernel)
        let k = UnsafeMutablePointer<T>.allocate(capacity: 4 * wp),
            zeros = UnsafeMutablePointer<T>.allocate(capacity: w)
        defer { k.deallocate(); zeros.deallocate() }
        k.initialize(repeating: 0, count: 4 * wp)  // columns outside the image are never written: they stay 0
        zeros.initialize(repeating: 0, count: w)
        for ci in 0..<c {
            for img in chunk {
                let src = x + (ci * n + img) * h * w
                @inline(__always) func row(_ y: Int) -> UnsafePointer<T> {
                    y >= 0 && y < h ? src + y * w : UnsafePointer(zeros)
                }
                for ty in 0..<th {
                    // Bᵀ down the columns of the patch rows 2ty−pad…2ty−pad+3, for the whole width at once.
                    let y0 = 2 * ty - pad
                    let r0 = row(y0), r1 = row(y0 + 1), r2 = row(y0 + 2), r3 = row(y0 + 3)
                    let k0 = k + pad, k1 = k0 + wp, k2 = k1 + wp, k3 = k2 + wp
                    for j in 0..<w {
                        let (d0, d1, d2, d3) = (r0[j], r1[j], r2[j], r3[j])
                        k0[j] = d0 - d2; k1[j] = d1 + d2; k2[j] = d2 - d1; k3[j] = d1 - d3
                    }
                    // B along each row, one tile (4 columns, step 2) at a time.
                    for a in 0..<4 {
                        let ka = k + a * wp
                        let o0 = v + 4 * a * stride + ci * t + (img - chunk.lowerBound) * per + ty * tw
                        let o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride
                        for tx in 0..<tw {
                            let (e0, e1, e2, e3) = (ka[2 * tx], ka[2 * tx + 1], ka[2 * tx + 2], ka[2 * tx + 3])
                            o0[tx] = e0 - e2; o1[tx] = e1 + e2; o2[tx] = e2 - e1; o3[tx] = e1 - e3
                        }
                    }
                }
            }
        }
    }

    /// `S[o, n, 2ty + i, 2tx + j] = (Aᵀ M A)[i, j]` from the 16 products `M[16, O, T]`.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func transformOutput<T: BinaryFloatingPoint>(
        _ m: UnsafePointer<T>, _ geometry: LayerGeometry, batch n: Int, images: Range<Int>? = nil,
        into s: UnsafeMutablePointer<T>
    ) {
        let (o, ho, wo) = (geometry.convolved[0], geometry.convolved[1], geometry.convolved[2])
        let (th, tw, per, chunk, t, stride) = chunkLayout(geometry, rows: o, batch: n, images: images)
        let wq = 2 * tw
        let plane = UnsafeMutablePointer<T>.allocate(capacity: 2 * th * wq)
        defer { plane.deallocate() }
        let even = ho % 2 == 0 && wo % 2 == 0  // whole tiles: write straight into S
        for oi in 0..<o {
            for img in chunk {
                let src = m + oi * t + (img - chunk.lowerBound) * per
                let dst = s + (oi * n + img) * ho * wo, out = even ? dst : plane
                for ty in 0..<th {
                    let base = src + ty * tw
                    let row0 = out + 2 * ty * wq, row1 = row0 + wq
                    for tx in 0..<tw {
                        @inline(__always) func e(_ a: Int, _ b: Int) -> T { base[(4 * a + b) * stride + tx] }
                        // Aᵀ down the columns: 4×4 → 2×4, then A along the rows: 2×4 → 2×2.
                        let k0 = at(e(0, 0), e(1, 0), e(2, 0), e(3, 0)), k1 = at(e(0, 1), e(1, 1), e(2, 1), e(3, 1))
                        let k2 = at(e(0, 2), e(1, 2), e(2, 2), e(3, 2)), k3 = at(e(0, 3), e(1, 3), e(2, 3), e(3, 3))
                        let y0 = at(k0.0, k1.0, k2.0, k3.0), y1 = at(k0.1, k1.1, k2.1, k3.1)
                        row0[2 * tx] = y0.0; row0[2 * tx + 1] = y0.1
                        row1[2 * tx] = y1.0; row1[2 * tx + 1] = y1.1
                    }
                }
                if !even { for y in 0..<ho { (dst + y * wo).update(from: plane + y * wq, count: wo) } }
            }
        }
    }

    /// `Δ_ξ[o, t] = (A δ Aᵀ)_ξ` for the 2×2 block `δ` of `∂S[O, N, H', W']` under every tile (the
    /// adjoint of ``transformOutput(_:_:batch:into:)``; a partial tile's missing entries are 0).
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func transformOutputGradient<T: BinaryFloatingPoint>(
        _ ds: UnsafePointer<T>, _ geometry: LayerGeometry, batch n: Int, images: Range<Int>? = nil,
        into delta: UnsafeMutablePointer<T>
    ) {
        let (o, ho, wo) = (geometry.convolved[0], geometry.convolved[1], geometry.convolved[2])
        let (th, tw, per, chunk, t, stride) = chunkLayout(geometry, rows: o, batch: n, images: images)
        let wq = 2 * tw
        let plane = UnsafeMutablePointer<T>.allocate(capacity: 2 * th * wq)
        defer { plane.deallocate() }
        plane.initialize(repeating: 0, count: 2 * th * wq)  // an odd side's extra row and column stay 0
        let even = ho % 2 == 0 && wo % 2 == 0  // whole tiles: read straight from ∂S
        for oi in 0..<o {
            for img in chunk {
                let src = ds + (oi * n + img) * ho * wo
                if !even { for y in 0..<ho { (plane + y * wq).update(from: src + y * wo, count: wo) } }
                let input = even ? src : UnsafePointer(plane)
                for ty in 0..<th {
                    let d0 = input + 2 * ty * wq, d1 = d0 + wq
                    let out = delta + oi * t + (img - chunk.lowerBound) * per + ty * tw
                    for tx in 0..<tw {
                        // A down the columns: 2×2 → 4×2, then Aᵀ along the rows: 4×2 → 4×4.
                        let (p0, p1, q0, q1) = (d0[2 * tx], d0[2 * tx + 1], d1[2 * tx], d1[2 * tx + 1])
                        let rows = ((p0, p1), (p0 + q0, p1 + q1), (p0 - q0, p1 - q1), (-q0, -q1))
                        @inline(__always) func put(_ a: Int, _ r: (T, T)) {
                            let q = Winograd.a(r.0, r.1)
                            out[4 * a * stride + tx] = q.0; out[(4 * a + 1) * stride + tx] = q.1
                            out[(4 * a + 2) * stride + tx] = q.2; out[(4 * a + 3) * stride + tx] = q.3
                        }
                        put(0, rows.0); put(1, rows.1); put(2, rows.2); put(3, rows.3)
                    }
                }
            }
        }
    }

    /// `x ← Σ_tiles B ∂V Bᵀ` placed on each tile's 4×4 input patch (overwriting `x`, dropping the
    /// padding): the adjoint of ``transformInput(_:_:batch:into:)``.
    @_specialize(exported:true,where T == Float)
    @_specialize(exported:true,where T == Double)
    @inlinable package static func transformInputGradient<T: BinaryFloatingPoint>(
        _ dv: UnsafePointer<T>, _ geometry: LayerGeometry, batch n: Int, images: Range<Int>? = nil,
        into x: UnsafeMutablePointer<T>
    ) {
        let (c, h, w, pad) = (geometry.input[0], geometry.input[1], geometry.input[2], geometry.pad)
        let (th, tw, per, chunk, t, stride) = chunkLayout(geometry, rows: c, batch: n, images: images)
        let (hp, wp) = (2 * th + 2, 2 * tw + 2)  // every patch, padding included (≥ h + pad, w + pad for a 3×3 kernel)
        let plane = UnsafeMutablePointer<T>.allocate(capacity: hp * wp)
        defer { plane.deallocate() }
        for ci in 0..<c {
            for img in chunk {
                let src = dv + ci * t + (img - chunk.lowerBound) * per
                plane.update(repeating: 0, count: hp * wp)
                for ty in 0..<th {
                    let base = src + ty * tw
                    let r0 = plane + 2 * ty * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
                    for tx in 0..<tw {
                        @inline(__always) func e(_ a: Int, _ b: Int) -> T { base[(4 * a + b) * stride + tx] }
                        // B down the columns, then Bᵀ along the rows, added onto the patch.
                        let k0 = b(e(0, 0), e(1, 0), e(2, 0), e(3, 0)), k1 = b(e(0, 1), e(1, 1), e(2, 1), e(3, 1))
                        let k2 = b(e(0, 2), e(1, 2), e(2, 2), e(3, 2)), k3 = b(e(0, 3), e(1, 3), e(2, 3), e(3, 3))
                        let p0 = b(k0.0, k1.0, k2.0, k3.0), p1 = b(k0.1, k1.1, k2.1, k3.1)
                        let p2 = b(k0.2, k1.2, k2.2, k3.2), p3 = b(k0.3, k1.3, k2.3, k3.3)
                        let j = 2 * tx
                        r0[j] += p0.0; r0[j + 1] += p0.1; r0[j + 2] += p0.2; r0[j + 3] += p0.3
                        r1[j] += p1.0; r1[j + 1] += p1.1; r1[j + 2] += p1.2; r1[j + 3] += p1.3
                        r2[j] += p2.0; r2[j + 1] += p2.1; r2[j + 2] += p2.2; r2[j + 3] += p2.3
                        r3[j] += p3.0; r3[j + 1] += p3.1; r3[j + 2] += p3.2; r3[j + 3] += p3.3
                    }
                }
                let dst = x + (ci * n + img) * h * w
                for y in 0..<h { (dst + y * w).update(from: plane + (y + pad) * wp + pad, count: w) }
            }
        }
    }
}

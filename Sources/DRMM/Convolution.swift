import COpenBLAS

/// Convolution (cross-correlation, as in convnets) and its exact adjoint, the transposed
/// convolution, by im2col and one BLAS `dgemm` each.
///
/// Bottom-up, `Conv(x)[o, y, x'] = Σ_{c,r,s} W[o, c, r, s] · x_pad[c, y + r, x' + s]`.
/// Top-down, `ConvT` is its adjoint: each output unit stamps its filter back onto the input
/// grid (padding cropped), so `⟨Conv(x), y⟩ = ⟨x, ConvT(y)⟩` and the rendering pass uses the
/// same filter tensor as the inference pass.
public enum Convolution {
    /// im2col: `[C·K·K, Ho·Wo]` patches of a `[C, H, W]` map with zero padding `pad`.
    static func im2col(_ x: UnsafePointer<Double>, channels: Int, height: Int, width: Int,
                       kernel k: Int, pad: Int, outHeight ho: Int, outWidth wo: Int,
                       into cols: UnsafeMutablePointer<Double>) {
        var row = 0
        for c in 0..<channels {
            for r in 0..<k {
                for s in 0..<k {
                    let dst = cols + row * ho * wo
                    for oy in 0..<ho {
                        let iy = oy + r - pad
                        if iy < 0 || iy >= height {
                            for ox in 0..<wo { dst[oy * wo + ox] = 0 }
                            continue
                        }
                        let src = x + (c * height + iy) * width
                        for ox in 0..<wo {
                            let ix = ox + s - pad
                            dst[oy * wo + ox] = (ix >= 0 && ix < width) ? src[ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// col2im: adds `[C·K·K, Ho·Wo]` patches back onto a `[C, H, W]` map (the adjoint of im2col).
    static func col2im(_ cols: UnsafePointer<Double>, channels: Int, height: Int, width: Int,
                       kernel k: Int, pad: Int, outHeight ho: Int, outWidth wo: Int,
                       into x: UnsafeMutablePointer<Double>) {
        var row = 0
        for c in 0..<channels {
            for r in 0..<k {
                for s in 0..<k {
                    let src = cols + row * ho * wo
                    for oy in 0..<ho {
                        let iy = oy + r - pad
                        if iy < 0 || iy >= height { continue }
                        let dst = x + (c * height + iy) * width
                        for ox in 0..<wo {
                            let ix = ox + s - pad
                            if ix >= 0 && ix < width { dst[ix] += src[oy * wo + ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// `Conv(x)` for a `[C, H, W]` map and `[O, C, K, K]` filters with zero padding `pad`;
    /// `bias[o]` is added to every output of channel `o`.
    public static func forward(_ x: Tensor, filters w: Tensor, pad: Int, bias: [Double]? = nil) -> Tensor {
        let (c, h, wd) = (x.shape[0], x.shape[1], x.shape[2])
        let (o, k) = (w.shape[0], w.shape[2])
        let ho = h + 2 * pad - k + 1, wo = wd + 2 * pad - k + 1
        var out = Tensor(shape: [o, ho, wo])
        var cols = [Double](repeating: 0, count: c * k * k * ho * wo)
        x.elements.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in
                im2col(px.baseAddress!, channels: c, height: h, width: wd, kernel: k, pad: pad, outHeight: ho, outWidth: wo, into: pc.baseAddress!)
            }
        }
        if let bias { for oc in 0..<o { for i in 0..<(ho * wo) { out.elements[oc * ho * wo + i] = bias[oc] } } }
        w.elements.withUnsafeBufferPointer { pw in
            cols.withUnsafeBufferPointer { pc in
                out.elements.withUnsafeMutableBufferPointer { po in
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(ho * wo), Int32(c * k * k),
                                1, pw.baseAddress, Int32(c * k * k), pc.baseAddress, Int32(ho * wo),
                                bias == nil ? 0 : 1, po.baseAddress, Int32(ho * wo))
                }
            }
        }
        return out
    }

    /// `ConvT(y)`: the adjoint of ``forward(_:filters:pad:bias:)`` (without bias), mapping a
    /// `[O, Ho, Wo]` map back to `[C, height, width]`.
    public static func transpose(_ y: Tensor, filters w: Tensor, pad: Int, height: Int, width: Int) -> Tensor {
        let (o, ho, wo) = (y.shape[0], y.shape[1], y.shape[2])
        let (c, k) = (w.shape[1], w.shape[2])
        var cols = [Double](repeating: 0, count: c * k * k * ho * wo)
        w.elements.withUnsafeBufferPointer { pw in
            y.elements.withUnsafeBufferPointer { py in
                cols.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(c * k * k), Int32(ho * wo), Int32(o),
                                1, pw.baseAddress, Int32(c * k * k), py.baseAddress, Int32(ho * wo),
                                0, pc.baseAddress, Int32(ho * wo))
                }
            }
        }
        var x = Tensor(shape: [c, height, width])
        cols.withUnsafeBufferPointer { pc in
            x.elements.withUnsafeMutableBufferPointer { px in
                col2im(pc.baseAddress!, channels: c, height: height, width: width, kernel: k, pad: pad, outHeight: ho, outWidth: wo, into: px.baseAddress!)
            }
        }
        return x
    }
}

/// Convolution (cross-correlation, as in convnets) and its exact adjoint, the transposed
/// convolution, on single `[C, H, W]` tensors: the ``LevelOperators`` with one image and no
/// pooling.
///
/// Bottom-up, `Conv(x)[o, y, x'] = Σ_{c,r,s} W[o, c, r, s] · x_pad[c, y + r, x' + s]`.
/// Top-down, `ConvT` is its adjoint: each output unit stamps its filter back onto the input
/// grid (padding cropped), so `⟨Conv(x), y⟩ = ⟨x, ConvT(y)⟩` and the rendering pass uses the
/// same filter tensor as the inference pass.
public enum Convolution {
    /// The geometry of a stride-1 convolution of a `[C, height, width]` map by `[O, C, K, K]`
    /// filters with zero padding `pad`, without pooling.
    static func geometry(channels c: Int, height h: Int, width w: Int, filters: Tensor, pad: Int) -> LayerGeometry {
        let (o, k) = (filters.shape[0], filters.shape[2])
        let output = [o, h + 2 * pad - k + 1, w + 2 * pad - k + 1]
        return LayerGeometry(input: [c, h, w], convolved: output, pooled: output, kernel: k, pad: pad, pool: 1)
    }

    /// `Conv(x)` for a `[C, H, W]` map and `[O, C, K, K]` filters with zero padding `pad`;
    /// `bias[o]` is added to every output of channel `o`.
    public static func forward(_ x: Tensor, filters w: Tensor, pad: Int, bias: [Double]? = nil) -> Tensor {
        let g = geometry(channels: x.shape[0], height: x.shape[1], width: x.shape[2], filters: w, pad: pad)
        var out = Tensor(shape: g.convolved)
        var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: 1))
        x.elements.withUnsafeBufferPointer { px in
            w.elements.withUnsafeBufferPointer { pw in
                columns.withUnsafeMutableBufferPointer { pc in
                    out.elements.withUnsafeMutableBufferPointer { po in
                        LevelOperators.convolve(
                            px.baseAddress!, filters: pw.baseAddress!, g, batch: 1, columns: pc.baseAddress!,
                            into: po.baseAddress!)
                    }
                }
            }
        }
        if let bias {
            let plane = g.convolved[1] * g.convolved[2]
            for i in out.elements.indices { out.elements[i] += bias[i / plane] }
        }
        return out
    }

    /// `ConvT(y)`: the adjoint of ``forward(_:filters:pad:bias:)`` (without bias), mapping a
    /// `[O, Ho, Wo]` map back to `[C, height, width]`.
    public static func transpose(_ y: Tensor, filters w: Tensor, pad: Int, height: Int, width: Int) -> Tensor {
        let g = geometry(channels: w.shape[1], height: height, width: width, filters: w, pad: pad)
        var x = Tensor(shape: g.input)
        var columns = [Double](repeating: 0, count: LevelOperators.columnsLength(g, batch: 1))
        y.elements.withUnsafeBufferPointer { py in
            w.elements.withUnsafeBufferPointer { pw in
                columns.withUnsafeMutableBufferPointer { pc in
                    x.elements.withUnsafeMutableBufferPointer { px in
                        LevelOperators.transposedConvolve(
                            py.baseAddress!, filters: pw.baseAddress!, g, batch: 1, columns: pc.baseAddress!,
                            into: px.baseAddress!)
                    }
                }
            }
        }
        return x
    }
}

import DRMM
import NumericalCore

/// The convolutions of the bottom-up pass and their adjoints, by im2col + GEMM or Winograd.
extension BatchPass {
    /// `S = W⁽ˡ⁾ ⋆ x` into `s` (`[O, N, H', W']`). An im2col level leaves its columns in
    /// `lowered` for ``convolutionAdjoint``; a Winograd level runs a few images at a time.
    func convolve(
        level l: Int, _ x: UnsafePointer<T>, batch n: Int, parameters p: UnsafePointer<T>,
        lowered: UnsafeMutablePointer<T>?, into s: UnsafeMutablePointer<T>
    ) {
        let g = geometry[l]
        let (o, c) = (g.convolved[0], g.input[0])
        if winograd[l] {
            let u = filterTiles[l].pointer, m = products.pointer, v = inputTiles.pointer
            for images in winogradChunks(level: l, batch: n) {
                let t = tileCount(level: l, batch: images.count)
                let (sv, sm) = (Winograd.planeStride(rows: c, tiles: t), Winograd.planeStride(rows: o, tiles: t))
                Winograd.transformInput(x, g, batch: n, images: images, into: v)
                for xi in 0..<16 {
                    T.gemm(
                        transposeA: false, transposeB: false, m: o, n: t, k: c, alpha: 1, a: u + xi * o * c, lda: c,
                        b: v + xi * sv, ldb: t, beta: 0, c: m + xi * sm, ldc: t)
                }
                Winograd.transformOutput(m, g, batch: n, images: images, into: s)
            }
        } else if let lowered {
            LevelOperators.convolve(
                x, filters: p + layout.filters[l].lowerBound, g, batch: n, columns: lowered, into: s)
        }
    }

    /// The two adjoints of ``convolve`` for an output-side signal `ds` (`[O, N, H', W']`): the
    /// filter gradient `∂W += ds ⋆ x` when `filterGradient` is given (from the level's input `x`,
    /// or its im2col columns `lowered` on an im2col level), and the transposed convolution
    /// `Wᵀ ⋆ ds` written into `inputGradient` when it is given.
    func convolutionAdjoint(
        level l: Int, _ ds: UnsafePointer<T>, batch n: Int, parameters p: UnsafePointer<T>,
        input: (x: UnsafePointer<T>, lowered: UnsafePointer<T>)?, filterGradient dw: UnsafeMutablePointer<T>?,
        inputGradient dx: UnsafeMutablePointer<T>?
    ) {
        let g = geometry[l]
        let (o, c) = (g.convolved[0], g.input[0])
        if winograd[l] {
            let delta = products.pointer, v = inputTiles.pointer, u = filterTiles[l].pointer,
                du = filterTileGradient.pointer
            let filters = dw != nil && input != nil
            for (k, images) in winogradChunks(level: l, batch: n).enumerated() {
                let t = tileCount(level: l, batch: images.count)
                let (sv, sd) = (Winograd.planeStride(rows: c, tiles: t), Winograd.planeStride(rows: o, tiles: t))
                Winograd.transformOutputGradient(ds, g, batch: n, images: images, into: delta)
                if filters, let input {
                    Winograd.transformInput(input.x, g, batch: n, images: images, into: v)
                    for xi in 0..<16 {
                        T.gemm(
                            transposeA: false, transposeB: true, m: o, n: c, k: t, alpha: 1, a: delta + xi * sd, lda: t,
                            b: v + xi * sv, ldb: t, beta: k == 0 ? 0 : 1, c: du + xi * o * c, ldc: c)
                    }
                }
                if let dx {
                    for xi in 0..<16 {
                        T.gemm(
                            transposeA: true, transposeB: false, m: c, n: t, k: o, alpha: 1, a: u + xi * o * c, lda: c,
                            b: delta + xi * sd, ldb: t, beta: 0, c: v + xi * sv, ldc: t)
                    }
                    Winograd.transformInputGradient(v, g, batch: n, images: images, into: dx)
                }
            }
            if filters, let dw { Winograd.accumulateFilterGradient(du, g, into: dw) }
        } else {
            let rows = c * g.kernel * g.kernel, cols = n * g.convolved[1] * g.convolved[2]
            if let dw, let input {
                T.gemm(
                    transposeA: false, transposeB: true, m: o, n: rows, k: cols, alpha: 1, a: ds, lda: cols,
                    b: input.lowered, ldb: cols, beta: 1, c: dw, ldc: rows)
            }
            if let dx {
                LevelOperators.transposedConvolve(
                    ds, filters: p + layout.filters[l].lowerBound, g, batch: n, columns: scratch2.pointer, into: dx)
            }
        }
    }

    /// Tiles of `n` images of a Winograd level.
    func tileCount(level l: Int, batch n: Int) -> Int {
        let t = Winograd.tiles(geometry[l])
        return n * t.high * t.wide
    }

    /// Images per Winograd chunk: about ``winogradChunkTiles`` tiles, so that a chunk's
    /// transformed tiles and products stay in the core's cache.
    func winogradChunk(level l: Int, batch n: Int) -> Int {
        max(1, min(n, Self.winogradChunkTiles / max(1, tileCount(level: l, batch: 1))))
    }

    func winogradChunks(level l: Int, batch n: Int) -> [Range<Int>] {
        let step = winogradChunk(level: l, batch: n)
        return stride(from: 0, to: n, by: step).map { $0..<min(n, $0 + step) }
    }

    /// The tile count a Winograd chunk aims at: 16 · 64 channels · 128 tiles · 4 bytes = 512 KB
    /// of transformed tiles. On the 5-level model, 64 and 128 tiles ran at the same speed,
    /// 256 was 15 % slower and the whole batch at once 25 % slower (1 worker).
    static var winogradChunkTiles: Int { 128 }
}

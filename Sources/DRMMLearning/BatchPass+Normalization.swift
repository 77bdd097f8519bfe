import DRMM

/// Batch normalisation of the bottom-up pass, the normalised rendering scale, and their gradients.
extension BatchPass {
    /// `S ← γ x̂`, `x̂ = (S − m)/√(v + ε)`, in place on the `[count, length]` convolution in
    /// `scratch`, with the batch's statistics (recorded) or the running ones.
    func normaliseForward(level l: Int, _ p: UnsafePointer<T>, count o: Int, length: Int, useBatch: Bool) {
        let gamma = p + layout.scales[l].lowerBound, running = p + layout.statistics[l].lowerBound
        let s = scratch.pointer, xHat = normalised[l].pointer
        for c in 0..<o {
            let row = s + c * length, hat = xHat + c * length
            var mean: T, variance: T
            if useBatch {
                var sum: T = 0
                for q in 0..<length { sum += row[q] }
                mean = sum / T(length)
                var squares: T = 0
                for q in 0..<length { let e = row[q] - mean; squares += e * e }
                variance = squares / T(length)
                batchStatistics[l][c] = mean
                batchStatistics[l][o + c] = variance
            } else {
                mean = running[c]
                variance = running[o + c]
            }
            let inv = 1 / (variance + Self.normalizationEpsilon).squareRoot()
            inverseDeviation[l][c] = inv
            let g = gamma[c]
            for q in 0..<length {
                let h = (row[q] - mean) * inv
                hat[q] = h
                row[q] = g * h
            }
        }
    }

    /// Turns `∂A` (in `scratch`) into `∂S` in place and adds `∂γ`.
    func normaliseBackward(
        level l: Int, _ p: UnsafePointer<T>, gradient grad: UnsafeMutablePointer<T>, count o: Int, length: Int,
        useBatch: Bool
    ) {
        let gamma = p + layout.scales[l].lowerBound, dGamma = grad + layout.scales[l].lowerBound
        let s = scratch.pointer, xHat = normalised[l].pointer
        let invN = 1 / T(length)
        for c in 0..<o {
            let row = s + c * length, hat = xHat + c * length
            var sum: T = 0, sumHat: T = 0
            for q in 0..<length { sum += row[q]; sumHat += row[q] * hat[q] }
            dGamma[c] += sumHat
            let k = gamma[c] * inverseDeviation[l][c]
            if useBatch {
                let (meanD, meanDHat) = (sum * invN, sumHat * invN)
                for q in 0..<length { row[q] = k * (row[q] - meanD - hat[q] * meanDHat) }
            } else {
                for q in 0..<length { row[q] *= k }
            }
        }
    }

    /// Folded rendering: multiplies channel `c` of the `[O, planeLength]` tensor `m` by the
    /// rendering scale `κ_c = γ_c/σ_c` of level `l` (statistics of the last bottom-up pass).
    func scaleByRenderingScale(level l: Int, _ m: UnsafeMutablePointer<T>, _ p: UnsafePointer<T>, planeLength: Int) {
        let gamma = p + layout.scales[l].lowerBound
        for c in 0..<geometry[l].convolved[0] {
            let kappa = gamma[c] * inverseDeviation[l][c]
            let row = m + c * planeLength
            for q in 0..<planeLength { row[q] *= kappa }
        }
    }

    /// Folded rendering, backward at level `l`: `dz` holds `gather(W ⋆ g)` (`[O, N, H'', W'']`,
    /// the pooled shape). Adds `∂γ_c = ∂κ_c/σ_c` with `∂κ_c = Σ dz_c z⁽ˡ⁺¹⁾_c`, records
    /// `∂σ_c = −∂κ_c γ_c/σ_c²` (batch statistics only), and scales `dz` by `κ`.
    func renderingScaleBackward(
        level l: Int, _ dz: UnsafeMutablePointer<T>, _ p: UnsafePointer<T>, gradient grad: UnsafeMutablePointer<T>,
        batch n: Int, useBatch: Bool
    ) {
        let gamma = p + layout.scales[l].lowerBound, dGamma = grad + layout.scales[l].lowerBound
        let planeLength = n * geometry[l].pooled[1] * geometry[l].pooled[2]
        let zl = z[l + 1].pointer
        for c in 0..<geometry[l].convolved[0] {
            let row = dz + c * planeLength, zrow = zl + c * planeLength
            var dKappa: T = 0
            for q in 0..<planeLength { dKappa += row[q] * zrow[q] }
            let inv = inverseDeviation[l][c]
            dGamma[c] += dKappa * inv
            deviationGradient[l][c] = useBatch ? -dKappa * gamma[c] * inv * inv : 0
            let kappa = gamma[c] * inv
            for q in 0..<planeLength { row[q] *= kappa }
        }
    }

    /// Folded rendering: adds the path through `σ` to `∂S` (in `scratch`), `∂σ_c x̂/length`
    /// (`∂σ/∂S = (S − m)/(σ · length)`; the mean's part sums to zero).
    func addDeviationGradient(level l: Int, count o: Int, length: Int) {
        let s = scratch.pointer, xHat = normalised[l].pointer
        for c in 0..<o {
            let k = deviationGradient[l][c] / T(length)
            guard k != 0 else { continue }
            let row = s + c * length, hat = xHat + c * length
            for q in 0..<length { row[q] += k * hat[q] }
        }
    }
}

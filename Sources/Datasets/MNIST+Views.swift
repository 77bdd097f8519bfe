/// The views of MNIST that the examples and the command line train on.
extension MNIST {
    /// The first `n` images (all when `n` is nil, zero or more than there are).
    public func prefix(_ n: Int?) -> MNIST {
        guard let n, n > 0, n < count else { return self }
        return MNIST(
            pixels: Array(pixels[0..<(n * rows * columns)]), labels: Array(labels[0..<n]), rows: rows, columns: columns)
    }

    /// Images `offset..<offset + count` with every pixel thresholded at half gray (`≥ 128` is 1),
    /// and their labels.
    public func thresholded(count n: Int, offset: Int = 0) throws -> (images: [[Double]], labels: [Int]) {
        try checkRange(offset, n)
        let d = rows * columns
        return (
            (offset..<(offset + n)).map { i in (0..<d).map { pixels[i * d + $0] >= 128 ? 1.0 : 0.0 } },
            (offset..<(offset + n)).map { Int(labels[$0]) }
        )
    }

    /// Images `offset..<offset + count` averaged over blocks to `size × size` and thresholded at
    /// ½: small binary images whose likelihoods can be computed exactly.
    public func blockBinarized(count n: Int, offset: Int = 0, size: Int) throws -> [[Double]] {
        guard size >= 1, rows % size == 0, columns % size == 0 else {
            throw DatasetError.mismatch("a binarised size must divide \(rows)×\(columns), got \(size)")
        }
        try checkRange(offset, n)
        let (fy, fx, d) = (rows / size, columns / size, rows * columns)
        return (offset..<(offset + n)).map { i in
            (0..<(size * size)).map { cell in
                let (cy, cx) = (cell / size, cell % size)
                var s = 0
                for y in 0..<fy { for x in 0..<fx { s += Int(pixels[i * d + (cy * fy + y) * columns + cx * fx + x]) } }
                return Double(s) / Double(fy * fx * 255) >= 0.5 ? 1 : 0
            }
        }
    }

    private func checkRange(_ offset: Int, _ n: Int) throws {
        guard offset >= 0, n >= 0, offset + n <= count else {
            throw DatasetError.mismatch("asked for images \(offset)..<\(offset + n) of \(count)")
        }
    }
}

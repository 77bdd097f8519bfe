/// A dense, row-major matrix of `Double` in one contiguous buffer.
///
/// This is the storage type of the small linear-algebra layer that the Gaussian code of
/// `FactorGraph` (information-form factors, Gaussian belief propagation) and the DRMM's
/// per-layer least-squares steps are written against. Products go to BLAS
/// (``Matrix/multiply(_:_:transposeA:transposeB:alpha:beta:into:)``), factorisations and
/// solves to LAPACK (``Cholesky``, `Matrix.solve(_:)`).
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Entries in row-major order: element (i, j) is `elements[i * columns + j]`.
    public var elements: [Double]

    /// A `rows × columns` matrix filled with `value`. A negative size is taken as 0, so the
    /// result is empty and every operation that needs a real shape reports
    /// ``LinearAlgebraError/shapeMismatch(_:)`` rather than crashing.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.rows = max(0, rows)
        self.columns = max(0, columns)
        self.elements = [Double](repeating: value, count: self.rows * self.columns)
    }

    /// A matrix over the given row-major entries.
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` if `elements.count != rows * columns`.
    public init(rows: Int, columns: Int, elements: [Double]) throws {
        guard rows >= 0, columns >= 0, elements.count == rows * columns else {
            throw LinearAlgebraError.shapeMismatch(
                "a \(rows)×\(columns) matrix needs \(max(0, rows * columns)) entries, got \(elements.count)")
        }
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Double]]) throws {
        let r = rowArrays.count
        let c = rowArrays.first?.count ?? 0
        for (i, row) in rowArrays.enumerated() where row.count != c {
            throw LinearAlgebraError.shapeMismatch("row \(i) has \(row.count) entries, row 0 has \(c)")
        }
        try self.init(rows: r, columns: c, elements: rowArrays.flatMap { $0 })
    }

    /// The `n × n` identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// A square matrix with `diagonal` on its diagonal.
    public static func diagonal(_ diagonal: [Double]) -> Matrix {
        var m = Matrix(rows: diagonal.count, columns: diagonal.count)
        for (i, d) in diagonal.enumerated() { m.elements[i * diagonal.count + i] = d }
        return m
    }

    /// The element at `row`, `column`.
    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    /// The transpose.
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { t.elements[j * rows + i] = elements[i * columns + j] }
        }
        return t
    }

    /// Whether the matrix is square.
    public var isSquare: Bool { rows == columns }

    /// The main diagonal.
    public var diagonalEntries: [Double] {
        (0..<min(rows, columns)).map { elements[$0 * columns + $0] }
    }

    /// The matrix, one row per line.
    public var description: String {
        (0..<rows).map { i in
            (0..<columns).map { j in "\(self[i, j])" }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}

/// A dense tensor of `Double` in one contiguous buffer, row-major over ``shape``.
///
/// Feature maps are `[channels, height, width]` (one image) and batches `[n, channels,
/// height, width]` (NCHW); filter banks are `[outChannels, inChannels, kernel, kernel]`.
public struct Tensor: Equatable, Sendable {
    /// The sizes of the dimensions, outermost first.
    public let shape: [Int]
    /// The elements, row-major over ``shape``.
    public var elements: [Double]

    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Double = 0) {
        self.shape = shape
        elements = [Double](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `elements`; throws unless their count is the shape's product.
    public init(shape: [Int], elements: [Double]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), elements.count == shape.reduce(1, *) else {
            throw DRMMError.shapeMismatch(
                what: "tensor elements", expected: [shape.reduce(1, *)], actual: [elements.count])
        }
        self.shape = shape
        self.elements = elements
    }

    /// The number of elements.
    public var count: Int { elements.count }

    /// Element `(c, y, x)` of a `[C, H, W]` tensor.
    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> Double {
        get { elements[(c * shape[1] + y) * shape[2] + x] }
        set { elements[(c * shape[1] + y) * shape[2] + x] = newValue }
    }

    /// Element `(o, i, r, s)` of a `[O, I, K, K]` tensor.
    @inlinable
    public subscript(o: Int, i: Int, r: Int, s: Int) -> Double {
        get { elements[((o * shape[1] + i) * shape[2] + r) * shape[3] + s] }
        set { elements[((o * shape[1] + i) * shape[2] + r) * shape[3] + s] = newValue }
    }

    /// `⟨self, other⟩` over all elements.
    public func dot(_ other: Tensor) -> Double {
        var s = 0.0
        for i in elements.indices { s += elements[i] * other.elements[i] }
        return s
    }
}

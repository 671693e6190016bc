/// A contiguous, row-major Float32 tensor with a shape.
///
/// The engine keeps a network's parameters in one flat buffer (see `ParameterLayout`), so a
/// `Tensor` is mostly the unit of exchange at the edges: safetensors files, guide values per
/// parameter, reports. Storage is a Swift array, so copies are copy-on-write and a tensor handed
/// out never aliases the live model.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `storage.count == shape.product`.
    public var storage: [Float]

    /// Wraps `storage` with `shape`; the counts must agree.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.elementCount == storage.count,
                     "shape \(shape) needs \(shape.elementCount) elements, got \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, storage: [Float](repeating: value, count: shape.elementCount))
    }

    /// Number of elements.
    public var count: Int { storage.count }
}

extension Array where Element == Int {
    /// Product of the dimensions (1 for a scalar's empty shape).
    public var elementCount: Int { reduce(1, *) }
}

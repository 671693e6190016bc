/// Pools a packed graph's node features into one vector per graph: `[N, N + F]` → `[F]`.
///
/// The bridge from graph layers to `dense` heads for graph classification. Only real nodes
/// (`Â[i, i] > 0`, see `GraphPacking`) count, so the mean is over the graph's own nodes and
/// padding changes nothing. Both reductions are symmetric in the nodes, which makes the whole
/// network invariant to node order. The input gradient is zero in the `Â` columns and on padding.
public struct GraphReadout: Layer {
    /// How node features are combined.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Sum over real nodes (keeps graph size information; GIN's choice).
        case sum
        /// Mean over real nodes (size-independent scale).
        case mean
    }

    /// The reduction.
    public let kind: Kind
    private var nodes = 0
    private var features = 0

    /// A readout with the given reduction.
    public init(_ kind: Kind) { self.kind = kind }

    public var description: String { "readout(\(kind.rawValue))" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        (nodes, features) = try GraphPacking.dimensions(of: inputShape, layer: description)
        return [features]
    }

    /// The weight each real node gets in graph `x` (1 for sum, 1/realNodes for mean; 0 for an empty graph).
    private func nodeWeight(_ x: UnsafePointer<Float>) -> Float {
        if kind == .sum { return 1 }
        let row = nodes + features
        var real = 0
        for i in 0..<nodes where x[i * row + i] != 0 { real += 1 }
        return real > 0 ? 1 / Float(real) : 0
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let n = nodes, f = features, row = n + f
        for g in 0..<batch {
            let x = input.baseAddress! + g * n * row, y = output.baseAddress! + g * f
            y.initialize(repeating: 0, count: f)
            for i in 0..<n where x[i * row + i] != 0 {
                let h = x + i * row + n
                for j in 0..<f { y[j] += h[j] }
            }
            let w = nodeWeight(x)
            if w != 1 { for j in 0..<f { y[j] *= w } }
        }
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        guard let dxBuffer = inputGradient else { return }
        let n = nodes, f = features, row = n + f
        dxBuffer.baseAddress!.initialize(repeating: 0, count: batch * n * row)
        for g in 0..<batch {
            let x = input.baseAddress! + g * n * row, dx = dxBuffer.baseAddress! + g * n * row
            let dy = outputGradient.baseAddress! + g * f
            let w = nodeWeight(x)
            for i in 0..<n where x[i * row + i] != 0 {
                let d = dx + i * row + n
                for j in 0..<f { d[j] = w * dy[j] }
            }
        }
    }
}

import CBlas
#if canImport(Glibc)
import Glibc
#endif

/// A graph convolution (Kipf & Welling's GCN) on packed graphs: `H' = act(Â H Wᵀ + b)`.
///
/// Input and output are packed graphs (`GraphPacking`): `[N, N + F]` in, `[N, N + F']` out, with
/// `Â` copied through untouched so graph layers stack. The weight is `[F', F]` as in PyTorch's
/// `Linear` (and PyG's `GCNConv.lin`), the bias `[F']`. The bias and the activation apply to real
/// nodes only (`Â[i, i] > 0`), so padding nodes stay exactly zero whatever the activation
/// (sigmoid(0) would otherwise leak 0.5 into padding) and padding never changes a result.
/// The activation is built in because a plain `Activation` layer would also transform `Â`.
/// No gradient flows into `Â`: it is data, and its slot in the input gradient is zero.
///
/// Cost per batch: one sgemm for `H Wᵀ` over all nodes of all graphs, one `N × N` product per
/// graph for the propagation, and the mirror products in the backward pass.
public struct GraphConv: Layer {
    /// Output features per node.
    public let outputs: Int
    /// Nonlinearity applied to real nodes after the bias, or nil for a linear layer.
    public let activation: Activation.Kind?
    /// Maximum nodes per graph, fixed by `build`.
    public private(set) var nodes = 0
    /// Input features per node, fixed by `build`.
    public private(set) var inputs = 0
    private var scratch: [Float] = []   // H Wᵀ in forward; dZ then Âᵀ dZ in backward

    /// A graph convolution with `outputs` features per node and an optional built-in activation.
    public init(outputs: Int, activation: Activation.Kind? = nil) {
        self.outputs = outputs
        self.activation = activation
    }

    public var description: String {
        activation.map { "graphconv(\(outputs),\($0.rawValue))" } ?? "graphconv(\(outputs))"
    }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        let (n, f) = try GraphPacking.dimensions(of: inputShape, layer: description)
        guard outputs > 0 else { throw EngineError("graphconv needs at least one output feature, got \(outputs)") }
        nodes = n
        inputs = f
        return [n, n + outputs]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outputs, inputs]), ("bias", [outputs])]
    }

    /// PyTorch `Linear` initialisation (uniform ±1/sqrt(F)), like `Dense`, so comparisons start alike.
    public func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, rng: inout RandomGenerator) {
        initializeUniform(parameters, fanIn: inputs, rng: &rng)
    }

    private mutating func reserve(_ count: Int) {
        if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let n = nodes, f = inputs, fo = outputs, inRow = n + f, outRow = n + fo, act = activation
        reserve(batch * n * fo)
        let w = parameters.baseAddress!, b = w + fo * f
        let x = input.baseAddress!, y = output.baseAddress!
        scratch.withUnsafeMutableBufferPointer { s in
            let t = s.baseAddress!
            // T = H Wᵀ for every node of every graph at once: rows of H are evenly strided by inRow.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch * n), Int32(fo), Int32(f),
                        1, x + n, Int32(inRow), w, Int32(f), 0, t, Int32(fo))
            for g in 0..<batch {
                let xg = x + g * n * inRow, yg = y + g * n * outRow
                for i in 0..<n {
                    let row = yg + i * outRow
                    row.update(from: xg + i * inRow, count: n)
                    if xg[i * inRow + i] != 0 { (row + n).update(from: b, count: fo) }
                    else { (row + n).initialize(repeating: 0, count: fo) }
                }
                // Z = Â T + b (bias pre-filled on real rows, accumulated with beta = 1).
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(fo), Int32(n),
                            1, xg, Int32(inRow), t + g * n * fo, Int32(fo), 1, yg + n, Int32(outRow))
                guard let act else { continue }
                for i in 0..<n where xg[i * inRow + i] != 0 {
                    let z = yg + i * outRow + n
                    switch act {
                    case .relu: for j in 0..<fo where z[j] < 0 { z[j] = 0 }
                    case .tanh: for j in 0..<fo { z[j] = tanhf(z[j]) }
                    case .sigmoid: for j in 0..<fo { z[j] = 1 / (1 + expf(-z[j])) }
                    }
                }
            }
        }
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        let n = nodes, f = inputs, fo = outputs, inRow = n + f, outRow = n + fo, act = activation
        let m = batch * n * fo
        reserve(2 * m)
        let x = input.baseAddress!, y = output.baseAddress!, dy = outputGradient.baseAddress!
        let dw = parameterGradients.baseAddress!, db = dw + fo * f
        scratch.withUnsafeMutableBufferPointer { s in
            let dz = s.baseAddress!, dt = dz + m
            // dZ = dY ⊙ act'(Y) on real nodes, 0 on padding (their output is constant zero).
            for r in 0..<(batch * n) {
                let g = r / n, i = r % n
                let out = dz + r * fo
                guard x[g * n * inRow + i * inRow + i] != 0 else { out.initialize(repeating: 0, count: fo); continue }
                let yr = y + r * outRow + n, dyr = dy + r * outRow + n
                switch act {
                case nil: out.update(from: dyr, count: fo)
                case .relu?: for j in 0..<fo { out[j] = yr[j] > 0 ? dyr[j] : 0 }
                case .tanh?: for j in 0..<fo { out[j] = dyr[j] * (1 - yr[j] * yr[j]) }
                case .sigmoid?: for j in 0..<fo { out[j] = dyr[j] * yr[j] * (1 - yr[j]) }
                }
            }
            db.initialize(repeating: 0, count: fo)
            for r in 0..<(batch * n) { for j in 0..<fo { db[j] += dz[r * fo + j] } }
            // dT = Âᵀ dZ per graph.
            for g in 0..<batch {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(fo), Int32(n),
                            1, x + g * n * inRow, Int32(inRow), dz + g * n * fo, Int32(fo), 0, dt + g * n * fo, Int32(fo))
            }
            // dW[F', F] = dTᵀ H over all nodes of all graphs.
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(fo), Int32(f), Int32(batch * n),
                        1, dt, Int32(fo), x + n, Int32(inRow), 0, dw, Int32(f))
            if let dxBuffer = inputGradient {
                let dx = dxBuffer.baseAddress!
                for r in 0..<(batch * n) { (dx + r * inRow).initialize(repeating: 0, count: n) }
                // dH = dT W, written into the feature columns; the Â columns stay zero.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch * n), Int32(f), Int32(fo),
                            1, dt, Int32(fo), parameters.baseAddress, Int32(f), 0, dx + n, Int32(inRow))
            }
        }
    }
}

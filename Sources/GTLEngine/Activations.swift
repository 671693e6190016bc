#if canImport(Glibc)
import Glibc
#endif

/// Elementwise nonlinearities. The backward pass uses the forward *output* (all three have
/// derivatives expressible through it), so no extra cache is kept.
public struct Activation: Layer {
    /// Which nonlinearity.
    public enum Kind: String, Sendable, Codable { case relu, tanh, sigmoid }
    /// The nonlinearity applied.
    public let kind: Kind
    private var size = 0

    /// An activation layer of the given kind.
    public init(_ kind: Kind) { self.kind = kind }

    public var description: String { kind.rawValue }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        size = inputShape.elementCount
        return inputShape
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let n = batch * size
        let x = input.baseAddress!, y = output.baseAddress!
        switch kind {
        case .relu:
            // x > 0 ? x : 0 (NaN and -0 give 0), eight at a time.
            var i = 0
            let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
            while i + 8 <= n {
                let v = xr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                yr.storeBytes(of: v.replacing(with: 0, where: .!(v .> 0)), toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { y[i] = x[i] > 0 ? x[i] : 0; i += 1 }
        case .tanh: for i in 0..<n { y[i] = tanhf(x[i]) }
        case .sigmoid: for i in 0..<n { y[i] = 1 / (1 + expf(-x[i])) }
        }
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        guard let dxBuffer = inputGradient else { return }
        let n = batch * size
        let y = output.baseAddress!, dy = outputGradient.baseAddress!, dx = dxBuffer.baseAddress!
        switch kind {
        case .relu:
            // y > 0 ? dy : 0, eight at a time.
            var i = 0
            let yr = UnsafeRawPointer(y), gr = UnsafeRawPointer(dy), dr = UnsafeMutableRawPointer(dx)
            while i + 8 <= n {
                let v = yr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let g = gr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                dr.storeBytes(of: g.replacing(with: 0, where: .!(v .> 0)), toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
        case .tanh: for i in 0..<n { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        case .sigmoid: for i in 0..<n { dx[i] = dy[i] * y[i] * (1 - y[i]) }
        }
    }
}

/// Reshapes `[C, H, W]` (or any shape) to a flat vector; data are already contiguous, so both
/// passes are a copy.
public struct Flatten: Layer {
    private var size = 0
    /// A flatten layer.
    public init() {}
    public var description: String { "flatten" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        size = inputShape.elementCount
        return [size]
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        output.baseAddress!.update(from: input.baseAddress!, count: batch * size)
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        inputGradient?.baseAddress!.update(from: outputGradient.baseAddress!, count: batch * size)
    }
}

/// Inverted dropout: in training each element is zeroed with probability `rate` and the rest
/// scaled by 1/(1-rate); in inference it is the identity. The mask comes from the network's
/// seeded generator, so training stays bit-reproducible.
public struct Dropout: Layer {
    /// Probability of dropping an element, in [0, 1).
    public let rate: Float
    private var size = 0
    private var mask: [Float] = []

    /// A dropout layer with drop probability `rate`.
    public init(rate: Float) { self.rate = rate }
    public var description: String { "dropout(\(rate))" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        guard rate >= 0, rate < 1 else { throw EngineError("dropout rate must be in [0, 1), got \(rate)") }
        size = inputShape.elementCount
        return inputShape
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let n = batch * size
        let x = input.baseAddress!, y = output.baseAddress!
        guard mode == .training, rate > 0 else {
            y.update(from: x, count: n)
            if mask.count >= n { mask.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 1, count: n) } }
            else { mask = [Float](repeating: 1, count: n) }
            return
        }
        if mask.count < n { mask = [Float](repeating: 0, count: n) }
        let keep = 1 / (1 - rate)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<n { m[i] = rng.nextUniform() < rate ? 0 : keep }
            for i in 0..<n { y[i] = x[i] * m[i] }
        }
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        guard let dxBuffer = inputGradient else { return }
        let n = batch * size
        let dy = outputGradient.baseAddress!, dx = dxBuffer.baseAddress!
        mask.withUnsafeBufferPointer { m in for i in 0..<n { dx[i] = dy[i] * m[i] } }
    }
}

import CBlas

/// A fully connected layer `y = x Wᵀ + b`, with `W` of shape `[out, in]` as in PyTorch.
///
/// Both passes are single `cblas_sgemm` calls over the whole batch; the bias is broadcast by
/// pre-filling the output and letting sgemm accumulate (beta = 1), so no extra pass is needed.
public struct Dense: Layer {
    /// Number of output features.
    public let outputs: Int
    /// Number of input features, fixed by `build`.
    public private(set) var inputs = 0

    /// A dense layer with `outputs` features; the input width comes from the preceding layer.
    public init(outputs: Int) { self.outputs = outputs }

    public var description: String { "dense(\(outputs))" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 1, inputShape[0] > 0 else {
            throw EngineError("dense(\(outputs)) needs a flat input, got shape \(inputShape) (add flatten first)")
        }
        guard outputs > 0 else { throw EngineError("dense layer needs at least one output, got \(outputs)") }
        inputs = inputShape[0]
        return [outputs]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outputs, inputs]), ("bias", [outputs])]
    }

    public func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, rng: inout RandomGenerator) {
        initializeUniform(parameters, fanIn: inputs, rng: &rng)
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let w = parameters.baseAddress!, b = w + outputs * inputs
        let y = output.baseAddress!
        for row in 0..<batch { (y + row * outputs).update(from: b, count: outputs) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outputs), Int32(inputs),
                    1, input.baseAddress, Int32(inputs), w, Int32(inputs), 1, y, Int32(outputs))
    }

    public mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                                  outputGradient: UnsafeBufferPointer<Float>,
                                  inputGradient: UnsafeMutableBufferPointer<Float>?,
                                  parameters: UnsafeBufferPointer<Float>,
                                  parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int) {
        let dy = outputGradient.baseAddress!
        let dw = parameterGradients.baseAddress!, db = dw + outputs * inputs
        // dW[out, in] = dYᵀ[out, batch] · X[batch, in]
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(batch),
                    1, dy, Int32(outputs), input.baseAddress, Int32(inputs), 0, dw, Int32(inputs))
        // db = column sums of dY
        db.initialize(repeating: 0, count: outputs)
        for row in 0..<batch {
            let r = dy + row * outputs
            for j in 0..<outputs { db[j] += r[j] }
        }
        if let dx = inputGradient {
            // dX[batch, in] = dY[batch, out] · W[out, in]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(inputs), Int32(outputs),
                        1, dy, Int32(outputs), parameters.baseAddress, Int32(inputs), 0, dx.baseAddress, Int32(inputs))
        }
    }
}

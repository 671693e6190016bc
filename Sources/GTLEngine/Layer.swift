/// Whether a forward pass is for training (dropout active) or for inference.
public enum Mode: Sendable { case training, inference }

/// One differentiable stage of a network, working on batches in flat buffers.
///
/// A layer owns no parameters: the network hands it its slice of the flat parameter buffer (and
/// of the gradient buffer) on each call, in the order of `parameterShapes`. This keeps parameter
/// storage uniform for GTL (every parameter has a name, shape and offset) and lets a layer keep
/// only per-batch caches (a dropout mask, max-pool winners, im2col columns) in its own value.
///
/// Buffers hold `batch` samples back to back, each of the per-sample shape from `build`.
/// A graph layer fits the same contract (adjacency and node features packed into its per-sample
/// input), and an autoencoder is a network whose loss compares the output with the input.
public protocol Layer: Sendable {
    /// Short description for reports, e.g. `dense(256)`.
    var description: String { get }

    /// Fixes the layer's dimensions from the per-sample input shape and returns the per-sample
    /// output shape; throws when the input shape is unusable (a clear message, not a crash).
    mutating func build(inputShape: [Int]) throws -> [Int]

    /// Local names and shapes of the parameter tensors, valid after `build`.
    var parameterShapes: [(name: String, shape: [Int])] { get }

    /// Fills this layer's parameter slice with initial values.
    func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, rng: inout RandomGenerator)

    /// Computes `output` from `input` for `batch` samples.
    mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                          parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                          rng: inout RandomGenerator)

    /// Back-propagates `outputGradient`: overwrites this layer's slice of the gradient buffer with
    /// the loss gradient of its parameters and, unless `inputGradient` is nil (the first layer needs
    /// none), writes the gradient with respect to the input. `input` and `output` are the buffers of
    /// the preceding forward call.
    mutating func backward(input: UnsafeBufferPointer<Float>, output: UnsafeBufferPointer<Float>,
                           outputGradient: UnsafeBufferPointer<Float>,
                           inputGradient: UnsafeMutableBufferPointer<Float>?,
                           parameters: UnsafeBufferPointer<Float>,
                           parameterGradients: UnsafeMutableBufferPointer<Float>, batch: Int)
}

extension Layer {
    /// Parameter-free layers need not say so.
    public var parameterShapes: [(name: String, shape: [Int])] { [] }
    /// Parameter-free layers have nothing to initialise.
    public func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, rng: inout RandomGenerator) {}
}

/// PyTorch's default initialisation for dense and conv layers: weights and biases uniform in
/// ±1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)), so comparisons with PyTorch start alike.
func initializeUniform(_ buffer: UnsafeMutableBufferPointer<Float>, fanIn: Int, rng: inout RandomGenerator) {
    let bound = 1 / Float(max(fanIn, 1)).squareRoot()
    for i in buffer.indices { buffer[i] = (rng.nextUniform() * 2 - 1) * bound }
}

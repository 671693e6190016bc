/// A feed-forward stack of layers over one flat parameter buffer, with reusable workspaces.
///
/// Buffers for activations and their gradients are allocated once per batch size and reused on
/// every step, so a training step allocates nothing. The network is a value: copying it (for
/// example the base model handed to a scout) copies the parameters, never aliases them.
public struct Network: Sendable {
    /// Per-sample input shape, e.g. `[1, 28, 28]` or `[64]`.
    public let inputShape: [Int]
    /// Per-sample output shape.
    public var outputShape: [Int] { shapes[shapes.count - 1] }
    /// Names, shapes and offsets of every parameter tensor.
    public let layout: ParameterLayout
    /// Every parameter, in `layout` order; `setParameters` loads a snapshot.
    public private(set) var parameters: [Float]
    /// Loss gradients of the last `computeGradients` call, in `layout` order.
    public private(set) var gradients: [Float]
    /// Generator for stochastic layers (dropout); part of the value so training is reproducible.
    public var rng: RandomGenerator

    private var layers: [any Layer]
    private let shapes: [[Int]]                 // shapes[0] = input, shapes[i + 1] = output of layer i
    private let parameterRanges: [Range<Int>]   // each layer's slice of the flat buffers
    private var workspace: [Float] = []         // activations then deltas, batchCapacity samples each
    private var batchCapacity = 0

    /// Builds `layers` on `inputShape`, names parameters `index.local` and initialises them from `seed`.
    public init(inputShape: [Int], layers: [any Layer], seed: UInt64) throws {
        var built: [any Layer] = []
        var shapes = [inputShape]
        var entries: [(name: String, shape: [Int])] = []
        var ranges: [Range<Int>] = []
        var offset = 0
        for (index, var layer) in layers.enumerated() {
            shapes.append(try layer.build(inputShape: shapes[shapes.count - 1]))
            let count = layer.parameterShapes.reduce(0) { $0 + $1.shape.elementCount }
            entries += layer.parameterShapes.map { ("\(index).\($0.name)", $0.shape) }
            ranges.append(offset..<(offset + count))
            offset += count
            built.append(layer)
        }
        guard !built.isEmpty else { throw EngineError("a network needs at least one layer") }
        self.inputShape = inputShape
        self.layers = built
        self.shapes = shapes
        self.parameterRanges = ranges
        self.layout = ParameterLayout(entries)
        var params = [Float](repeating: 0, count: offset)
        var initRng = RandomGenerator(seed: RandomGenerator.derive(seed, 1))
        params.withUnsafeMutableBufferPointer { p in
            for (layer, range) in zip(built, ranges) where !range.isEmpty {
                layer.initialize(UnsafeMutableBufferPointer(rebasing: p[range]), rng: &initRng)
            }
        }
        self.parameters = params
        self.gradients = [Float](repeating: 0, count: offset)
        self.rng = RandomGenerator(seed: RandomGenerator.derive(seed, 2))
    }

    /// Replaces every parameter (a snapshot, the base model before a scout); counts must agree.
    public mutating func setParameters(_ values: [Float]) throws {
        guard values.count == layout.totalCount else {
            throw EngineError("snapshot has \(values.count) parameters, network has \(layout.totalCount)")
        }
        parameters = values
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { layout.totalCount }
    /// Elements per input sample.
    public var inputWidth: Int { inputShape.elementCount }
    /// Elements per output sample.
    public var outputWidth: Int { outputShape.elementCount }
    /// One line per layer, e.g. `dense(256)`.
    public var layerDescriptions: [String] { layers.map(\.description) }

    /// Where each layer's output starts in the workspace (deltas follow at `activationTotal`);
    /// recomputed only when the batch capacity grows, so a training step allocates nothing.
    private var activationOffsets: [Int] = []
    private var activationTotal = 0

    private mutating func reserve(batch: Int) {
        guard batch > batchCapacity else { return }
        batchCapacity = batch
        var offsets: [Int] = [], o = 0
        for s in shapes.dropFirst() { offsets.append(o); o += s.elementCount * batchCapacity }
        activationOffsets = offsets
        activationTotal = o
        workspace = [Float](repeating: 0, count: 2 * activationTotal)
    }

    /// Runs the forward pass and hands `body` the output of `batch` samples (valid inside only).
    public mutating func forward<R>(_ input: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                    _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        precondition(input.count >= batch * inputWidth, "input holds \(input.count) values, batch needs \(batch * inputWidth)")
        reserve(batch: batch)
        var ws = workspace, layers = self.layers, rng = self.rng
        workspace = []; self.layers = []
        defer { workspace = ws; self.layers = layers; self.rng = rng }
        let offsets = activationOffsets
        return ws.withUnsafeMutableBufferPointer { w in
            parameters.withUnsafeBufferPointer { p in
                var x = UnsafeBufferPointer(rebasing: input[0..<(batch * inputWidth)])
                for i in layers.indices {
                    let y = UnsafeMutableBufferPointer(rebasing: w[offsets[i]..<(offsets[i] + batch * shapes[i + 1].elementCount)])
                    layers[i].forward(x, into: y, parameters: UnsafeBufferPointer(rebasing: p[parameterRanges[i]]),
                                      batch: batch, mode: mode, rng: &rng)
                    x = UnsafeBufferPointer(y)
                }
                return body(x)
            }
        }
    }

    /// Inference on `batch` samples; returns their outputs (a copy).
    public mutating func predict(_ input: [Float], batch: Int) -> [Float] {
        input.withUnsafeBufferPointer { x in forward(x, batch: batch, mode: .inference) { Array($0) } }
    }

    /// Forward in training mode, loss, and back-propagation into `gradients`; returns the mean loss.
    @discardableResult
    public mutating func computeGradients(_ input: UnsafeBufferPointer<Float>, targets: Targets, batch: Int,
                                          loss: any Loss) -> Float {
        let width = outputWidth
        forward(input, batch: batch, mode: .training) { _ in () }
        var ws = workspace, layers = self.layers, grads = gradients
        workspace = []; self.layers = []; gradients = []
        defer { workspace = ws; self.layers = layers; gradients = grads }
        let offsets = activationOffsets, deltaBase = activationTotal
        return ws.withUnsafeMutableBufferPointer { w in
            grads.withUnsafeMutableBufferPointer { g in
                parameters.withUnsafeBufferPointer { p in
                    func act(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
                        UnsafeMutableBufferPointer(rebasing: w[offsets[i]..<(offsets[i] + batch * shapes[i + 1].elementCount)])
                    }
                    func delta(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
                        let o = deltaBase + offsets[i]
                        return UnsafeMutableBufferPointer(rebasing: w[o..<(o + batch * shapes[i + 1].elementCount)])
                    }
                    let last = layers.count - 1
                    let value = loss.lossAndGradient(output: UnsafeBufferPointer(act(last)), targets: targets,
                                                     batch: batch, width: width, gradient: delta(last))
                    for i in stride(from: last, through: 0, by: -1) {
                        let x = i > 0 ? UnsafeBufferPointer(act(i - 1))
                                      : UnsafeBufferPointer(rebasing: input[0..<(batch * inputWidth)])
                        layers[i].backward(input: x, output: UnsafeBufferPointer(act(i)),
                                           outputGradient: UnsafeBufferPointer(delta(i)),
                                           inputGradient: i > 0 ? delta(i - 1) : nil,
                                           parameters: UnsafeBufferPointer(rebasing: p[parameterRanges[i]]),
                                           parameterGradients: UnsafeMutableBufferPointer(rebasing: g[parameterRanges[i]]),
                                           batch: batch)
                    }
                    return value
                }
            }
        }
    }

    /// Gives an optimiser simultaneous access to the parameters and the last gradients.
    public mutating func withParametersAndGradients<R>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> R
    ) -> R {
        var params = parameters
        parameters = []
        defer { parameters = params }
        return params.withUnsafeMutableBufferPointer { p in gradients.withUnsafeBufferPointer { g in body(p, g) } }
    }

    /// The named parameter tensors (copies), e.g. for export.
    public var namedParameters: [(name: String, tensor: Tensor)] { layout.tensors(from: parameters) }
}

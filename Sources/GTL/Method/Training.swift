import GTLEngine

/// Which optimiser a phase uses, and its step size: a value so it can live in job files.
public struct OptimizerSettings: Sendable, Equatable, Codable {
    /// The optimiser family.
    public enum Kind: String, Sendable, Codable, CaseIterable { case sgd, momentum, adam }
    /// Family.
    public var kind: Kind
    /// Step size.
    public var learningRate: Float

    /// Settings for one optimiser.
    public init(_ kind: Kind, learningRate: Float) {
        self.kind = kind
        self.learningRate = learningRate
    }

    /// A fresh optimiser (no momentum or moment estimates carried over).
    public func make() -> any Optimizer {
        switch kind {
        case .sgd: return SGD(learningRate: learningRate)
        case .momentum: return Momentum(learningRate: learningRate, momentum: 0.9)
        case .adam: return Adam(learningRate: learningRate)
        }
    }
}

/// How long and how to train one phase (pre-training, a scout, a fine-tuning run).
public struct TrainSettings: Sendable, Equatable, Codable {
    /// Optimiser steps.
    public var steps: Int
    /// Samples per step (the whole task when it has fewer).
    public var batchSize: Int
    /// The optimiser.
    public var optimizer: OptimizerSettings

    /// Settings for one phase.
    public init(steps: Int, batchSize: Int, optimizer: OptimizerSettings) {
        self.steps = steps
        self.batchSize = batchSize
        self.optimizer = optimizer
    }
}

/// A labelled task gathered into its own compact buffers: the samples a scout or a fine-tuning
/// run trains on, with labels already mapped to head positions.
public struct Task: Sendable {
    /// Features, `count × width`, row-major.
    public let features: [Float]
    /// Head position of each sample's class.
    public let labels: [Int32]
    /// Elements per sample.
    public let width: Int
    /// Number of samples.
    public var count: Int { labels.count }

    /// Gathers `indices` of `data`, labelling sample `i` with `mapping[data.labels[i]]`.
    public init(_ data: Dataset, indices: [Int], mapping: [Int: Int32]) {
        let w = data.featureCount
        var f = [Float](repeating: 0, count: indices.count * w)
        var l = [Int32](repeating: 0, count: indices.count)
        data.features.withUnsafeBufferPointer { src in
            f.withUnsafeMutableBufferPointer { dst in
                for (row, i) in indices.enumerated() {
                    (dst.baseAddress! + row * w).update(from: src.baseAddress! + i * w, count: w)
                    guard let m = mapping[Int(data.labels[i])] else {
                        preconditionFailure("sample \(i) has class \(data.labels[i]), absent from the task's label mapping")
                    }
                    l[row] = m
                }
            }
        }
        features = f
        labels = l
        width = w
    }
}

/// The minibatch loop shared by every phase: seeded epoch shuffles, one reused batch buffer,
/// optional per-parameter update multipliers, and a hook after each step (scouts stream their
/// trajectory statistics through it).
public struct Trainer {
    /// The loss every classification phase uses.
    public static let loss = SoftmaxCrossEntropy()

    /// Trains `network` on `task`; returns the loss of the last step. `isCancelled` is asked
    /// before every step; once it says yes, training stops where it is (the caller discards the
    /// network: a coordinator stopped by a signal while pre-training).
    @discardableResult
    public static func train(_ network: inout Network, on task: Task, settings: TrainSettings, multipliers: [Float]? = nil,
                             rng: inout RandomGenerator,
                             afterStep: (_ step: Int, _ network: Network) -> Void = { _, _ in },
                             isCancelled: () -> Bool = { false }) -> Float {
        precondition(task.count > 0, "cannot train on an empty task")
        let batch = min(settings.batchSize, task.count), w = task.width
        var optimizer = settings.optimizer.make()
        var order = Array(0..<task.count)
        var cursor = task.count
        var x = [Float](repeating: 0, count: batch * w)
        var y = [Int32](repeating: 0, count: batch)
        var last: Float = 0
        for step in 0..<settings.steps {
            if isCancelled() { break }
            task.features.withUnsafeBufferPointer { src in
                x.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<batch {
                        if cursor == task.count { rng.shuffle(&order); cursor = 0 }
                        let i = order[cursor]; cursor += 1
                        (dst.baseAddress! + row * w).update(from: src.baseAddress! + i * w, count: w)
                        y[row] = task.labels[i]
                    }
                }
            }
            last = x.withUnsafeBufferPointer { xb in
                y.withUnsafeBufferPointer { network.computeGradients(xb, targets: .classes($0), batch: batch, loss: loss) }
            }
            optimizer.step(&network, multipliers: multipliers)
            afterStep(step, network)
        }
        return last
    }

    /// Fraction of `task` classified correctly (argmax over the first `classes` outputs).
    public static func accuracy(_ network: inout Network, on task: Task, classes: Int) -> Double {
        measure(&network, on: task, classes: classes).accuracy
    }

    /// Mean training loss (over the whole head, as in training) and accuracy (argmax over the first
    /// `classes` outputs) on every sample of `task`, in inference mode: how far a scout converged
    /// on its subproblem, which a last minibatch's loss only hints at.
    public static func measure(_ network: inout Network, on task: Task, classes: Int) -> (loss: Double, accuracy: Double) {
        let chunk = 256, out = network.outputWidth
        var correct = 0, lossSum = 0.0
        var gradient = [Float](repeating: 0, count: chunk * out)
        task.features.withUnsafeBufferPointer { src in
            task.labels.withUnsafeBufferPointer { labels in
                var start = 0
                while start < task.count {
                    let n = min(chunk, task.count - start)
                    let input = UnsafeBufferPointer(rebasing: src[(start * task.width)..<((start + n) * task.width)])
                    let targets = UnsafeBufferPointer(rebasing: labels[start..<(start + n)])
                    network.forward(input, batch: n, mode: .inference) { y in
                        let l = gradient.withUnsafeMutableBufferPointer {
                            loss.lossAndGradient(output: y, targets: .classes(targets), batch: n, width: out, gradient: $0)
                        }
                        lossSum += Double(l) * Double(n)
                        for r in 0..<n {
                            var best = 0
                            for c in 1..<classes where y[r * out + c] > y[r * out + best] { best = c }
                            if best == Int(targets[r]) { correct += 1 }
                        }
                    }
                    start += n
                }
            }
        }
        return (lossSum / Double(task.count), Double(correct) / Double(task.count))
    }
}

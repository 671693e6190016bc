import GTLEngine

/// The minibatch loop for value targets (autoencoders, denoising), mirroring `Trainer` (seeded epoch
/// shuffles, one reused batch buffer, optional per-parameter update multipliers, a hook after each
/// step) so an unsupervised scout or pre-training phase streams the same statistics a supervised one does.
public enum ReconstructionTrainer {
    /// The loss: PyTorch's `MSELoss()` (mean over samples and outputs).
    public static let loss = MeanSquaredError()

    /// Trains `network` on `task`; returns the loss of the last step. With `denoising`, each batch's
    /// inputs are fresh corruptions of its targets (drawn from `rng`) instead of `task.inputs`, the
    /// usual way to train a denoising autoencoder (new noise every epoch, no fixed pairs to memorise).
    @discardableResult
    /// `isCancelled` is asked before every step, as in `Trainer.train`.
    public static func train(_ network: inout Network, on task: ReconstructionTask, settings: TrainSettings,
                             denoising: Denoising? = nil, multipliers: [Float]? = nil, rng: inout RandomGenerator,
                             afterStep: (_ step: Int, _ network: Network) -> Void = { _, _ in },
                             isCancelled: () -> Bool = { false }) -> Float {
        precondition(task.count > 0, "cannot train on an empty task")
        precondition(network.inputWidth == task.inputWidth && network.outputWidth == task.targetWidth,
                     "network maps \(network.inputWidth) to \(network.outputWidth) values, task \(task.inputWidth) to \(task.targetWidth)")
        precondition(denoising == nil || task.inputWidth == task.targetWidth, "denoising needs inputs shaped like targets")
        let batch = min(settings.batchSize, task.count), w = task.inputWidth, t = task.targetWidth
        var optimizer = settings.optimizer.make()
        var order = Array(0..<task.count), cursor = task.count
        var x = [Float](repeating: 0, count: batch * w), y = [Float](repeating: 0, count: batch * t)
        var last: Float = 0
        for step in 0..<settings.steps {
            if isCancelled() { break }
            task.inputs.withUnsafeBufferPointer { src in
                task.targets.withUnsafeBufferPointer { tgt in
                    x.withUnsafeMutableBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            for row in 0..<batch {
                                if cursor == task.count { rng.shuffle(&order); cursor = 0 }
                                let i = order[cursor]; cursor += 1
                                (yb.baseAddress! + row * t).update(from: tgt.baseAddress! + i * t, count: t)
                                let xr = UnsafeMutableBufferPointer(rebasing: xb[(row * w)..<((row + 1) * w)])
                                if let denoising {
                                    denoising.corrupt(UnsafeBufferPointer(rebasing: tgt[(i * t)..<((i + 1) * t)]), into: xr, rng: &rng)
                                } else {
                                    xr.baseAddress!.update(from: src.baseAddress! + i * w, count: w)
                                }
                            }
                        }
                    }
                }
            }
            last = x.withUnsafeBufferPointer { xb in
                y.withUnsafeBufferPointer { network.computeGradients(xb, targets: .values($0), batch: batch, loss: loss) }
            }
            optimizer.step(&network, multipliers: multipliers)
            afterStep(step, network)
        }
        return last
    }

    /// Mean squared error of the network's outputs for `task.inputs` against `task.targets`, over all
    /// samples and values (the training loss, measured without dropout).
    public static func meanSquaredError(_ network: inout Network, on task: ReconstructionTask) -> Double {
        let chunk = 256
        var total = 0.0, start = 0
        task.inputs.withUnsafeBufferPointer { src in
            while start < task.count {
                let n = min(chunk, task.count - start)
                let input = UnsafeBufferPointer(rebasing: src[(start * task.inputWidth)..<((start + n) * task.inputWidth)])
                network.forward(input, batch: n, mode: .inference) { out in
                    for k in 0..<(n * task.targetWidth) {
                        let d = Double(out[k]) - Double(task.targets[start * task.targetWidth + k])
                        total += d * d
                    }
                }
                start += n
            }
        }
        return total / Double(task.targets.count)
    }
}

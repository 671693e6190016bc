#if canImport(Glibc)
import Glibc
#endif

/// What a batch is trained towards: class indices (classification) or values (regression,
/// autoencoders reconstructing their input).
public enum Targets {
    /// One class index per sample.
    case classes(UnsafeBufferPointer<Int32>)
    /// `outputs` values per sample, laid out like the network's output.
    case values(UnsafeBufferPointer<Float>)
}

/// A loss: the batch mean of a per-sample loss, and its gradient with respect to the outputs.
public protocol Loss: Sendable {
    /// Returns the mean loss over `batch` samples of width `width` and writes d(loss)/d(output).
    func lossAndGradient(output: UnsafeBufferPointer<Float>, targets: Targets, batch: Int, width: Int,
                         gradient: UnsafeMutableBufferPointer<Float>) -> Float
}

/// Softmax followed by cross-entropy against class indices, fused for numerical stability
/// (log-sum-exp with the row maximum subtracted) and because its gradient is simply p − onehot.
public struct SoftmaxCrossEntropy: Loss {
    /// The loss.
    public init() {}

    public func lossAndGradient(output: UnsafeBufferPointer<Float>, targets: Targets, batch: Int, width: Int,
                                gradient: UnsafeMutableBufferPointer<Float>) -> Float {
        guard case .classes(let labels) = targets else {
            preconditionFailure("softmax cross-entropy needs class targets")
        }
        var total: Double = 0
        let scale = 1 / Float(batch)
        for b in 0..<batch {
            let z = output.baseAddress! + b * width, g = gradient.baseAddress! + b * width
            var m = z[0]
            for j in 1..<width where z[j] > m { m = z[j] }
            var sum: Float = 0
            for j in 0..<width { let e = expf(z[j] - m); g[j] = e; sum += e }
            let label = Int(labels[b])
            precondition(label >= 0 && label < width, "label \(label) outside 0..<\(width)")
            total += Double(logf(sum) + m - z[label])
            let inv = scale / sum
            for j in 0..<width { g[j] *= inv }
            g[label] -= scale
        }
        return Float(total / Double(batch))
    }
}

/// Mean squared error averaged over samples and outputs (PyTorch's `MSELoss()` default).
public struct MeanSquaredError: Loss {
    /// The loss.
    public init() {}

    public func lossAndGradient(output: UnsafeBufferPointer<Float>, targets: Targets, batch: Int, width: Int,
                                gradient: UnsafeMutableBufferPointer<Float>) -> Float {
        guard case .values(let t) = targets else { preconditionFailure("MSE needs value targets") }
        let n = batch * width
        let y = output.baseAddress!, g = gradient.baseAddress!, tv = t.baseAddress!
        var total: Double = 0
        let scale = 2 / Float(n)
        for i in 0..<n {
            let d = y[i] - tv[i]
            total += Double(d * d)
            g[i] = scale * d
        }
        return Float(total / Double(n))
    }
}

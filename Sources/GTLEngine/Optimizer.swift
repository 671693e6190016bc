/// An optimiser over a flat parameter buffer, with optional per-parameter update multipliers.
///
/// The multiplier (GTL's guide value) scales the *update* the optimiser takes, after all its
/// internal normalisation — never the gradient. Multiplying the gradient by a constant leaves
/// Adam's step unchanged (Adam divides by the gradient's own scale), which is the reference
/// implementation's bug; scaling the update makes SGD, momentum and Adam all honour the guide.
/// A multiplier of 0 therefore freezes a parameter under every optimiser.
public protocol Optimizer: Sendable {
    /// Applies one update to `parameters` from `gradients`, scaled per parameter by `multipliers`
    /// when given (same count as the parameters).
    mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                       multipliers: UnsafeBufferPointer<Float>?)
}

extension Optimizer {
    /// Updates a network from the gradients of its last backward pass.
    public mutating func step(_ network: inout Network, multipliers: [Float]? = nil) {
        if let m = multipliers {
            precondition(m.count == network.parameterCount, "guide has \(m.count) values, network \(network.parameterCount)")
        }
        network.withParametersAndGradients { p, g in
            if let m = multipliers {
                m.withUnsafeBufferPointer { step(parameters: p, gradients: g, multipliers: $0) }
            } else {
                step(parameters: p, gradients: g, multipliers: nil)
            }
        }
    }
}

/// Plain stochastic gradient descent: `w -= m · lr · g`.
public struct SGD: Optimizer {
    /// Step size.
    public var learningRate: Float
    /// Plain SGD with step size `learningRate`.
    public init(learningRate: Float) { self.learningRate = learningRate }

    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                              multipliers: UnsafeBufferPointer<Float>?) {
        let p = parameters.baseAddress!, g = gradients.baseAddress!, n = parameters.count, lr = learningRate
        if let m = multipliers?.baseAddress {
            for i in 0..<n { p[i] -= lr * m[i] * g[i] }
        } else {
            for i in 0..<n { p[i] -= lr * g[i] }
        }
    }
}

/// SGD with (heavy-ball) momentum, PyTorch's formulation: `v = μv + g; w -= m · lr · v`.
/// The velocity accumulates raw gradients; only the applied update is scaled by the guide.
public struct Momentum: Optimizer {
    /// Step size.
    public var learningRate: Float
    /// Momentum coefficient μ.
    public var momentum: Float
    private var velocity: [Float] = []

    /// Momentum SGD with the given step size and coefficient.
    public init(learningRate: Float, momentum: Float = 0.9) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                              multipliers: UnsafeBufferPointer<Float>?) {
        let n = parameters.count
        if velocity.count != n { velocity = [Float](repeating: 0, count: n) }
        let p = parameters.baseAddress!, g = gradients.baseAddress!, lr = learningRate, mu = momentum
        let m = multipliers?.baseAddress
        velocity.withUnsafeMutableBufferPointer { vb in
            let v = vb.baseAddress!
            if let m {
                for i in 0..<n { v[i] = mu * v[i] + g[i]; p[i] -= lr * m[i] * v[i] }
            } else {
                for i in 0..<n { v[i] = mu * v[i] + g[i]; p[i] -= lr * v[i] }
            }
        }
    }
}

/// Adam (Kingma & Ba) with bias correction; the guide multiplies the final step
/// `lr · m̂ / (√v̂ + ε)`, so a guide of 0.1 really makes the parameter move ten times less.
public struct Adam: Optimizer {
    /// Step size.
    public var learningRate: Float
    /// Decay of the first moment.
    public var beta1: Float
    /// Decay of the second moment.
    public var beta2: Float
    /// Added to the denominator for stability.
    public var epsilon: Float
    private var m: [Float] = []
    private var v: [Float] = []
    private var t = 0

    /// Adam with PyTorch's defaults apart from the step size.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                              multipliers: UnsafeBufferPointer<Float>?) {
        let n = parameters.count
        if m.count != n { m = [Float](repeating: 0, count: n); v = m; t = 0 }
        t += 1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let c1 = 1 - powf(b1, Float(t)), c2 = 1 - powf(b2, Float(t))
        let stepSize = learningRate / c1, c2root = c2.squareRoot()
        let p = parameters.baseAddress!, g = gradients.baseAddress!, mult = multipliers?.baseAddress
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                let mm = mb.baseAddress!, vv = vb.baseAddress!
                // Eight lanes at a time, each doing exactly the scalar tail's operations in the
                // same order (no fused multiply-adds), so results are bit-identical to it: the
                // square root and two divisions per parameter made the scalar loop the largest
                // cost of a small model's step.
                let w = 8, vector = n - n % w
                typealias V = SIMD8<Float>
                let vb1 = V(repeating: b1), vb2 = V(repeating: b2), vg1 = V(repeating: 1 - b1), vg2 = V(repeating: 1 - b2)
                let vstep = V(repeating: stepSize), vroot = V(repeating: c2root), veps = V(repeating: eps)
                func load(_ x: UnsafePointer<Float>, _ i: Int) -> V { UnsafeRawPointer(x + i).loadUnaligned(as: V.self) }
                func store(_ value: V, _ x: UnsafeMutablePointer<Float>, _ i: Int) { UnsafeMutableRawPointer(x + i).storeBytes(of: value, as: V.self) }
                var i = 0
                while i < vector {
                    let gi = load(g, i)
                    let mi = vb1 * load(mm, i) + vg1 * gi
                    let vi = vb2 * load(vv, i) + vg2 * gi * gi
                    store(mi, mm, i)
                    store(vi, vv, i)
                    let update = vstep * mi / (vi.squareRoot() / vroot + veps)
                    store(load(p, i) - (mult.map { load($0, i) } ?? V(repeating: 1)) * update, p, i)
                    i += w
                }
                for i in vector..<n {
                    mm[i] = b1 * mm[i] + (1 - b1) * g[i]
                    vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i]
                    let update = stepSize * mm[i] / (vv[i].squareRoot() / c2root + eps)
                    p[i] -= (mult?[i] ?? 1) * update
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

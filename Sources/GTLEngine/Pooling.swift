/// Max or average pooling over square windows of `[C, H, W]` samples, no padding.
///
/// Max pooling remembers the winning input index of every output so backward is a scatter.
public struct Pool2D: Layer {
    /// Which reduction over a window.
    public enum Kind: String, Sendable, Codable { case max, average }
    /// The reduction.
    public let kind: Kind
    /// Window size.
    public let size: Int
    /// Step between windows.
    public let stride: Int
    private var c = 0, h = 0, w = 0, oh = 0, ow = 0
    private var winners: [Int32] = []

    /// A pooling layer; `stride` defaults to the window size (non-overlapping windows).
    public init(_ kind: Kind, size: Int, stride: Int? = nil) {
        self.kind = kind
        self.size = size
        self.stride = stride ?? size
    }

    public var description: String { "\(kind == .max ? "maxpool" : "avgpool")(\(size), s\(stride))" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError("\(description) needs input [channels, height, width], got \(inputShape)")
        }
        guard size > 0, stride > 0, inputShape[1] >= size, inputShape[2] >= size else {
            throw EngineError("\(description): window must be positive and fit the input \(inputShape)")
        }
        (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        oh = (h - size) / stride + 1
        ow = (w - size) / stride + 1
        return [c, oh, ow]
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        let x = input.baseAddress!, y = output.baseAddress!
        let planes = batch * c, outCount = planes * oh * ow
        if kind == .max, winners.count < outCount { winners = [Int32](repeating: 0, count: outCount) }
        let scale = 1 / Float(size * size)
        let (kind, size, stride, h, w, oh, ow) = (self.kind, self.size, self.stride, self.h, self.w, self.oh, self.ow)
        winners.withUnsafeMutableBufferPointer { win in
            if kind == .max && size == 2 && stride == 2 {
                // The common 2x2/2 window unrolled; same order and ties as the general loop
                // (the first strictly greater value wins, row by row).
                for pl in 0..<planes {
                    let src = x + pl * h * w, dst = y + pl * oh * ow, wp = win.baseAddress! + pl * oh * ow
                    for oy in 0..<oh {
                        let r0 = src + 2 * oy * w, r1 = r0 + w, rowBase = 2 * oy * w
                        for ox in 0..<ow {
                            var best = r0[2 * ox], at = 0
                            if r0[2 * ox + 1] > best { best = r0[2 * ox + 1]; at = 1 }
                            if r1[2 * ox] > best { best = r1[2 * ox]; at = w }
                            if r1[2 * ox + 1] > best { best = r1[2 * ox + 1]; at = w + 1 }
                            dst[oy * ow + ox] = best
                            wp[oy * ow + ox] = Int32(rowBase + 2 * ox + at)
                        }
                    }
                }
                return
            }
            for pl in 0..<planes {
                let src = x + pl * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = (pl * oh + oy) * ow + ox
                        let base = oy * stride * w + ox * stride
                        if kind == .max {
                            var best = src[base], at = base
                            for ky in 0..<size {
                                for kx in 0..<size where src[base + ky * w + kx] > best {
                                    best = src[base + ky * w + kx]
                                    at = base + ky * w + kx
                                }
                            }
                            y[o] = best
                            win[o] = Int32(at)
                        } else {
                            var sum: Float = 0
                            for ky in 0..<size { for kx in 0..<size { sum += src[base + ky * w + kx] } }
                            y[o] = sum * scale
                        }
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
        guard let dxBuffer = inputGradient else { return }
        let dx = dxBuffer.baseAddress!, dy = outputGradient.baseAddress!
        let planes = batch * c
        dx.initialize(repeating: 0, count: planes * h * w)
        let scale = 1 / Float(size * size)
        let (kind, size, stride, h, w, oh, ow) = (self.kind, self.size, self.stride, self.h, self.w, self.oh, self.ow)
        winners.withUnsafeBufferPointer { win in
            if kind == .max {
                // Scatter each output gradient onto its window's winner.
                let per = oh * ow
                for pl in 0..<planes {
                    let dst = dx + pl * h * w, g = dy + pl * per, wp = win.baseAddress! + pl * per
                    for i in 0..<per { dst[Int(wp[i])] += g[i] }
                }
                return
            }
            for pl in 0..<planes {
                let dst = dx + pl * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = (pl * oh + oy) * ow + ox
                        if kind == .max {
                            dst[Int(win[o])] += dy[o]
                        } else {
                            let base = oy * stride * w + ox * stride, g = dy[o] * scale
                            for ky in 0..<size { for kx in 0..<size { dst[base + ky * w + kx] += g } }
                        }
                    }
                }
            }
        }
    }
}

import CBlas

/// A 2-D convolution over `[C, H, W]` samples with weight `[out, C, kh, kw]` (PyTorch's layout),
/// square kernel, stride and zero padding.
///
/// The whole batch is unrolled once (im2col into `[C·kh·kw, batch·OH·OW]`). Output planes of at
/// least `perSamplePlane` positions then run one sgemm per sample reading and writing the
/// `[batch, out, OH, OW]` layout directly (no scatter of Y, no gather of dY, bias folded in as
/// the product's initial value); smaller planes run one batch-wide sgemm and scatter/gather.
public struct Conv2D: Layer {
    /// Output channels.
    public let outChannels: Int
    /// Kernel height and width.
    public let kernel: Int
    /// Step between neighbouring windows.
    public let stride: Int
    /// Zeros added on each border.
    public let padding: Int
    private var c = 0, h = 0, w = 0, oh = 0, ow = 0
    private var columns: [Float] = []       // [C·k·k, batch·OH·OW]
    private var gathered: [Float] = []      // [out, batch·OH·OW]

    /// A convolution with `outChannels` filters of `kernel`×`kernel`.
    public init(outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var description: String { "conv2d(\(outChannels), k\(kernel), s\(stride), p\(padding))" }

    public mutating func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError("\(description) needs input [channels, height, width], got \(inputShape)")
        }
        guard outChannels > 0, kernel > 0, stride > 0, padding >= 0 else {
            throw EngineError("\(description): channels, kernel and stride must be positive, padding non-negative")
        }
        (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        oh = (h + 2 * padding - kernel) / stride + 1
        ow = (w + 2 * padding - kernel) / stride + 1
        guard h + 2 * padding >= kernel, w + 2 * padding >= kernel else {
            throw EngineError("\(description): kernel larger than padded input \(inputShape)")
        }
        return [outChannels, oh, ow]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outChannels, c, kernel, kernel]), ("bias", [outChannels])]
    }

    public func initialize(_ parameters: UnsafeMutableBufferPointer<Float>, rng: inout RandomGenerator) {
        initializeUniform(parameters, fanIn: c * kernel * kernel, rng: &rng)
    }

    private var patch: Int { c * kernel * kernel }
    private var plane: Int { oh * ow }

    /// Unrolls input windows: row r = (ch, ky, kx), column = (sample, oy, ox).
    private func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, batch: Int) {
        let cols = batch * plane
        for ch in 0..<c {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((ch * kernel + ky) * kernel + kx) * cols
                    // Output columns whose input x-coordinate falls inside the image.
                    let lo = max(0, (padding - kx + stride - 1) / stride)
                    let hi = min(ow, (w + padding - kx + stride - 1) / stride)
                    for b in 0..<batch {
                        let src = x + (b * c + ch) * h * w
                        for oy in 0..<oh {
                            let dst = row + b * plane + oy * ow
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= h || lo >= hi {
                                dst.initialize(repeating: 0, count: ow)
                                continue
                            }
                            if lo > 0 { dst.initialize(repeating: 0, count: lo) }
                            let line = src + iy * w - padding + kx
                            if stride == 1 {
                                (dst + lo).update(from: line + lo, count: hi - lo)
                            } else {
                                for ox in lo..<hi { dst[ox] = line[ox * stride] }
                            }
                            if hi < ow { (dst + hi).initialize(repeating: 0, count: ow - hi) }
                        }
                    }
                }
            }
        }
    }

    /// Adds unrolled gradients back onto the input positions they came from.
    private func col2im(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, batch: Int) {
        dx.initialize(repeating: 0, count: batch * c * h * w)
        let cols = batch * plane
        for ch in 0..<c {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = col + ((ch * kernel + ky) * kernel + kx) * cols
                    let lo = max(0, (padding - kx + stride - 1) / stride)
                    let hi = min(ow, (w + padding - kx + stride - 1) / stride)
                    guard lo < hi else { continue }
                    for b in 0..<batch {
                        let dst = dx + (b * c + ch) * h * w
                        for oy in 0..<oh {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= h { continue }
                            let src = row + b * plane + oy * ow
                            let line = dst + iy * w - padding + kx
                            if stride == 1 {
                                addRow(line + lo, src + lo, hi - lo)
                            } else {
                                for ox in lo..<hi { line[ox * stride] += src[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Planes at least this large run one sgemm per sample straight into / out of the
    /// `[batch, out, plane]` layout; smaller ones batch every sample into one sgemm and pay a
    /// scatter (forward) and a gather (backward) instead.
    static let perSamplePlane = 128
    private var perSample: Bool { plane >= Conv2D.perSamplePlane }

    private mutating func reserve(batch: Int) {
        if columns.count < patch * batch * plane { columns = [Float](repeating: 0, count: patch * batch * plane) }
        let g = perSample ? 0 : outChannels * batch * plane
        if gathered.count < g { gathered = [Float](repeating: 0, count: g) }
    }

    public mutating func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                 parameters: UnsafeBufferPointer<Float>, batch: Int, mode: Mode,
                                 rng: inout RandomGenerator) {
        reserve(batch: batch)
        let (o, p, cols, pl) = (outChannels, patch, batch * plane, plane)
        let wgt = parameters.baseAddress!, bias = wgt + o * p
        let y = output.baseAddress!
        let perSample = self.perSample
        var columns = self.columns, gathered = self.gathered
        self.columns = []; self.gathered = []
        defer { self.columns = columns; self.gathered = gathered }
        columns.withUnsafeMutableBufferPointer { col in
            gathered.withUnsafeMutableBufferPointer { g in
                im2col(input.baseAddress!, col.baseAddress!, batch: batch)
                if perSample {
                    // Y_b[out, plane] = bias + W[out, patch] · col[:, b·plane ..< (b+1)·plane]
                    for b in 0..<batch {
                        let yb = y + b * o * pl
                        for oc in 0..<o { (yb + oc * pl).update(repeating: bias[oc], count: pl) }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(pl), Int32(p),
                                    1, wgt, Int32(p), col.baseAddress! + b * pl, Int32(cols), 1, yb, Int32(pl))
                    }
                    return
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(cols), Int32(p),
                            1, wgt, Int32(p), col.baseAddress, Int32(cols), 0, g.baseAddress, Int32(cols))
                // Scatter [out, batch, plane] -> [batch, out, plane], adding the bias.
                for oc in 0..<o {
                    let bv = bias[oc]
                    for b in 0..<batch {
                        let src = g.baseAddress! + oc * cols + b * pl
                        let dst = y + (b * o + oc) * pl
                        for i in 0..<pl { dst[i] = src[i] + bv }
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
        let (o, p, cols, pl) = (outChannels, patch, batch * plane, plane)
        let dw = parameterGradients.baseAddress!, db = dw + o * p
        let dy = outputGradient.baseAddress!
        let perSample = self.perSample
        var columns = self.columns, gathered = self.gathered
        self.columns = []; self.gathered = []
        defer { self.columns = columns; self.gathered = gathered }
        columns.withUnsafeMutableBufferPointer { col in
            gathered.withUnsafeMutableBufferPointer { g in
                if perSample {
                    for oc in 0..<o {
                        var sum: Float = 0
                        for b in 0..<batch { sum += rowSum(dy + (b * o + oc) * pl, pl) }
                        db[oc] = sum
                    }
                    for b in 0..<batch {
                        let dyb = dy + b * o * pl, colb = col.baseAddress! + b * pl
                        // dW[out, patch] += dY_b[out, plane] · col_bᵀ[plane, patch]
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(o), Int32(p), Int32(pl),
                                    1, dyb, Int32(pl), colb, Int32(cols), b == 0 ? 0 : 1, dw, Int32(p))
                        // dcol_b[patch, plane] = Wᵀ[patch, out] · dY_b[out, plane], over col_b (now used).
                        if inputGradient != nil {
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(pl), Int32(o),
                                        1, parameters.baseAddress, Int32(p), dyb, Int32(pl), 0, colb, Int32(cols))
                        }
                    }
                    if let dx = inputGradient { col2im(col.baseAddress!, dx.baseAddress!, batch: batch) }
                    return
                }
                // Gather dY [batch, out, plane] -> [out, batch·plane]; bias gradient on the way.
                for oc in 0..<o {
                    var sum: Float = 0
                    for b in 0..<batch {
                        let src = dy + (b * o + oc) * pl
                        let dst = g.baseAddress! + oc * cols + b * pl
                        for i in 0..<pl { dst[i] = src[i]; sum += src[i] }
                    }
                    db[oc] = sum
                }
                // dW[out, patch] = dY[out, cols] · colᵀ[cols, patch]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(o), Int32(p), Int32(cols),
                            1, g.baseAddress, Int32(cols), col.baseAddress, Int32(cols), 0, dw, Int32(p))
                if let dx = inputGradient {
                    // dcol[patch, cols] = Wᵀ[patch, out] · dY[out, cols]; reuses the column buffer.
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(cols), Int32(o),
                                1, parameters.baseAddress, Int32(p), g.baseAddress, Int32(cols), 0,
                                col.baseAddress, Int32(cols))
                    col2im(col.baseAddress!, dx.baseAddress!, batch: batch)
                }
            }
        }
    }
}

/// Sum of `count` floats (eight partial sums, then the tail).
@inline(__always)
func rowSum(_ src: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0), i = 0
    let s = UnsafeRawPointer(src)
    while i + 8 <= count { acc += s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    var sum = acc.sum()
    while i < count { sum += src[i]; i += 1 }
    return sum
}

/// `dst[i] += src[i]` for `count` elements, eight at a time.
@inline(__always)
func addRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    while i + 8 <= count {
        let v = d.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        d.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { dst[i] += src[i]; i += 1 }
}

import XCTest
@testable import GTLEngine

/// Finite-difference checks: every layer's and loss's analytic gradient must match a central
/// difference of the loss. A layer's input gradient is checked through the parameter gradient of
/// a dense or conv layer placed before it.
final class GradientCheckTests: XCTestCase {
    private func randomInput(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in rng.nextGaussian() }
    }

    /// Compares analytic and numeric gradients for (up to) `samples` parameters per tensor.
    private func check(_ layers: [any Layer], inputShape: [Int], batch: Int = 3, loss: any Loss = SoftmaxCrossEntropy(),
                       valueTargets: Bool = false, eps: Float = 1e-2, file: StaticString = #filePath, line: UInt = #line) throws {
        var net = try Network(inputShape: inputShape, layers: layers, seed: 7)
        let x = randomInput(batch * net.inputWidth, seed: 11)
        let labels = (0..<batch).map { Int32($0 % net.outputWidth) }
        let values = randomInput(batch * net.outputWidth, seed: 13)
        let rngState = net.rng
        func evaluate(_ n: inout Network) -> Float {
            n.rng = rngState   // identical dropout masks on every evaluation
            return x.withUnsafeBufferPointer { xb in
                if valueTargets {
                    return values.withUnsafeBufferPointer { n.computeGradients(xb, targets: .values($0), batch: batch, loss: loss) }
                }
                return labels.withUnsafeBufferPointer { n.computeGradients(xb, targets: .classes($0), batch: batch, loss: loss) }
            }
        }
        try assertGradientsMatchFiniteDifferences(&net, eps: eps, evaluate: evaluate, file: file, line: line)
    }

    func testDenseWithEachActivationAndCrossEntropy() throws {
        for act in [Activation.Kind.tanh, .sigmoid, .relu] {
            try check([Dense(outputs: 7), Activation(act), Dense(outputs: 4)], inputShape: [5])
        }
    }

    func testMeanSquaredError() throws {
        try check([Dense(outputs: 6), Activation(.tanh), Dense(outputs: 3)], inputShape: [4],
                  loss: MeanSquaredError(), valueTargets: true)
    }

    func testDropoutPassesGradientThroughItsMask() throws {
        try check([Dense(outputs: 8), Dropout(rate: 0.3), Activation(.tanh), Dense(outputs: 3)], inputShape: [5])
    }

    func testConvolutionWithPaddingAndStride() throws {
        try check([Conv2D(outChannels: 3, kernel: 3, stride: 1, padding: 1), Activation(.tanh),
                   Conv2D(outChannels: 2, kernel: 3, stride: 2, padding: 1), Flatten(), Dense(outputs: 3)],
                  inputShape: [2, 7, 6])
    }

    func testMaxAndAveragePooling() throws {
        // A smaller step keeps the perturbation from changing which element wins a window.
        try check([Conv2D(outChannels: 2, kernel: 3, padding: 1), Pool2D(.max, size: 2), Activation(.tanh),
                   Flatten(), Dense(outputs: 3)], inputShape: [1, 6, 6], eps: 2e-3)
        try check([Conv2D(outChannels: 2, kernel: 2), Pool2D(.average, size: 2, stride: 1), Flatten(), Dense(outputs: 3)],
                  inputShape: [2, 5, 5])
    }

    func testConvolutionMatchesDirectComputation() throws {
        // One 2x3x3 kernel on a 2x4x4 input with padding 1, stride 2, against the textbook sum.
        var net = try Network(inputShape: [2, 4, 4], layers: [Conv2D(outChannels: 1, kernel: 3, stride: 2, padding: 1)], seed: 3)
        let x = randomInput(32, seed: 5)
        let y = net.predict(x, batch: 1)
        let w = net.parameters, bias = w[18]
        XCTAssertEqual(y.count, 4)
        for oy in 0..<2 { for ox in 0..<2 {
            var s = bias
            for c in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                if iy >= 0, iy < 4, ix >= 0, ix < 4 { s += w[(c * 3 + ky) * 3 + kx] * x[(c * 4 + iy) * 4 + ix] }
            } } }
            XCTAssertEqual(y[oy * 2 + ox], s, accuracy: 1e-5)
        } }
    }
}

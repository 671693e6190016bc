import XCTest
@testable import GTLEngine

/// Guide values scale the update the optimiser takes: 0 freezes a parameter and 0.1 slows it
/// about tenfold, under SGD, momentum and Adam alike.
final class OptimizerTests: XCTestCase {
    private func batch() -> (x: [Float], y: [Int32]) {
        var rng = RandomGenerator(seed: 99)
        return ((0..<(16 * 6)).map { _ in rng.nextGaussian() }, (0..<16).map { Int32($0 % 3) })
    }

    /// Trains a network `steps` steps with the given guide and returns the displacement.
    private func displacement(_ make: () -> any Optimizer, guide: [Float]?, steps: Int) throws -> [Float] {
        var net = try Network(inputShape: [6], layers: [Dense(outputs: 5), Activation(.tanh), Dense(outputs: 3)], seed: 1)
        let start = net.parameters
        var opt = make()
        let (x, y) = batch()
        for _ in 0..<steps {
            x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer {
                _ = net.computeGradients(xb, targets: .classes($0), batch: 16, loss: SoftmaxCrossEntropy())
            } }
            opt.step(&net, multipliers: guide)
        }
        return zip(net.parameters, start).map { $0 - $1 }
    }

    private func norm(_ v: ArraySlice<Float>) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    private func assertGuideHonoured(_ make: () -> any Optimizer, name: String) throws {
        let count = 6 * 5 + 5 + 5 * 3 + 3
        // First layer's weights frozen (0), its bias slowed (0.1), the rest free (1).
        var guide = [Float](repeating: 1, count: count)
        for i in 0..<30 { guide[i] = 0 }
        for i in 30..<35 { guide[i] = 0.1 }
        let free = try displacement(make, guide: nil, steps: 1)
        let guided = try displacement(make, guide: guide, steps: 1)
        XCTAssertTrue(guided[0..<30].allSatisfy { $0 == 0 }, "\(name): guide 0 must freeze")
        XCTAssertGreaterThan(norm(free[0..<30]), 0, "\(name): unguided weights must move")
        let ratio = norm(guided[30..<35]) / norm(free[30..<35])
        XCTAssertEqual(ratio, 0.1, accuracy: 0.002, "\(name): guide 0.1 must shrink the first step tenfold")
        // Over several steps the trajectories drift apart a little, but the factor stays.
        let free5 = try displacement(make, guide: nil, steps: 5)
        let guided5 = try displacement(make, guide: guide, steps: 5)
        XCTAssertTrue(guided5[0..<30].allSatisfy { $0 == 0 }, "\(name): frozen over many steps")
        let ratio5 = norm(guided5[30..<35]) / norm(free5[30..<35])
        XCTAssertEqual(ratio5, 0.1, accuracy: 0.03, "\(name): about tenfold slower over 5 steps")
    }

    func testSGDHonoursGuideValues() throws {
        try assertGuideHonoured({ SGD(learningRate: 0.05) }, name: "SGD")
    }

    func testMomentumHonoursGuideValues() throws {
        try assertGuideHonoured({ Momentum(learningRate: 0.05, momentum: 0.9) }, name: "momentum")
    }

    /// The reference implementation multiplies Adam's *gradient* by the guide, which Adam's
    /// normalisation undoes: a 0.1 guide would then move the parameter as far as a 1.
    func testAdamHonoursGuideValuesOnTheUpdateNotTheGradient() throws {
        try assertGuideHonoured({ Adam(learningRate: 0.01) }, name: "Adam")
    }

    func testSGDStepIsExactlyLearningRateTimesGradient() throws {
        var p: [Float] = [1, 2, 3]
        let g: [Float] = [0.5, -1, 2], m: [Float] = [1, 0.5, 0]
        var sgd = SGD(learningRate: 0.1)
        p.withUnsafeMutableBufferPointer { pb in g.withUnsafeBufferPointer { gb in m.withUnsafeBufferPointer {
            sgd.step(parameters: pb, gradients: gb, multipliers: $0)
        } } }
        XCTAssertEqual(p, [1 - 0.05, 2 + 0.05, 3])
    }

    /// Adam's eight-lane loop does the textbook per-parameter operations in the textbook order,
    /// so it is bit-identical to them at every length (vector part and tail), with and without
    /// guide values, over many steps.
    func testAdamIsBitIdenticalToTheScalarFormula() {
        var rng = RandomGenerator(seed: 7)
        for n in [1, 7, 8, 29, 1000] {
            for guided in [false, true] {
                let guide: [Float]? = guided ? (0..<n).map { _ in abs(rng.nextGaussian()) } : nil
                var p = (0..<n).map { _ in rng.nextGaussian() }
                var expected = p, m = [Float](repeating: 0, count: n), v = m
                var adam = Adam(learningRate: 0.01)
                for t in 1...20 {
                    let g = (0..<n).map { _ in rng.nextGaussian() * (t % 3 == 0 ? 1e-4 : 1) }
                    p.withUnsafeMutableBufferPointer { pb in g.withUnsafeBufferPointer { gb in
                        if let guide { guide.withUnsafeBufferPointer { adam.step(parameters: pb, gradients: gb, multipliers: $0) } }
                        else { adam.step(parameters: pb, gradients: gb, multipliers: nil) }
                    } }
                    let c1 = 1 - powf(0.9, Float(t)), c2 = 1 - powf(0.999, Float(t))
                    for i in 0..<n {
                        m[i] = 0.9 * m[i] + (1 - 0.9) * g[i]
                        v[i] = 0.999 * v[i] + (1 - 0.999) * g[i] * g[i]
                        let update = (0.01 / c1) * m[i] / (v[i].squareRoot() / c2.squareRoot() + 1e-8)
                        expected[i] -= (guide?[i] ?? 1) * update
                    }
                }
                XCTAssertEqual(p.map(\.bitPattern), expected.map(\.bitPattern), "n \(n), guided \(guided)")
            }
        }
    }
}

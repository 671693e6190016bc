import Foundation
import XCTest
@testable import GTLEngine

/// Training is reproducible, learns, and never touches the model it started from.
final class TrainingTests: XCTestCase {
    /// Two Gaussian blobs per class in 8 dimensions: separable, so a small MLP must fit it.
    private func blobs(_ n: Int, seed: UInt64) -> (x: [Float], y: [Int32]) {
        var rng = RandomGenerator(seed: seed)
        var x: [Float] = [], y: [Int32] = []
        for i in 0..<n {
            let c = i % 3
            for d in 0..<8 { x.append(rng.nextGaussian() * 0.5 + (d % 3 == c ? 2 : 0)) }
            y.append(Int32(c))
        }
        return (x, y)
    }

    private func train(_ net: inout Network, steps: Int, seed: UInt64 = 5) -> Float {
        let (x, y) = blobs(32, seed: seed)
        var opt = Adam(learningRate: 0.02)
        var last: Float = 0
        for _ in 0..<steps {
            last = x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer {
                net.computeGradients(xb, targets: .classes($0), batch: 32, loss: SoftmaxCrossEntropy())
            } }
            opt.step(&net)
        }
        return last
    }

    private let spec = try! NetworkSpec.parse("8: dense(16) relu dropout(0.1) dense(3)")

    func testSameSeedGivesBitIdenticalTraining() throws {
        var a = try spec.makeNetwork(seed: 42), b = try spec.makeNetwork(seed: 42)
        XCTAssertEqual(a.parameters, b.parameters)
        _ = train(&a, steps: 30); _ = train(&b, steps: 30)
        XCTAssertEqual(a.parameters, b.parameters)
        let c = try spec.makeNetwork(seed: 43)
        XCTAssertNotEqual(a.parameters, c.parameters)
    }

    func testSmallNetworkLearnsSeparableData() throws {
        var net = try spec.makeNetwork(seed: 1)
        let loss = train(&net, steps: 150)
        XCTAssertLessThan(loss, 0.1)
        let (x, y) = blobs(60, seed: 77)
        let out = net.predict(x, batch: 60)
        let correct = (0..<60).filter { i in
            let row = out[(i * 3)..<(i * 3 + 3)]
            return row.firstIndex(of: row.max()!)! - i * 3 == Int(y[i])
        }.count
        XCTAssertGreaterThanOrEqual(correct, 57)
    }

    /// GTL's first pitfall: the base must be an immutable copy, never a view of the live model.
    func testTrainingACopyNeverMutatesTheBase() throws {
        let base = try spec.makeNetwork(seed: 9)
        let snapshot = base.parameters
        var scout = base
        _ = train(&scout, steps: 20)
        XCTAssertNotEqual(scout.parameters, snapshot)
        XCTAssertEqual(base.parameters, snapshot)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("base-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try base.save(to: url, spec: spec)
        var loaded = try Network.load(from: url).network
        XCTAssertEqual(loaded.parameters, snapshot)
        _ = train(&loaded, steps: 5)
        XCTAssertEqual(try Network.load(from: url).network.parameters, snapshot)
    }

    func testRandomGeneratorIsSeededAndUniform() {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1), c = RandomGenerator(seed: 2)
        let sa = (0..<100).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.next() })
        var r = RandomGenerator(seed: 3)
        let u = (0..<100_000).map { _ in r.nextUniform() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / 100_000, 0.5, accuracy: 0.01)
        let ints = (0..<10_000).map { _ in r.nextInt(below: 7) }
        XCTAssertEqual(Set(ints), Set(0..<7))
        XCTAssertNotEqual(RandomGenerator.derive(5, 1), RandomGenerator.derive(5, 2))
        XCTAssertEqual(RandomGenerator.derive(5, 1, 2), RandomGenerator.derive(5, 1, 2))
    }

    func testArchitectureTextRoundTripsAndRejectsNonsense() throws {
        let s = try NetworkSpec.parse("1x8x8: conv2d(8,3,1,1) relu maxpool(2,2) flatten dense(10)")
        XCTAssertEqual(try NetworkSpec.parse(s.description), s)
        let net = try s.makeNetwork(seed: 0)
        XCTAssertEqual(net.layout.specs.map(\.name), ["0.weight", "0.bias", "4.weight", "4.bias"])
        XCTAssertEqual(net.layout.specs[0].shape, [8, 1, 3, 3])
        XCTAssertEqual(net.layout.specs[2].shape, [10, 128])
        XCTAssertThrowsError(try NetworkSpec.parse("64: dense(10) wobble")) { XCTAssert("\($0)".contains("wobble")) }
        XCTAssertThrowsError(try NetworkSpec.parse("dense(10)"))
        XCTAssertThrowsError(try NetworkSpec.parse("1x8x8: dense(10)").makeNetwork(seed: 0)) {
            XCTAssert("\($0)".contains("flatten"))
        }
    }
}

import XCTest
import GTL
import GTLEngine

/// The reducer is exact and order-independent, ignores duplicates, and implements the
/// normalisations and adjustments of the paper and the authors' library.
final class ReducerTests: XCTestCase {
    private let layout = ParameterLayout([("0.weight", [2, 3]), ("0.bias", [2])])

    private func randomValues(_ seed: UInt64, _ n: Int = 8) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        // Values over many orders of magnitude, where float summation order matters.
        return (0..<n).map { _ in rng.nextUniform() * powf(10, Float(rng.nextInt(below: 16)) - 10) }
    }

    func testResultIsBitIdenticalWhateverTheArrivalOrder() throws {
        let results = (0..<40).map { fakeResult($0, randomValues(UInt64($0))) }
        var reference = GuideReducer(layout: layout, statistic: .squared)
        for r in results { try reference.add(r) }
        let expected = try reference.means()
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<20 {
            var order = results
            rng.shuffle(&order)
            var r = GuideReducer(layout: layout, statistic: .squared)
            for x in order { try r.add(x) }
            XCTAssertEqual(try r.means().map(\.bitPattern), expected.map(\.bitPattern))
            XCTAssertEqual(try r.guide(GuideOptions()).map(\.bitPattern), try reference.guide(GuideOptions()).map(\.bitPattern))
        }
        // And it is the mean (to double precision).
        for i in 0..<8 {
            let mean = results.reduce(0.0) { $0 + Double($1.statistics[.squared]![i]) } / 40
            XCTAssertEqual(expected[i], mean, accuracy: mean * 1e-12 + 1e-24)
        }
    }

    func testPlainFloatSummationWouldHaveDependedOnOrder() {
        // Guards the premise of the exact reducer: naive sums differ by order for such values.
        let values = (0..<40).map { randomValues(UInt64($0))[0] }
        var rng = RandomGenerator(seed: 1)
        var sums = Set<UInt32>()
        for _ in 0..<20 { var v = values; rng.shuffle(&v); sums.insert(v.reduce(0, +).bitPattern) }
        XCTAssertGreaterThan(sums.count, 1)
    }

    func testDuplicatesAreHarmlessAndBadResultsRejected() throws {
        var r = GuideReducer(layout: layout, statistic: .squared)
        XCTAssertTrue(try r.add(fakeResult(0, [1, 2, 3, 4, 5, 6, 7, 8])))
        XCTAssertFalse(try r.add(fakeResult(0, [100, 100, 100, 100, 100, 100, 100, 100])))
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(try r.means(), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertThrowsError(try r.add(fakeResult(1, [1, 2, 3]))) { XCTAssert("\($0)".contains("scout 1")) }
        XCTAssertThrowsError(try r.add(fakeResult(2, [1, 2, 3, 4, 5, 6, 7, 8], statistic: .path))) { XCTAssert("\($0)".contains("squared")) }
        XCTAssertThrowsError(try r.add(fakeResult(3, [1, 2, 3, 4, 5, 6, -7, 8])))
        XCTAssertThrowsError(try r.add(fakeResult(4, [1, 2, 3, 4, 5, 6, .nan, 8])))
        XCTAssertEqual(r.count, 1, "rejected results change nothing")
        XCTAssertThrowsError(try GuideReducer(layout: layout, statistic: .squared).means())
    }

    func testPerTensorAndWholeModelNormalisation() {
        let means: [Double] = [1, 2, 3, 4, 5, 9, 10, 30]
        var o = GuideOptions()
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o), [0, 0.125, 0.25, 0.375, 0.5, 1, 0, 1])
        o.scope = .model
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o).map { ($0 * 29).rounded() }, [0, 1, 2, 3, 4, 8, 9, 29])
        o.focus = .raw
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o), means.map(Float.init))
        o.focus = .max
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o)[7], 1)
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o)[0], Float(1.0 / 30))
        o.focus = .shift
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o)[0], 0)
        XCTAssertEqual(GuideValues.make(means: means, layout: layout, options: o)[7], 29)
    }

    func testFreezingAffineScalingSparsifyingAndMeanOne() {
        let big = ParameterLayout([("w", [200])])
        let means = (0..<200).map { Double($0) }
        var o = GuideOptions()
        o.temperature = .freeze(fraction: 0.01)
        let frozen = GuideValues.make(means: means, layout: big, options: o)
        XCTAssertEqual(frozen.filter { $0 == 1 }.count, 2, "top 1 % of 200 values")
        XCTAssertEqual(frozen[199], 1); XCTAssertEqual(frozen[198], 1); XCTAssertEqual(frozen[197], 0)
        o.temperature = .affine(slope: 2, intercept: 1)
        let affine = GuideValues.make(means: means, layout: big, options: o)
        XCTAssertEqual(affine[0], 0, "clipped at 0")
        XCTAssertEqual(affine[199], 1)
        o.temperature = .none
        o.scale = 2
        o.sparsifyBelow = 1
        let scaled = GuideValues.make(means: means, layout: big, options: o)
        XCTAssertEqual(scaled[199], 2)
        XCTAssertEqual(scaled.filter { $0 == 0 }.count, 100, "values below 1 after scaling become 0")
        o = GuideOptions()
        o.rescaleToMeanOne = true
        let m1 = GuideValues.make(means: means, layout: big, options: o)
        XCTAssertEqual(m1.reduce(0, +) / 200, 1, accuracy: 1e-5)
    }

    func testConstantTensorNormalisesToZeroNotNaN() {
        let g = GuideValues.make(means: [3, 3, 3, 3, 3, 3, 1, 2], layout: layout, options: GuideOptions())
        XCTAssertEqual(Array(g[0..<6]), [0, 0, 0, 0, 0, 0])
        XCTAssertFalse(g.contains { $0.isNaN })
    }

    func testExactSumSaturatesInsteadOfOverflowing() throws {
        var s = ExactSum(count: 1)
        for _ in 0..<10 { try s.add([1e20]) }
        XCTAssertEqual(s.saturated, 10)
        XCTAssertEqual(s.means(dividingBy: 10)[0], 0x1p32)
        var tiny = ExactSum(count: 1)
        try tiny.add([1e-30])
        XCTAssertEqual(tiny.means(dividingBy: 1)[0], 0, "below the 2^-80 resolution")
        var sub = ExactSum(count: 1)
        try sub.add([Float.leastNonzeroMagnitude])
        XCTAssertEqual(sub.means(dividingBy: 1)[0], 0)
    }
}

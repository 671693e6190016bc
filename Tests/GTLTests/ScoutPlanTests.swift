import XCTest
import GTL
import GTLEngine

/// A scout is fully reproducible from (plan, index): same classes, samples and seed.
final class ScoutPlanTests: XCTestCase {
    private let data = try! EmbeddedData.digits()
    private var pool: [Int: [Int]] { Dictionary(uniqueKeysWithValues: (0..<5).map { ($0, data.indices(ofClasses: [$0])) }) }

    func testSubproblemIsAPureFunctionOfPlanAndIndex() {
        let plan = ScoutPlan(classes: [0, 1, 2, 3, 4], classesPerScout: 3, samplesPerClass: 20, bootstrap: false, seed: 9)
        let again = ScoutPlan(classes: [0, 1, 2, 3, 4], classesPerScout: 3, samplesPerClass: 20, bootstrap: false, seed: 9)
        for i in 0..<20 { XCTAssertEqual(plan.subproblem(i, pool: pool), again.subproblem(i, pool: pool)) }
        XCTAssertNotEqual(plan.subproblem(0, pool: pool).seed, plan.subproblem(1, pool: pool).seed)
        let other = ScoutPlan(classes: [0, 1, 2, 3, 4], classesPerScout: 3, samplesPerClass: 20, bootstrap: false, seed: 10)
        XCTAssertNotEqual((0..<10).map { plan.subproblem($0, pool: pool) }, (0..<10).map { other.subproblem($0, pool: pool) })
    }

    func testSubproblemsDrawKClassesAndRespectTheSampleLimit() {
        let plan = ScoutPlan(classes: [0, 1, 2, 3, 4], classesPerScout: 3, samplesPerClass: 20, bootstrap: false, seed: 1)
        var classSets = Set<[Int]>()
        for i in 0..<50 {
            let s = plan.subproblem(i, pool: pool)
            XCTAssertEqual(Set(s.classes).count, 3)
            XCTAssertTrue(Set(s.classes).isSubset(of: [0, 1, 2, 3, 4]))
            XCTAssertEqual(s.samples.count, 60)
            XCTAssertEqual(Set(s.samples).count, 60, "without bootstrap no sample repeats")
            XCTAssertTrue(s.samples.allSatisfy { s.classes.contains(Int(data.labels[$0])) })
            XCTAssertEqual(Set(s.mapping.values), [0, 1, 2])
            classSets.insert(s.classes.sorted())
        }
        XCTAssertGreaterThan(classSets.count, 5, "scouts cover different class subsets")
    }

    func testBootstrapResamplesWithReplacement() {
        let plan = ScoutPlan(classes: [0, 1], classesPerScout: 2, samplesPerClass: 100, bootstrap: true, seed: 1)
        let s = plan.subproblem(0, pool: pool)
        XCTAssertEqual(s.samples.count, 200)
        XCTAssertLessThan(Set(s.samples).count, 200)
    }

    func testInvalidPlansAreRejected() {
        XCTAssertThrowsError(try ScoutPlan(classes: [0, 1], classesPerScout: 3, samplesPerClass: nil, bootstrap: false, seed: 0).validate(pool: pool))
        XCTAssertThrowsError(try ScoutPlan(classes: [0, 7], classesPerScout: 2, samplesPerClass: nil, bootstrap: false, seed: 0).validate(pool: pool)) {
            XCTAssert("\($0)".contains("class 7"))
        }
    }
}

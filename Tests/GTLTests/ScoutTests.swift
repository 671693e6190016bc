import XCTest
import GTL
import GTLEngine

/// Scouts train a copy of the base (never the base itself), stream their statistics, and the
/// whole scouting phase is reproducible bit for bit.
final class ScoutTests: XCTestCase {
    private let pipeline = try! Pipeline(job: tinyJob())

    func testScoutNeverMovesTheBaseAndReportsRealDisplacement() throws {
        let (base, _) = try pipeline.pretrain()
        let before = base.parameters
        let r = try pipeline.scout(0, base: base)
        XCTAssertEqual(base.parameters, before, "the base is an immutable copy")
        // The reference library's aliasing bug makes every displacement 0; ours must not.
        let squared = r.statistics[.squared]!
        XCTAssertGreaterThan(squared.filter { $0 > 0 }.count, squared.count / 2)
        XCTAssertEqual(r.steps, 20)
    }

    func testStatisticsAreConsistentWithEachOther() throws {
        let (base, _) = try pipeline.pretrain()
        let r = try pipeline.scout(1, base: base)
        let sq = r.statistics[.squared]!, abs = r.statistics[.absolute]!, path = r.statistics[.path]!, fisher = r.statistics[.fisher]!
        for i in sq.indices {
            XCTAssertEqual(sq[i], abs[i] * abs[i], accuracy: 1e-6 + 1e-4 * sq[i])
            XCTAssertGreaterThanOrEqual(path[i] * (1 + 1e-5) + 1e-7, abs[i], "path length bounds displacement")
            XCTAssertGreaterThanOrEqual(fisher[i], 0)
        }
        XCTAssertGreaterThan(fisher.reduce(0, +), 0)
    }

    func testScoutingIsReproducibleAndIndependentOfBatching() throws {
        let (base, _) = try pipeline.pretrain()
        XCTAssertEqual(try pipeline.pretrain().network.parameters, base.parameters)
        var a = try pipeline.makeReducer(), b = try pipeline.makeReducer()
        _ = try pipeline.runScouts(Array(0..<12), base: base, into: &a)
        _ = try pipeline.runScouts(Array((0..<12).reversed()), base: base, into: &b)
        XCTAssertEqual(try a.guide(GuideOptions()).map(\.bitPattern), try b.guide(GuideOptions()).map(\.bitPattern))
        XCTAssertEqual(try pipeline.scout(5, base: base), try pipeline.scout(5, base: base))
    }

    func testGuidedFineTuningHonoursGuideUnderAdam() throws {
        // Guidance applied to the gradient would leave Adam's steps unchanged; on the update it
        // slows every parameter tenfold.
        let (base, _) = try pipeline.pretrain()
        let data = pipeline.data
        let task = Task(data, indices: Array(data.indices(ofClasses: [5, 6]).prefix(10)), mapping: [5: 0, 6: 1])
        let settings = TrainSettings(steps: 1, batchSize: 10, optimizer: OptimizerSettings(.adam, learningRate: 0.01))
        func moved(_ guide: Float) -> Double {
            var n = base, rng = RandomGenerator(seed: 1)
            Trainer.train(&n, on: task, settings: settings, multipliers: [Float](repeating: guide, count: n.parameterCount), rng: &rng)
            return zip(n.parameters, base.parameters).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        }
        XCTAssertEqual(moved(0.1) / moved(1), 0.1, accuracy: 0.005)
        XCTAssertEqual(moved(0), 0)
    }
}

import XCTest
import GTL

/// `--scouts auto` adds rounds of scouts until the guide stops moving, and says so.
final class ConvergenceTests: XCTestCase {
    func testStopsWhenTheRelativeChangeFallsBelowTheTolerance() {
        var o = AutoScouts(); o.batch = 4; o.tolerance = 0.05; o.maxScouts = 100
        var m = ConvergenceMonitor(options: o)
        XCTAssertEqual(m.observe(guide: [1, 0, 0.5], scouts: 4), .extend(by: 4), "one round says nothing about change")
        XCTAssertEqual(m.observe(guide: [1, 0.5, 0.5], scouts: 8), .extend(by: 4))
        XCTAssertEqual(m.trace[1].relativeChange!, 0.5 / (1.5).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(m.observe(guide: [1, 0.51, 0.5], scouts: 12), .stop(converged: true))
        XCTAssertTrue(m.converged)
        XCTAssertEqual(ConvergenceReport(m).scouts, 12)
    }

    func testStopsAtTheCapWithoutClaimingConvergence() {
        var o = AutoScouts(); o.batch = 4; o.tolerance = 1e-6; o.maxScouts = 8
        var m = ConvergenceMonitor(options: o)
        XCTAssertEqual(m.observe(guide: [1, 0], scouts: 4), .extend(by: 4))
        XCTAssertEqual(m.observe(guide: [0, 1], scouts: 8), .stop(converged: false))
        XCTAssertFalse(ConvergenceReport(m).converged)
    }

    func testSpearmanRankCorrelation() {
        XCTAssertEqual(ConvergenceMonitor.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(ConvergenceMonitor.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(ConvergenceMonitor.spearman([1, 1, 2], [1, 1, 2]), 1, accuracy: 1e-12, "ties get average ranks")
    }

    func testAutomaticScoutingIsDeterministicInProcess() throws {
        var job = tinyJob()
        job.autoScouts = AutoScouts()
        job.autoScouts!.batch = 4
        job.autoScouts!.maxScouts = 12
        job.scouts = 4
        let p = try Pipeline(job: job)
        let (base, _) = try p.pretrain()
        var a = try p.makeReducer(), b = try p.makeReducer()
        let ra = try p.scoutAll(base: base, into: &a), rb = try p.scoutAll(base: base, into: &b)
        XCTAssertEqual(ra, rb)
        XCTAssertEqual(a.count, ra!.scouts)
        XCTAssertEqual(ra!.trace.map(\.scouts).first, 4)
    }
}

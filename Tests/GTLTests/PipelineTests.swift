import Foundation
import XCTest
import GTL
import GTLEngine

/// Jobs are validated before any work, evaluation compares arms on identical episodes, and
/// confidence intervals are what they claim.
final class PipelineTests: XCTestCase {
    func testContradictoryJobsAreRejectedWithTheSettingNamed() throws {
        let data = try EmbeddedData.digits()
        var job = tinyJob()
        job.downstreamClasses = [4, 5, 6, 7, 8]
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssert("\($0)".contains("overlap")) }
        job = tinyJob(); job.layers = "flatten dense(3)"
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssert("\($0)".contains("head")) }
        job = tinyJob(); job.pretrainClasses = [0, 1, 12]
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssert("\($0)".contains("12")) }
    }

    func testScoutsRecordTheGuidesStatisticPlusTheRequestedOnes() throws {
        var job = JobConfig()
        XCTAssertEqual(job.recordedStatistics, [.squared], "by default only what the reducer uses")
        job.guide.statistic = .path
        job.statistics = [.fisher, .path]
        XCTAssertEqual(job.recordedStatistics, [.path, .fisher])
        job = tinyJob(); job.statistics = []; job.guide.statistic = .absolute
        let p = try Pipeline(job: job)
        let (base, _) = try p.pretrain()
        XCTAssertEqual(Set(try p.scout(0, base: base).statistics.keys), [.absolute])
    }

    func testJobRoundTripsThroughJSON() throws {
        var job = tinyJob()
        job.guide.temperature = .affine(slope: 2, intercept: 0.5)
        XCTAssertEqual(try JobConfig.decode(try job.encoded(), source: "job.json"), job)
        XCTAssertThrowsError(try JobConfig.decode(Array("{\"seed\": 1}".utf8), source: "job.json")) {
            XCTAssert("\($0)".contains("job.json"))
        }
    }

    func testEpisodesAreDeterministicAndPoolsDisjoint() throws {
        let data = try EmbeddedData.digits()
        let (val, test) = splitPools(data, classes: [5, 6, 7, 8, 9], firstFraction: 0.4, seed: 1)
        for c in 5...9 {
            XCTAssertTrue(Set(val[c]!).isDisjoint(with: test[c]!))
            XCTAssertEqual(val[c]!.count + test[c]!.count, data.indices(ofClasses: [c]).count)
        }
        let s = try EpisodeSampler(pool: test, ways: 5, shots: 1, queries: 10, seed: 4)
        let a = s.episode(3, data: data), b = s.episode(3, data: data)
        XCTAssertEqual(a.support.features, b.support.features)
        XCTAssertEqual(a.query.labels, b.query.labels)
        XCTAssertEqual(a.support.count, 5)
        XCTAssertEqual(a.query.count, 50)
        XCTAssertNotEqual(s.episode(4, data: data).support.features, a.support.features)
        XCTAssertThrowsError(try EpisodeSampler(pool: test, ways: 5, shots: 200, queries: 10, seed: 4))
    }

    func testConfidenceIntervalIsNormalApproximation() {
        let e = Estimate([0.5, 0.7, 0.6, 0.8, 0.4])
        XCTAssertEqual(e.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(e.sd, 0.158113883, accuracy: 1e-8)
        XCTAssertEqual(e.ci95, 1.96 * 0.158113883 / 5.0.squareRoot(), accuracy: 1e-8)
    }

    func testEvaluationRunsEveryArmOnTheSameEpisodes() throws {
        let job = tinyJob()
        let p = try Pipeline(job: job)
        let (base, _) = try p.pretrain()
        var reducer = try p.makeReducer()
        _ = try p.runScouts(Array(0..<job.scouts), base: base, into: &reducer)
        let guide = try reducer.guide(job.guide)
        let eval = Evaluator(job: job, data: p.data, spec: p.spec, base: base, guide: guide)
        let results = try eval.evaluate(shots: 1)
        XCTAssertEqual(results.map(\.arm), [.scratch, .finetune, .gtl, .gtlMeanOne, .lastLayer])
        for r in results {
            XCTAssertEqual(r.test.n, job.evaluation.testEpisodes)
            XCTAssertTrue(job.evaluation.learningRates.contains(r.learningRate))
            XCTAssertTrue(job.evaluation.stepCounts.contains(r.steps))
            let rates = job.evaluation.learningRates
            XCTAssertEqual(r.atGridEdge, r.steps == job.evaluation.stepCounts.max()! || r.learningRate == rates.min()! || r.learningRate == rates.max()!)
            XCTAssertTrue((0...1).contains(r.test.mean))
            if r.arm == .finetune { XCTAssertNil(r.differenceToFinetune) } else { XCTAssertNotNil(r.differenceToFinetune) }
        }
        // A guide of all ones is plain fine-tuning: identical per-episode accuracies.
        let ones = Evaluator(job: job, data: p.data, spec: p.spec, base: base, guide: [Float](repeating: 1, count: base.parameterCount))
        let r2 = try ones.evaluate(shots: 1)
        XCTAssertEqual(r2[2].perEpisode, r2[1].perEpisode)
        // The last-layer arm moves only the last layer.
        let m = eval.multipliers(.lastLayer)!
        let last = base.layout.specs.suffix(2)
        XCTAssertEqual(m.filter { $0 == 1 }.count, last.reduce(0) { $0 + $1.count })
    }

    func testGuideFilesRoundTripAndMismatchesAreNamed() throws {
        let job = tinyJob()
        let p = try Pipeline(job: job)
        let net = try p.spec.makeNetwork(seed: 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gtl-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try JobOutputs(directory: dir)
        let guide = (0..<net.parameterCount).map { Float($0 % 7) / 7 }
        try out.writeGuide(guide, means: guide.map(Double.init), meansLayout: net.layout, pipeline: p, scouts: 3)
        XCTAssertEqual(try loadGuide(out.guideURL, for: net), guide)
        let other = try NetworkSpec.parse("1x8x8: flatten dense(10)").makeNetwork(seed: 0)
        XCTAssertThrowsError(try loadGuide(out.guideURL, for: other)) { XCTAssert("\($0)".contains("guide.safetensors")) }
    }
}

import Foundation
import XCTest
import GTLEngine
@testable import GTL

/// Label-free pre-training and scouting on k-means pseudo-labels, scouts' convergence in the
/// report, and evaluating a subset of arms on the same episodes (what the studies build on).
final class ObjectiveAndReportTests: XCTestCase {
    private func kmeansJob(clusters: Int = 4) -> JobConfig {
        var job = tinyJob()
        job.unsupervised = UnsupervisedObjective(clusters: clusters)
        return job
    }

    private func guide(_ pipeline: Pipeline) throws -> (guide: [Float], losses: [Float]) {
        let (base, _) = try pipeline.pretrain()
        var reducer = try pipeline.makeReducer()
        try pipeline.runScouts(Array(0..<pipeline.job.scouts), base: base, into: &reducer)
        return (try reducer.guide(pipeline.job.guide), reducer.scoutLosses)
    }

    func testPreTrainingAndScoutsLearnClustersNotTheTrueLabels() throws {
        let pipeline = try Pipeline(job: kmeansJob())
        XCTAssertEqual(pipeline.trainingClasses, [0, 1, 2, 3])
        XCTAssertEqual(pipeline.training.classCount, 4)
        let pool = pipeline.data.indices(ofClasses: Set(pipeline.job.pretrainClasses)).count
        XCTAssertEqual(pipeline.training.count, pool, "only the pre-training classes' samples are clustered")
        let summary = try XCTUnwrap(pipeline.pseudoLabels)
        XCTAssertEqual(summary.sizes.reduce(0, +), pool)
        XCTAssertTrue(summary.purity > 0.2 && summary.purity <= 1, "purity \(summary.purity)")
        for sub in (0..<pipeline.job.scouts).map({ pipeline.plan.subproblem($0, pool: pipeline.scoutPool) }) {
            XCTAssertTrue(sub.classes.allSatisfy { (0..<4).contains($0) }, "scouts draw clusters")
        }
    }

    func testShufflingTheHiddenLabelsOfThePreTrainingClassesChangesNothing() throws {
        // Swap the true labels 0 <-> 1 and 2 <-> 3 inside the pre-training pool: an unsupervised job
        // must give the bit-identical guide, a supervised one must not.
        let data = try EmbeddedData.digits()
        let swap: [Int32: Int32] = [0: 1, 1: 0, 2: 3, 3: 2]
        let shuffled = try Dataset(name: data.name, featureShape: data.featureShape, features: data.features,
                                   labels: data.labels.map { swap[$0] ?? $0 }, classCount: data.classCount)
        let a = try guide(try Pipeline(job: kmeansJob(), data: data))
        let b = try guide(try Pipeline(job: kmeansJob(), data: shuffled))
        XCTAssertEqual(a.guide.map(\.bitPattern), b.guide.map(\.bitPattern))
        XCTAssertEqual(a.losses, b.losses)
        let s1 = try guide(try Pipeline(job: tinyJob(), data: data))
        let s2 = try guide(try Pipeline(job: tinyJob(), data: shuffled))
        XCTAssertNotEqual(s1.guide, s2.guide, "the supervised job does read the labels")
    }

    func testUnsupervisedSettingsThatCannotWorkAreRejected() throws {
        let data = try EmbeddedData.digits()
        var job = kmeansJob(clusters: 8)
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssertTrue("\($0)".contains("(clusters and ways)"), "\($0)") }
        job = kmeansJob(clusters: 3)
        job.classesPerScout = 4
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssertTrue("\($0)".contains("exceeds the 3 clusters"), "\($0)") }
        job = kmeansJob(clusters: 1)
        XCTAssertThrowsError(try Pipeline(job: job, data: data)) { XCTAssertTrue("\($0)".contains("at least 2"), "\($0)") }
    }

    func testScoutLossIsItsConvergenceOnTheWholeSubproblemInIndexOrder() throws {
        var short = tinyJob(), long = tinyJob()
        short.scout.steps = 2
        long.scout.steps = 200
        let a = try guide(try Pipeline(job: short)).losses, b = try guide(try Pipeline(job: long)).losses
        XCTAssertEqual(a.count, short.scouts)
        let meanA = a.reduce(0, +) / Float(a.count), meanB = b.reduce(0, +) / Float(b.count)
        XCTAssertLessThan(meanB, 0.5 * meanA, "longer scouts converge further (\(meanB) vs \(meanA))")
        // Arrival order does not matter: fold in reverse.
        let p = try Pipeline(job: short)
        let (base, _) = try p.pretrain()
        var reducer = try p.makeReducer()
        for i in (0..<short.scouts).reversed() { try reducer.add(try p.scout(i, base: base)) }
        XCTAssertEqual(reducer.scoutLosses, a)
    }

    func testASubsetOfArmsSeesTheSameEpisodesAsTheFullEvaluation() throws {
        var job = tinyJob()
        let p = try Pipeline(job: job)
        let (base, _) = try p.pretrain()
        let g = try guide(p).guide
        let full = try Evaluator(job: job, data: p.data, spec: p.spec, base: base, guide: g).evaluate(shots: 1)
        job.evaluation.arms = [.gtl]
        let only = try Evaluator(job: job, data: p.data, spec: p.spec, base: base, guide: g).evaluate(shots: 1)
        XCTAssertEqual(only.map(\.arm), [.gtl])
        let reference = try XCTUnwrap(full.first { $0.arm == .gtl })
        XCTAssertEqual(only[0].perEpisode, reference.perEpisode)
        XCTAssertEqual(only[0].learningRate, reference.learningRate)
        XCTAssertNil(only[0].differenceToFinetune, "no fine-tuning arm to pair with")
    }

    func testReportsKeepPerEpisodeAccuraciesAndScoutLosses() throws {
        let r = ArmResult(arm: .gtl, shots: 1, learningRate: 0.1, steps: 10, validationAccuracy: 0.5, perEpisode: [0.25, 0.75, 1])
        let report = RunReport(job: kmeansJob(), architecture: "x", protocolNotes: RunReport.protocolNotes(kmeansJob()),
                               baseTrainAccuracy: 1, scouts: 2, saturatedValues: 0, scoutLoss: [0.5, 0.25],
                               guideSummary: [], results: [r], seconds: [:])
        let decoded = try JSONDecoder().decode(RunReport.self, from: JSONEncoder().encode(report))
        XCTAssertEqual(decoded.results[0].perEpisode, r.perEpisode)
        XCTAssertEqual(decoded.scoutLoss, [0.5, 0.25])
        XCTAssertEqual(decoded.job.unsupervised, UnsupervisedObjective(clusters: 4))
        XCTAssertTrue(report.protocolNotes[0].hasPrefix("Unsupervised:"))
    }
}

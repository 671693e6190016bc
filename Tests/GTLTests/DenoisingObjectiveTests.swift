import Foundation
import XCTest
import GTLEngine
@testable import GTL

/// `--objective denoise`: pre-training and scouts train a denoising autoencoder whose encoder is
/// the classifier's body; downstream arms start from the encoder with a fresh head.
final class DenoisingObjectiveTests: XCTestCase {
    private func denoiseJob(clusters: Int = 4) -> JobConfig {
        var job = tinyJob()
        job.unsupervised = UnsupervisedObjective(method: .denoise, clusters: clusters)
        return job
    }

    func testTheAutoencoderReplacesOnlyTheHeadWithALinearDecoderToTheInput() throws {
        let classifier = try NetworkSpec.parse("1x8x8: flatten dense(16) relu dense(5)")
        let ae = try Autoencoder.spec(classifier: classifier)
        XCTAssertEqual(ae.description, try NetworkSpec.parse("1x8x8: flatten dense(16) relu dense(64)").description)
        let a = try ae.makeNetwork(seed: 1).layout, c = try classifier.makeNetwork(seed: 1).layout
        XCTAssertEqual(a.spec(named: "1.weight"), c.spec(named: "1.weight"), "the encoder keeps its names, shapes and offsets")
        XCTAssertEqual(a.spec(named: "3.weight")?.shape, [64, 16])
        XCTAssertEqual(c.spec(named: "3.weight")?.shape, [5, 16])
    }

    func testModelsWithoutADenseHeadOrWithGraphLayersAreRefused() throws {
        XCTAssertThrowsError(try Autoencoder.spec(classifier: try NetworkSpec.parse("1x8x8: flatten dense(16) relu"))) {
            XCTAssertTrue("\($0)".contains("last layer is the dense head"), "\($0)")
        }
        let graph = NetworkSpec(inputShape: [4, 7], layers: [.graphConv(outputs: 8, activation: .relu), .readout(.sum), .dense(outputs: 2)])
        XCTAssertThrowsError(try Autoencoder.spec(classifier: graph)) { XCTAssertTrue("\($0)".contains("graph layers"), "\($0)") }
    }

    func testTheDownstreamBaseIsTheEncoderWithAFreshHeadAndTheHeadIsUnguided() throws {
        let pipeline = try Pipeline(job: denoiseJob())
        let (ae, _) = try pipeline.pretrain()
        XCTAssertEqual(ae.outputWidth, 64, "pre-training trains the autoencoder")
        let base = try pipeline.downstreamBase(ae)
        let fresh = try pipeline.spec.makeNetwork(seed: RandomGenerator.derive(pipeline.job.seed, 0x4EAD))
        for s in base.layout.specs {
            let got = Array(base.parameters[s.range])
            if s.name.hasPrefix("3.") {
                XCTAssertEqual(got, Array(fresh.parameters[s.range]), "\(s.name): the head is freshly initialised")
            } else {
                XCTAssertEqual(got, Array(ae.parameters[ae.layout.spec(named: s.name)!.range]), "\(s.name): copied from the encoder")
                XCTAssertNotEqual(got, Array(fresh.parameters[s.range]), "\(s.name): pre-training moved it")
            }
        }
        let aeGuide = (0..<ae.parameterCount).map { Float($0 % 7) / 7 }
        let guide = try pipeline.downstreamGuide(aeGuide)
        XCTAssertEqual(guide.count, base.parameterCount)
        for s in base.layout.specs {
            let expected = s.name.hasPrefix("3.") ? [Float](repeating: 1, count: s.count) : Array(aeGuide[ae.layout.spec(named: s.name)!.range])
            XCTAssertEqual(Array(guide[s.range]), expected, s.name)
        }
    }

    func testScoutsReconstructTheirClustersAndArePureFunctionsOfTheirIndex() throws {
        let pipeline = try Pipeline(job: denoiseJob())
        let (ae, _) = try pipeline.pretrain()
        let reconstruction = try XCTUnwrap(pipeline.pretrainReconstructionError(ae))
        XCTAssertNil(pipeline.pretrainAccuracy(ae), "an autoencoder has no classes")
        var untrained = try pipeline.scoutSpec.makeNetwork(seed: 7)
        let pool = ReconstructionTask(reconstructing: pipeline.training.subset(pipeline.training.indices(ofClasses: Set(0..<4))))
        XCTAssertLessThan(reconstruction, ReconstructionTrainer.meanSquaredError(&untrained, on: pool), "pre-training learnt to reconstruct")

        let a = try pipeline.scout(3, base: ae), b = try pipeline.scout(3, base: ae), c = try pipeline.scout(4, base: ae)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.statistics[.squared], c.statistics[.squared])
        XCTAssertEqual(a.statistics[.squared]?.count, ae.parameterCount, "statistics cover the autoencoder, decoder included")
        XCTAssertTrue(a.finalLoss.isFinite && a.finalLoss > 0)
        XCTAssertEqual(try pipeline.makeReducer().layout, ae.layout)
    }

    func testTheTrueLabelsOfThePreTrainingPoolAreNeverRead() throws {
        let data = try EmbeddedData.digits()
        let swap: [Int32: Int32] = [0: 1, 1: 0, 2: 3, 3: 2]
        let shuffled = try Dataset(name: data.name, featureShape: data.featureShape, features: data.features,
                                   labels: data.labels.map { swap[$0] ?? $0 }, classCount: data.classCount)
        func guide(_ p: Pipeline) throws -> [UInt32] {
            let (ae, _) = try p.pretrain()
            var reducer = try p.makeReducer()
            try p.runScouts(Array(0..<p.job.scouts), base: ae, into: &reducer)
            return try p.guide(means: try reducer.means(), layout: reducer.layout).map(\.bitPattern)
        }
        XCTAssertEqual(try guide(try Pipeline(job: denoiseJob(), data: data)), try guide(try Pipeline(job: denoiseJob(), data: shuffled)))
    }

    func testTheHeadNeedsOnlyTheWaysAndCorruptionTextRoundTrips() throws {
        var job = denoiseJob(clusters: 8)   // 8 clusters on a 5-output head: fine, the head is fresh downstream
        XCTAssertNoThrow(try Pipeline(job: job))
        job.evaluation.ways = 6
        job.downstreamClasses = [4, 5, 6, 7, 8, 9]
        job.pretrainClasses = [0, 1, 2, 3]
        XCTAssertThrowsError(try Pipeline(job: job)) { XCTAssertTrue("\($0)".contains("(ways)"), "\($0)") }
        for text in ["masking:0.25", "gaussian:0.2"] {
            XCTAssertEqual(Denoising.Corruption(text: text)?.text, text)
        }
        for bad in ["masking:1", "masking:-0.1", "gaussian:0", "gaussian", "blur:0.1", "masking:x", "masking:0.1:2"] {
            XCTAssertNil(Denoising.Corruption(text: bad), bad)
        }
    }

    func testAJobFileWithAnUnusableCorruptionIsRefusedNamingIt() throws {
        var job = denoiseJob()
        job.unsupervised!.corruption = .masking(rate: 1.5)   // what a hand-edited job file can hold
        XCTAssertThrowsError(try Pipeline(job: job)) { XCTAssertTrue("\($0)".contains("masking:1.5 is out of range"), "\($0)") }
        job.unsupervised = UnsupervisedObjective(method: .kmeans, clusters: 4, corruption: .gaussian(standardDeviation: 0.1))
        XCTAssertThrowsError(try Pipeline(job: job)) { XCTAssertTrue("\($0)".contains("applies only to the denoise objective"), "\($0)") }
    }

    func testTheJobFileOfAKMeansJobIsUnchangedByTheNewFields() throws {
        // Journals bind a job by the hash of its JSON: an older k-means job must encode as before.
        var job = tinyJob()
        job.unsupervised = UnsupervisedObjective(clusters: 4)
        let text = String(decoding: try job.encoded(), as: UTF8.self)
        XCTAssertFalse(text.contains("corruption"), text)
        job.unsupervised = UnsupervisedObjective(method: .denoise, clusters: 4, corruption: .gaussian(standardDeviation: 0.1))
        XCTAssertEqual(try JobConfig.decode(try job.encoded(), source: "test"), job)
    }
}

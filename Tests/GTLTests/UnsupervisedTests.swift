import XCTest
import GTLEngine
@testable import GTL

/// Building blocks for label-free scouts: k-means pseudo-labels and denoising autoencoders.
final class UnsupervisedTests: XCTestCase {
    /// `perBlob` points around each of `centers` (dimension = centers[0].count), shuffled; returns
    /// the points and each point's blob.
    private func blobs(_ centers: [[Float]], perBlob: Int, spread: Float, seed: UInt64) -> (points: [Float], blob: [Int]) {
        var rng = RandomGenerator(seed: seed)
        var order = Array(0..<(centers.count * perBlob))
        rng.shuffle(&order)
        var points: [Float] = []
        for i in order { points += centers[i / perBlob].map { $0 + spread * rng.nextGaussian() } }
        return (points, order.map { $0 / perBlob })
    }

    func testRecoversWellSeparatedBlobsExactly() {
        let centers: [[Float]] = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10], [10, 10, 10]]
        let (points, truth) = blobs(centers, perBlob: 40, spread: 0.7, seed: 1)
        for seed in UInt64(1)...5 {
            var rng = RandomGenerator(seed: seed)
            let result = KMeans(k: 5).fit(points, dimension: 3, rng: &rng)
            XCTAssertTrue(result.converged)
            // Same partition up to renaming: each blob maps to one cluster and no two blobs share one.
            var clusterOf: [Int: Int32] = [:]
            for (i, b) in truth.enumerated() {
                if let c = clusterOf[b] { XCTAssertEqual(result.assignments[i], c, "seed \(seed), point \(i)") }
                else { clusterOf[b] = result.assignments[i] }
            }
            XCTAssertEqual(Set(clusterOf.values).count, 5, "seed \(seed)")
            XCTAssertEqual(result.assignments[0], 0, "clusters are numbered by first appearance")
            XCTAssertEqual(result.assign(points), result.assignments, "assign reproduces the fitted labels")
            XCTAssertLessThan(result.inertia / Double(points.count), 0.7 * 0.7 * 1.2)
        }
    }

    func testSameSeedIsBitIdenticalAndAnotherSeedDiffersOnAmbiguousData() {
        // Uniform points in a square have no natural 6-way split: the seeding decides the local optimum.
        var rng = RandomGenerator(seed: 9)
        let points = (0..<(2 * 400)).map { _ in rng.nextUniform() }
        func run(_ seed: UInt64) -> KMeans.Result {
            var r = RandomGenerator(seed: seed)
            return KMeans(k: 6).fit(points, dimension: 2, rng: &r)
        }
        let a = run(1), b = run(1), c = run(2)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.centroids.map(\.bitPattern), b.centroids.map(\.bitPattern))
        XCTAssertNotEqual(a.assignments, c.assignments)
        XCTAssertNotEqual(a.centroids, c.centroids)
    }

    func testTiesGoToTheLowerClusterAndDuplicatesAreNotReseeded() {
        let result = KMeans.Result(centroids: [0, 2], dimension: 1, assignments: [], iterations: 0, converged: true, inertia: 0)
        XCTAssertEqual(result.assign([1, 0.9, 1.1]), [0, 0, 1])
        // Five copies of one point and two others: k-means++ must pick three distinct centroids.
        let points: [Float] = [0, 0, 0, 0, 0, 5, 9]
        for seed in UInt64(0)..<10 {
            var rng = RandomGenerator(seed: seed)
            let r = KMeans(k: 3).fit(points, dimension: 1, rng: &rng)
            XCTAssertEqual(r.assignments, [0, 0, 0, 0, 0, 1, 2], "seed \(seed)")
            XCTAssertEqual(r.inertia, 0)
        }
        // All points identical: still k labels' worth of centroids, no crash, everything in cluster 0.
        var rng = RandomGenerator(seed: 3)
        XCTAssertEqual(KMeans(k: 2).fit([1, 1, 1, 1], dimension: 2, rng: &rng).assignments, [0, 0])
    }

    func testIterationCapIsHonoured() {
        var rng = RandomGenerator(seed: 9)
        let points = (0..<(2 * 400)).map { _ in rng.nextUniform() }
        var r = RandomGenerator(seed: 1)
        let capped = KMeans(k: 6, maxIterations: 2).fit(points, dimension: 2, rng: &r)
        XCTAssertEqual(capped.iterations, 2)
        XCTAssertFalse(capped.converged)
    }

    func testPseudoLabelsOnDigits() throws {
        let digits = try EmbeddedData.digits()
        let (labelled, clustering) = try KMeans(k: 10).pseudoLabeled(digits, seed: 4)
        XCTAssertEqual(labelled.count, digits.count)
        XCTAssertEqual(labelled.features, digits.features)
        XCTAssertEqual(labelled.classCount, 10)
        XCTAssertEqual(labelled.classNames?.first, "cluster 0")
        XCTAssertEqual(labelled.labels, clustering.assignments)
        XCTAssertTrue(labelled.classCounts().allSatisfy { $0 > 0 })
        // Clusters of digits are far from random: most of each cluster shares one true digit.
        var agree = 0
        for c in 0..<10 {
            var counts = [Int](repeating: 0, count: 10)
            for i in 0..<digits.count where labelled.labels[i] == c { counts[Int(digits.labels[i])] += 1 }
            agree += counts.max()!
        }
        print("digits k-means purity: \(Double(agree) / Double(digits.count))")
        XCTAssertGreaterThan(Double(agree) / Double(digits.count), 0.6)
        XCTAssertNotNil(expectDataError { try KMeans(k: 5).pseudoLabeled(digits.subset([0, 1, 2]), seed: 1) })
        XCTAssertNotNil(expectDataError { try KMeans(k: 2).pseudoLabeled(digits, seed: 1, embeddings: ([1, 2, 3], 1)) })
    }

    func testCorruptionIsSeededAndHasTheRequestedStrength() throws {
        let digits = try EmbeddedData.digits()
        let masked = Denoising(.masking(rate: 0.3)).pairs(digits, seed: 5)
        XCTAssertEqual(masked, Denoising(.masking(rate: 0.3)).pairs(digits, seed: 5))
        XCTAssertNotEqual(masked.inputs, Denoising(.masking(rate: 0.3)).pairs(digits, seed: 6).inputs)
        XCTAssertEqual(masked.targets, digits.features)
        let nonzero = digits.features.indices.filter { digits.features[$0] != 0 }
        let zeroed = nonzero.filter { masked.inputs[$0] == 0 }.count
        XCTAssertEqual(Double(zeroed) / Double(nonzero.count), 0.3, accuracy: 0.01)
        XCTAssertTrue(digits.features.indices.allSatisfy { masked.inputs[$0] == 0 || masked.inputs[$0] == digits.features[$0] })

        let noisy = Denoising(.gaussian(standardDeviation: 0.2)).pairs(digits, seed: 5)
        let diffs = zip(noisy.inputs, digits.features).map { Double($0 - $1) }
        let mean = diffs.reduce(0, +) / Double(diffs.count)
        let sd = (diffs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(diffs.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(sd, 0.2, accuracy: 0.005)
    }

    /// A real training run: a 64-16-64 denoising autoencoder on digits must cut the reconstruction
    /// error of held-out clean digits well below both its start and predicting the mean image.
    func testDenoisingAutoencoderLearnsToReconstructDigits() throws {
        let digits = try EmbeddedData.digits().reshaped(featureShape: [64])
        let train = digits.subset(Array(0..<1400)), held = digits.subset(Array(1400..<digits.count))
        var net = try NetworkSpec.parse("64: dense(16) relu dense(64)").makeNetwork(seed: 3)
        let heldTask = ReconstructionTask(reconstructing: held)
        let before = ReconstructionTrainer.meanSquaredError(&net, on: heldTask)
        var meanImage = [Double](repeating: 0, count: 64)
        for i in 0..<train.count { for j in 0..<64 { meanImage[j] += Double(train.features[i * 64 + j]) / Double(train.count) } }
        let baseline = held.features.enumerated().map { (k, v) in (Double(v) - meanImage[k % 64]) * (Double(v) - meanImage[k % 64]) }
            .reduce(0, +) / Double(held.features.count)

        var rng = RandomGenerator(seed: 8)
        var steps = 0
        ReconstructionTrainer.train(&net, on: ReconstructionTask(reconstructing: train),
                                    settings: TrainSettings(steps: 600, batchSize: 64, optimizer: .init(.adam, learningRate: 0.01)),
                                    denoising: Denoising(.gaussian(standardDeviation: 0.2)), rng: &rng,
                                    afterStep: { _, _ in steps += 1 })
        let after = ReconstructionTrainer.meanSquaredError(&net, on: heldTask)
        let denoised = ReconstructionTrainer.meanSquaredError(&net, on: Denoising(.gaussian(standardDeviation: 0.2)).pairs(held, seed: 1))
        print("denoising AE held-out MSE: before \(before), mean-image baseline \(baseline), after \(after), from noisy input \(denoised)")
        XCTAssertEqual(steps, 600, "afterStep runs after every step")
        XCTAssertLessThan(after, 0.2 * before)
        XCTAssertLessThan(after, 0.5 * baseline)
        XCTAssertLessThan(denoised, 0.6 * baseline)
    }
}

import GTLEngine

/// Label-free pre-training and scouting, so the true labels are first used by the supervised
/// downstream episodes. Either the base and every scout classify k-means pseudo-labels of the
/// pre-training classes' samples (how the RNA-seq follow-up to GTL built scouts for data without
/// annotations), or they are denoising autoencoders and the clusters only say which samples each
/// scout reconstructs. Either way the same scout plan (k of K clusters per scout) and reducer apply.
public struct UnsupervisedObjective: Sendable, Equatable, Codable {
    /// How pseudo-labels are made.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// k-means (k-means++ seeding) on the raw features; cluster numbers become classes.
        case kmeans
        /// A denoising autoencoder (`Autoencoder`): pre-training and scouts reconstruct clean samples
        /// from corrupted copies; each scout sees the samples of k of the k-means clusters.
        case denoise
    }
    /// The method.
    public var method: Method
    /// Number of clusters (pseudo-classes): the head needs at least this many outputs.
    public var clusters: Int
    /// Lloyd iterations at most.
    public var maxIterations: Int
    /// With `.denoise`: how inputs are corrupted (nil: `defaultCorruption`).
    public var corruption: Denoising.Corruption?

    /// Masking noise at 25 %, the usual rate for denoising autoencoders (Vincent et al. 2008).
    public static let defaultCorruption = Denoising.Corruption.masking(rate: 0.25)

    /// An objective with `clusters` pseudo-classes.
    public init(method: Method = .kmeans, clusters: Int, maxIterations: Int = 100, corruption: Denoising.Corruption? = nil) {
        self.method = method
        self.clusters = clusters
        self.maxIterations = maxIterations
        self.corruption = corruption
    }

    /// The reconstruction objective of `.denoise` (nil for classification objectives).
    public var denoising: Denoising? {
        method == .denoise ? Denoising(corruption ?? Self.defaultCorruption) : nil
    }

    /// The pre-training pool of `data` (samples of `classes`) relabelled with cluster numbers.
    /// Deterministic in `seed`, so every worker derives the same pseudo-labels as the coordinator.
    public func pseudoLabel(_ data: Dataset, classes: [Int], seed: UInt64) throws -> (data: Dataset, summary: PseudoLabelSummary) {
        let pool = data.subset(data.indices(ofClasses: Set(classes)))
        let (labelled, fit) = try KMeans(k: clusters, maxIterations: maxIterations).pseudoLabeled(pool, seed: seed)
        return (labelled, PseudoLabelSummary(fit, trueLabels: pool.labels, clusters: clusters))
    }
}

/// How the pseudo-labels relate to the hidden true labels: reported so a reader can tell whether
/// unsupervised scouts saw something like the supervised subproblems or something else entirely.
public struct PseudoLabelSummary: Sendable, Equatable, Codable {
    /// Clusters formed.
    public var clusters: Int
    /// Samples per cluster.
    public var sizes: [Int]
    /// Fraction of samples whose cluster's majority true class is their own (1: clusters = classes).
    public var purity: Double
    /// Lloyd iterations run, and whether assignments stopped changing.
    public var iterations: Int, converged: Bool

    init(_ fit: KMeans.Result, trueLabels: [Int32], clusters: Int) {
        var counts = [[Int: Int]](repeating: [:], count: clusters)
        for (a, t) in zip(fit.assignments, trueLabels) { counts[Int(a)][Int(t), default: 0] += 1 }
        self.clusters = clusters
        sizes = counts.map { $0.values.reduce(0, +) }
        purity = Double(counts.map { $0.values.max() ?? 0 }.reduce(0, +)) / Double(max(trueLabels.count, 1))
        iterations = fit.iterations
        converged = fit.converged
    }
}

import GTLEngine

/// Deterministic k-means, so scouts can train on cluster pseudo-labels when the data have no labels
/// (the seed's "scouts without labels" study).
///
/// k-means++ seeding draws from the caller's seeded `RandomGenerator`; Lloyd iterations then run
/// to convergence (no assignment changes) or `maxIterations`. Every choice is deterministic: a
/// point equidistant from two centroids joins the lower-numbered one, a cluster left empty is
/// re-seeded with the point farthest from its centroid (lowest index on ties), and arithmetic runs
/// in a fixed order, so one seed gives bit-identical labels on one machine. Finally clusters are
/// numbered by first appearance in sample order, so equal partitions get equal labels whatever
/// order the seeding found the centroids in.
public struct KMeans: Sendable, Equatable, Codable {
    /// Number of clusters.
    public var k: Int
    /// Cap on Lloyd iterations, bounding the cost on data that converge slowly.
    public var maxIterations: Int

    /// A clustering into `k` groups with at most `maxIterations` Lloyd iterations.
    public init(k: Int, maxIterations: Int = 100) {
        self.k = k
        self.maxIterations = maxIterations
    }

    /// The outcome of `fit`: enough to label the fitted points and to assign new ones.
    public struct Result: Sendable, Equatable {
        /// `k × dimension` centroids, cluster after cluster.
        public var centroids: [Float]
        /// Values per point and per centroid.
        public var dimension: Int
        /// Cluster of each fitted point, in `0..<k`.
        public var assignments: [Int32]
        /// Lloyd iterations run (assignment passes).
        public var iterations: Int
        /// Whether the assignments stopped changing before the cap.
        public var converged: Bool
        /// Sum of squared distances of the points to their centroids (lower is tighter).
        public var inertia: Double

        /// The nearest centroid of each point (ties to the lower index): pseudo-labels for samples
        /// that were not part of the fit, such as a held-out split.
        public func assign(_ points: [Float]) -> [Int32] {
            precondition(points.count % dimension == 0, "\(points.count) values are not whole points of \(dimension)")
            return (0..<(points.count / dimension)).map { Int32(KMeans.nearest(points, $0, centroids, dimension).cluster) }
        }
    }

    /// Clusters `points` (`count × dimension`, row-major). Needs at least `k` points.
    public func fit(_ points: [Float], dimension: Int, rng: inout RandomGenerator) -> Result {
        precondition(k >= 1 && maxIterations >= 1, "k and maxIterations must be positive")
        precondition(dimension > 0 && points.count % dimension == 0, "\(points.count) values are not whole points of \(dimension)")
        let n = points.count / dimension
        precondition(n >= k, "cannot form \(k) clusters from \(n) points")
        var centroids = seed(points, n: n, dimension: dimension, rng: &rng)
        var assignments = [Int32](repeating: -1, count: n)
        var distance = [Float](repeating: 0, count: n)
        var iterations = 0, converged = false
        while iterations < maxIterations {
            iterations += 1
            var changed = false
            for i in 0..<n {
                let (c, d) = KMeans.nearest(points, i, centroids, dimension)
                distance[i] = d
                if assignments[i] != Int32(c) { assignments[i] = Int32(c); changed = true }
            }
            if !changed { converged = true; break }
            centroids = update(points, assignments, &distance, dimension: dimension)
        }
        // Number clusters by first appearance, so equal partitions get equal labels.
        var rename = [Int32](repeating: -1, count: k), next: Int32 = 0
        for a in assignments where rename[Int(a)] < 0 { rename[Int(a)] = next; next += 1 }
        for c in 0..<k where rename[c] < 0 { rename[c] = next; next += 1 }
        var ordered = [Float](repeating: 0, count: centroids.count)
        for c in 0..<k {
            let to = Int(rename[c]) * dimension
            for j in 0..<dimension { ordered[to + j] = centroids[c * dimension + j] }
        }
        let labels = assignments.map { rename[Int($0)] }
        var inertia = 0.0
        for i in 0..<n { inertia += Double(KMeans.squaredDistance(points, i * dimension, ordered, Int(labels[i]) * dimension, dimension)) }
        return Result(centroids: ordered, dimension: dimension, assignments: labels, iterations: iterations,
                      converged: converged, inertia: inertia)
    }

    /// `data` relabelled with cluster numbers (`classCount == k`, classes named "cluster 0"…),
    /// plus the clustering. `embeddings` (`count × dimension`) replaces the raw features when given,
    /// e.g. a network's readout of packed graphs, whose raw form mixes adjacency and features.
    public func pseudoLabeled(_ data: Dataset, seed: UInt64,
                              embeddings: (values: [Float], dimension: Int)? = nil) throws -> (data: Dataset, clustering: Result) {
        let (points, dimension) = embeddings ?? (data.features, data.featureCount)
        guard points.count == data.count * dimension else {
            throw DataError(file: data.name, problem: "\(points.count) embedding values do not match \(data.count) samples of \(dimension)")
        }
        guard data.count >= k, k >= 1 else {
            throw DataError(file: data.name, problem: "cannot form \(k) clusters from \(data.count) samples")
        }
        var rng = RandomGenerator(seed: seed)
        let result = fit(points, dimension: dimension, rng: &rng)
        let labelled = Dataset(unchecked: "\(data.name)-kmeans\(k)", featureShape: data.featureShape, features: data.features,
                               labels: result.assignments, classCount: k, classNames: (0..<k).map { "cluster \($0)" })
        return (labelled, result)
    }

    /// k-means++: the first centroid uniformly, each next one with probability proportional to the
    /// squared distance to the nearest centroid so far (points on a centroid are never picked again).
    private func seed(_ points: [Float], n: Int, dimension: Int, rng: inout RandomGenerator) -> [Float] {
        var chosen = [rng.nextInt(below: n)]
        var nearest = (0..<n).map { Double(KMeans.squaredDistance(points, $0 * dimension, points, chosen[0] * dimension, dimension)) }
        while chosen.count < k {
            let total = nearest.reduce(0, +)
            var pick = -1
            if total > 0 {
                let target = Double(rng.next() >> 11) * 0x1p-53 * total
                var sum = 0.0
                for i in 0..<n where nearest[i] > 0 {
                    sum += nearest[i]
                    pick = i
                    if sum > target { break }
                }
            } else {
                pick = rng.nextInt(below: n)   // all points sit on centroids: duplicates are unavoidable
            }
            chosen.append(pick)
            for i in 0..<n {
                nearest[i] = min(nearest[i], Double(KMeans.squaredDistance(points, i * dimension, points, pick * dimension, dimension)))
            }
        }
        return chosen.flatMap { points[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// Means of the clusters; an empty cluster takes the point farthest from its centroid.
    private func update(_ points: [Float], _ assignments: [Int32], _ distance: inout [Float], dimension: Int) -> [Float] {
        var sums = [Double](repeating: 0, count: k * dimension), counts = [Int](repeating: 0, count: k)
        for (i, a) in assignments.enumerated() {
            let c = Int(a)
            counts[c] += 1
            for j in 0..<dimension { sums[c * dimension + j] += Double(points[i * dimension + j]) }
        }
        var centroids = [Float](repeating: 0, count: k * dimension)
        for c in 0..<k {
            if counts[c] > 0 {
                for j in 0..<dimension { centroids[c * dimension + j] = Float(sums[c * dimension + j] / Double(counts[c])) }
            } else {
                var far = 0
                for i in distance.indices where distance[i] > distance[far] { far = i }
                distance[far] = -1   // not chosen twice
                for j in 0..<dimension { centroids[c * dimension + j] = points[far * dimension + j] }
            }
        }
        return centroids
    }

    /// Nearest centroid of point `i` and its squared distance; ties go to the lower cluster number.
    static func nearest(_ points: [Float], _ i: Int, _ centroids: [Float], _ dimension: Int) -> (cluster: Int, distance: Float) {
        var best = 0, bestDistance = Float.infinity
        for c in 0..<(centroids.count / dimension) {
            let d = squaredDistance(points, i * dimension, centroids, c * dimension, dimension)
            if d < bestDistance { best = c; bestDistance = d }
        }
        return (best, bestDistance)
    }

    /// Squared Euclidean distance between two rows, summed in index order (deterministic).
    static func squaredDistance(_ a: [Float], _ ao: Int, _ b: [Float], _ bo: Int, _ dimension: Int) -> Float {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var s: Float = 0
                for j in 0..<dimension { let d = pa[ao + j] - pb[bo + j]; s += d * d }
                return s
            }
        }
    }
}

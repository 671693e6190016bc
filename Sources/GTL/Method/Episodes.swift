import GTLEngine

/// One N-way K-shot episode: support samples to fine-tune on and query samples to score, with
/// the episode's classes mapped onto head positions 0..<N in a seeded order.
public struct Episode: Sendable {
    /// Samples to train on.
    public let support: Task
    /// Samples to score.
    public let query: Task
    /// Seed for anything stochastic in the episode's training (same for every arm).
    public let seed: UInt64
}

/// Draws episodes from a pool of samples per class. Episode `i` depends only on the sampler's
/// seed and `i`, so every arm sees exactly the same episodes.
public struct EpisodeSampler: Sendable {
    /// Candidate dataset indices per class.
    public let pool: [Int: [Int]]
    /// Classes per episode.
    public let ways: Int
    /// Support samples per class.
    public let shots: Int
    /// Query samples per class.
    public let queries: Int
    /// Seed of this family of episodes.
    public let seed: UInt64

    /// A sampler; throws when a class has too few samples for `shots + queries`.
    public init(pool: [Int: [Int]], ways: Int, shots: Int, queries: Int, seed: UInt64) throws {
        for (c, s) in pool where s.count < shots + queries {
            throw GTLError("class \(c) has \(s.count) samples in this pool, an episode needs \(shots + queries)")
        }
        guard pool.count >= ways else { throw GTLError("\(ways)-way episodes need \(ways) classes, the pool has \(pool.count)") }
        self.pool = pool
        self.ways = ways
        self.shots = shots
        self.queries = queries
        self.seed = seed
    }

    /// Episode number `index`.
    public func episode(_ index: Int, data: Dataset) -> Episode {
        var rng = RandomGenerator(seed: RandomGenerator.derive(seed, UInt64(index)))
        var classes = pool.keys.sorted()
        rng.shuffle(&classes)
        let chosen = Array(classes.prefix(ways))
        var support: [Int] = [], query: [Int] = []
        for c in chosen {
            var s = pool[c]!
            rng.shuffle(&s)
            support += s.prefix(shots)
            query += s.dropFirst(shots).prefix(queries)
        }
        let mapping = Dictionary(uniqueKeysWithValues: chosen.enumerated().map { ($1, Int32($0)) })
        return Episode(support: Task(data, indices: support, mapping: mapping),
                       query: Task(data, indices: query, mapping: mapping), seed: rng.next())
    }
}

/// Splits each class's samples into disjoint pools (e.g. validation and test) by a seeded shuffle.
public func splitPools(_ data: Dataset, classes: [Int], firstFraction: Double, seed: UInt64) -> (first: [Int: [Int]], second: [Int: [Int]]) {
    var first: [Int: [Int]] = [:], second: [Int: [Int]] = [:]
    for c in classes {
        var idx = data.indices(ofClasses: [c])
        var rng = RandomGenerator(seed: RandomGenerator.derive(seed, 0x5917, UInt64(c)))
        rng.shuffle(&idx)
        let n = Int((Double(idx.count) * firstFraction).rounded())
        first[c] = Array(idx.prefix(n)).sorted()
        second[c] = Array(idx.dropFirst(n)).sorted()
    }
    return (first, second)
}

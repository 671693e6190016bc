import GTLEngine

/// One scout's subproblem: which classes, which samples, the label mapping onto the head, and
/// the seed of its training. Everything follows from (plan, index), so any worker can rebuild it.
public struct Subproblem: Sendable, Equatable {
    /// The scout's index in the plan.
    public let index: Int
    /// The classes of this cousin task (dataset labels), in head order: class `classes[j]` is
    /// trained towards output `j`.
    public let classes: [Int]
    /// Dataset indices of the training samples (with repeats when bootstrapping).
    public let samples: [Int]
    /// Seed of the scout's minibatch order.
    public let seed: UInt64

    /// The mapping from dataset label to head position.
    public var mapping: [Int: Int32] {
        Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
    }
}

/// Turns one scouting problem into N reproducible subproblems: k-class subsets of the
/// pre-training classes, each with a per-class sample limit and optionally a bootstrap resample.
public struct ScoutPlan: Sendable, Equatable, Codable {
    /// Classes the scouts draw their subsets from (the pre-training classes).
    public var classes: [Int]
    /// Classes per scout (k).
    public var classesPerScout: Int
    /// Samples per class a scout may use (nil: all of the pool).
    public var samplesPerClass: Int?
    /// Resample each scout's samples with replacement.
    public var bootstrap: Bool
    /// The job seed every scout's seed derives from.
    public var seed: UInt64

    /// A plan over `classes`.
    public init(classes: [Int], classesPerScout: Int, samplesPerClass: Int?, bootstrap: Bool, seed: UInt64) {
        self.classes = classes
        self.classesPerScout = classesPerScout
        self.samplesPerClass = samplesPerClass
        self.bootstrap = bootstrap
        self.seed = seed
    }

    /// Checks the plan against the data's pool of samples per class.
    public func validate(pool: [Int: [Int]]) throws {
        guard classesPerScout >= 2, classesPerScout <= classes.count else {
            throw GTLError("classes per scout must be in 2...\(classes.count) (the pre-training classes), got \(classesPerScout)")
        }
        for c in classes where (pool[c] ?? []).isEmpty {
            throw GTLError("class \(c) has no samples in the scouting pool")
        }
        if let s = samplesPerClass, s < 1 { throw GTLError("samples per class must be at least 1, got \(s)") }
    }

    /// The subproblem of scout `index`; `pool` maps each class to its candidate dataset indices
    /// (ascending). A pure function: the same plan, pool and index give the same subproblem.
    public func subproblem(_ index: Int, pool: [Int: [Int]]) -> Subproblem {
        var rng = RandomGenerator(seed: RandomGenerator.derive(seed, 0x5C07, UInt64(index)))
        var shuffled = classes
        rng.shuffle(&shuffled)
        let chosen = Array(shuffled.prefix(classesPerScout))
        var samples: [Int] = []
        for c in chosen {
            var candidates = pool[c] ?? []
            rng.shuffle(&candidates)
            let n = min(samplesPerClass ?? candidates.count, candidates.count)
            if bootstrap {
                samples += (0..<n).map { _ in candidates[rng.nextInt(below: candidates.count)] }
            } else {
                samples += candidates.prefix(n)
            }
        }
        return Subproblem(index: index, classes: chosen, samples: samples, seed: rng.next())
    }
}

/// An error of the method with a message naming the thing and the problem.
public struct GTLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public let description: String
    /// Wraps a message.
    public init(_ description: String) { self.description = description }
}

import GTLEngine

/// The fine-tuning strategies compared on the same episodes.
public enum Arm: String, Sendable, Codable, CaseIterable {
    /// A freshly initialised network per episode: the baseline pre-training must beat.
    case scratch
    /// Plain fine-tuning of the base, every parameter free.
    case finetune
    /// GTL: fine-tuning of the base with updates scaled by the guide values.
    case gtl
    /// GTL with the guide values rescaled to mean 1 (separates "which" from "how fast").
    case gtlMeanOne = "gtl-mean1"
    /// Only the output layer trained (multiplier 1 there, 0 elsewhere).
    case lastLayer = "last-layer"
}

/// Mean with a 95 % confidence interval (normal approximation, 1.96 standard errors).
public struct Estimate: Sendable, Codable, Equatable {
    /// Sample mean.
    public let mean: Double
    /// Half-width of the 95 % confidence interval.
    public let ci95: Double
    /// Sample standard deviation.
    public let sd: Double
    /// Number of samples.
    public let n: Int

    /// The estimate of `xs`.
    public init(_ xs: [Double]) {
        let n = xs.count
        let mean = xs.reduce(0, +) / Double(max(n, 1))
        let variance = n > 1 ? xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1) : 0
        self.n = n
        self.mean = mean
        sd = variance.squareRoot()
        ci95 = 1.96 * sd / Double(max(n, 1)).squareRoot()
    }
}

/// One arm's outcome at one shot setting.
public struct ArmResult: Sendable, Codable, Equatable {
    /// The arm.
    public let arm: Arm
    /// Support samples per class.
    public let shots: Int
    /// Learning rate chosen on the validation episodes.
    public let learningRate: Float
    /// Steps chosen on the validation episodes.
    public let steps: Int
    /// Mean validation accuracy of the chosen setting.
    public let validationAccuracy: Double
    /// Whether the chosen step count or learning rate is an end of its grid: the best setting may
    /// lie beyond what was tried, which a reader should know.
    public var atGridEdge = false
    /// Test accuracy over the test episodes.
    public let test: Estimate
    /// Paired difference to plain fine-tuning on the same test episodes (nil for fine-tuning).
    public var differenceToFinetune: Estimate?
    /// Per-episode test accuracies, the same episodes in the same order for every arm of a run: what
    /// paired comparisons across arms (and across runs sharing a seed) are computed from.
    public var perEpisode: [Double]

    enum CodingKeys: String, CodingKey { case arm, shots, learningRate, steps, validationAccuracy, atGridEdge, test, differenceToFinetune, perEpisode }

    /// Reports written before `perEpisode` was recorded decode with it empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        arm = try c.decode(Arm.self, forKey: .arm)
        shots = try c.decode(Int.self, forKey: .shots)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        steps = try c.decode(Int.self, forKey: .steps)
        validationAccuracy = try c.decode(Double.self, forKey: .validationAccuracy)
        atGridEdge = try c.decodeIfPresent(Bool.self, forKey: .atGridEdge) ?? false
        test = try c.decode(Estimate.self, forKey: .test)
        differenceToFinetune = try c.decodeIfPresent(Estimate.self, forKey: .differenceToFinetune)
        perEpisode = try c.decodeIfPresent([Double].self, forKey: .perEpisode) ?? []
    }

    init(arm: Arm, shots: Int, learningRate: Float, steps: Int, validationAccuracy: Double, perEpisode: [Double]) {
        self.arm = arm
        self.shots = shots
        self.learningRate = learningRate
        self.steps = steps
        self.validationAccuracy = validationAccuracy
        self.test = Estimate(perEpisode)
        self.perEpisode = perEpisode
    }
}

/// Few-shot evaluation: every arm gets its own learning rate and step count, chosen on
/// validation episodes drawn from a pool disjoint from the test pool, and is then scored on the
/// same test episodes as every other arm.
public struct Evaluator: Sendable {
    /// The evaluation settings.
    public let config: EvaluationConfig
    /// The data (downstream classes are drawn from it).
    public let data: Dataset
    /// The architecture (for the scratch arm).
    public let spec: NetworkSpec
    /// The pre-trained base.
    public let base: Network
    /// Guide values per parameter.
    public let guide: [Float]
    /// Validation and test pools of the downstream classes.
    public let validationPool: [Int: [Int]], testPool: [Int: [Int]]
    /// The seed all episodes derive from.
    public let seed: UInt64

    /// An evaluator for `job` over `data`.
    public init(job: JobConfig, data: Dataset, spec: NetworkSpec, base: Network, guide: [Float]) {
        config = job.evaluation
        self.data = data
        self.spec = spec
        self.base = base
        self.guide = guide
        seed = RandomGenerator.derive(job.seed, 0xE7A1)
        (validationPool, testPool) = splitPools(data, classes: job.downstreamClasses,
                                                firstFraction: config.validationFraction, seed: seed)
    }

    /// The arms this evaluation runs, in report order.
    public var arms: [Arm] {
        Arm.allCases.filter { ($0 != .gtlMeanOne || config.includeMeanOneArm) && (config.arms?.contains($0) ?? true) }
    }

    /// Per-parameter multipliers of an arm (nil: unguided).
    public func multipliers(_ arm: Arm) -> [Float]? {
        switch arm {
        case .scratch, .finetune: return nil
        case .gtl: return guide
        case .gtlMeanOne:
            let mean = guide.reduce(0.0) { $0 + Double($1) } / Double(max(guide.count, 1))
            return mean > 0 ? guide.map { Float(Double($0) / mean) } : guide
        case .lastLayer:
            var m = [Float](repeating: 0, count: base.parameterCount)
            let lastLayer = base.layout.specs.last!.name.split(separator: ".").first!
            for s in base.layout.specs where s.name.split(separator: ".").first! == lastLayer {
                for i in s.range { m[i] = 1 }
            }
            return m
        }
    }

    /// Fine-tunes on one episode and returns the query accuracy at each of `checkpoints`.
    func accuracies(_ arm: Arm, _ episode: Episode, learningRate: Float, checkpoints: [Int], multipliers: [Float]?) -> [Double] {
        var network = arm == .scratch ? (try! spec.makeNetwork(seed: RandomGenerator.derive(episode.seed, 0x5C))) : base
        network.rng = RandomGenerator(seed: episode.seed)
        var rng = RandomGenerator(seed: episode.seed)
        let settings = TrainSettings(steps: checkpoints.max()!, batchSize: episode.support.count,
                                     optimizer: OptimizerSettings(config.optimizer, learningRate: learningRate))
        var result: [Double] = []
        let ways = config.ways
        Trainer.train(&network, on: episode.support, settings: settings, multipliers: multipliers, rng: &rng) { step, net in
            if checkpoints.contains(step + 1) {
                var n = net
                result.append(Trainer.accuracy(&n, on: episode.query, classes: ways))
            }
        }
        return result
    }

    /// Evaluates every arm at `shots`; `progress` gets a line per finished arm.
    public func evaluate(shots: Int, progress: (String) -> Void = { _ in }) throws -> [ArmResult] {
        let validation = try EpisodeSampler(pool: validationPool, ways: config.ways, shots: shots,
                                            queries: config.queriesPerClass, seed: RandomGenerator.derive(seed, 1, UInt64(shots)))
        let test = try EpisodeSampler(pool: testPool, ways: config.ways, shots: shots,
                                      queries: config.queriesPerClass, seed: RandomGenerator.derive(seed, 2, UInt64(shots)))
        let checkpoints = config.stepCounts.sorted()
        var results: [ArmResult] = []
        for arm in arms {
            let mult = multipliers(arm)
            var best: (lr: Float, steps: Int, acc: Double)? = nil
            for lr in config.learningRates {
                let accs = parallelMap(config.validationEpisodes) { [self] i in
                    accuracies(arm, validation.episode(i, data: data), learningRate: lr, checkpoints: checkpoints, multipliers: mult)
                }
                for (j, steps) in checkpoints.enumerated() {
                    let mean = accs.reduce(0) { $0 + $1[j] } / Double(accs.count)
                    if best == nil || mean > best!.acc { best = (lr, steps, mean) }
                }
            }
            let chosen = best!
            let perEpisode = parallelMap(config.testEpisodes) { [self] i in
                accuracies(arm, test.episode(i, data: data), learningRate: chosen.lr, checkpoints: [chosen.steps], multipliers: mult)[0]
            }
            var r = ArmResult(arm: arm, shots: shots, learningRate: chosen.lr, steps: chosen.steps,
                              validationAccuracy: chosen.acc, perEpisode: perEpisode)
            let rates = config.learningRates
            r.atGridEdge = chosen.steps == checkpoints.last!
                || (rates.count > 1 && (chosen.lr == rates.min()! || chosen.lr == rates.max()!))
            if let ft = results.first(where: { $0.arm == .finetune }), arm != .finetune {
                r.differenceToFinetune = Estimate(zip(perEpisode, ft.perEpisode).map { $0 - $1 })
            }
            results.append(r)
            progress("  \(shots)-shot \(arm.rawValue): lr \(chosen.lr), \(chosen.steps) steps, test "
                     + String(format: "%.1f%% ± %.1f", 100 * r.test.mean, 100 * r.test.ci95))
        }
        // Scratch runs before fine-tuning in report order: fill in its paired difference too.
        if let ft = results.first(where: { $0.arm == .finetune }) {
            for i in results.indices where results[i].arm != .finetune && results[i].differenceToFinetune == nil {
                results[i].differenceToFinetune = Estimate(zip(results[i].perEpisode, ft.perEpisode).map { $0 - $1 })
            }
        }
        return results
    }
}

import Foundation

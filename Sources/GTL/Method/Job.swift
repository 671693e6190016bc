import Foundation
import GTLEngine

/// Few-shot evaluation settings: N-way K-shot episodes on classes never seen before.
public struct EvaluationConfig: Sendable, Equatable, Codable {
    /// Classes per episode (N).
    public var ways = 5
    /// Support samples per class (K), one evaluation per value.
    public var shots = [1, 5]
    /// Query samples per class in each episode.
    public var queriesPerClass = 10
    /// Test episodes per shot setting (the reported accuracy).
    public var testEpisodes = 400
    /// Validation episodes per shot setting (used only to choose each arm's learning rate and steps).
    public var validationEpisodes = 80
    /// Fraction of each downstream class's samples reserved for validation episodes; the rest
    /// form the test pool, so validation and test episodes never share a sample.
    public var validationFraction = 0.4
    /// The fine-tuning optimiser family; each arm's learning rate comes from `learningRates`.
    public var optimizer: OptimizerSettings.Kind = .adam
    /// Candidate learning rates per arm.
    public var learningRates: [Float] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1]
    /// Candidate step counts per arm (checkpoints of one run).
    public var stepCounts = [10, 20, 40, 80, 160, 320]
    /// Whether to also evaluate guide values rescaled to mean 1.
    public var includeMeanOneArm = true
    /// Only these arms (nil: all). Studies evaluate only the guided arms of a variant that shares
    /// its base and episodes with a baseline run, and take the other arms from that run.
    public var arms: [Arm]? = nil

    /// The defaults used by `gtl run`.
    public init() {}
}

/// Everything that defines a GTL job: data, model, pre-training, the scouting plan, the
/// reduction and the evaluation. It is the unit the cluster ships to workers (as JSON) and the
/// thing a seed makes reproducible.
public struct JobConfig: Sendable, Equatable, Codable {
    /// Dataset spec (`digits`, `fashion-mnist`, `idx:IMAGES,LABELS`, `csv:PATH`).
    public var dataset = "digits"
    /// Layers after the input (the input shape comes from the data), in `NetworkSpec` text form.
    /// The output width is the head: it must be at least the number of pre-training classes and
    /// the number of ways; every task maps its classes onto the first head positions.
    public var layers = "flatten dense(64) relu dense(32) relu dense(5)"
    /// The job seed: every random choice derives from it.
    public var seed: UInt64 = 1
    /// Classes for pre-training and scouting.
    public var pretrainClasses = [0, 1, 2, 3, 4]
    /// Classes for downstream few-shot evaluation (never seen before).
    public var downstreamClasses = [5, 6, 7, 8, 9]
    /// Pre-training of the base.
    public var pretrain = TrainSettings(steps: 1500, batchSize: 32, optimizer: OptimizerSettings(.adam, learningRate: 0.001))
    /// Number of scouts (with `autoScouts`, the scouts of the first round).
    public var scouts = 64
    /// `--scouts auto`: add scouts in rounds until the guide converges (nil: exactly `scouts`).
    public var autoScouts: AutoScouts?
    /// Classes per scout (k).
    public var classesPerScout = 2
    /// Samples per class a scout sees (nil: all of its classes' samples).
    public var samplesPerClass: Int? = 40
    /// Bootstrap-resample each scout's samples.
    public var bootstrap = false
    /// Label-free pre-training and scouting on pseudo-labels (nil: supervised, on the true labels).
    public var unsupervised: UnsupervisedObjective? = nil
    /// Training of each scout.
    public var scout = TrainSettings(steps: 100, batchSize: 16, optimizer: OptimizerSettings(.sgd, learningRate: 0.05))
    /// Statistics each scout records besides the guide's own (`guide.statistic` is always
    /// recorded). Each costs a float per parameter per scout on the wire and in the journal, so
    /// the default records only what the reducer uses.
    public var statistics: [TrajectoryStatistic] = []

    /// What every scout records: the guide's statistic and the extra ones, in a fixed order.
    public var recordedStatistics: [TrajectoryStatistic] {
        TrajectoryStatistic.allCases.filter { $0 == guide.statistic || statistics.contains($0) }
    }
    /// From statistics to guide values.
    public var guide = GuideOptions()
    /// Few-shot evaluation.
    public var evaluation = EvaluationConfig()

    /// The defaults: the embedded digits job.
    public init() {}

    /// The architecture for data whose samples have `inputShape`.
    public func networkSpec(inputShape: [Int]) throws -> NetworkSpec {
        try NetworkSpec.parse(inputShape.map(String.init).joined(separator: "x") + ": " + layers)
    }

    /// Checks the job for contradictions before any work; messages name the setting.
    public func validate(data: Dataset) throws {
        let spec = try networkSpec(inputShape: data.featureShape)
        let head = try spec.makeNetwork(seed: 0).outputWidth
        let all = pretrainClasses + downstreamClasses
        if let c = all.first(where: { $0 < 0 || $0 >= data.classCount }) {
            throw GTLError("class \(c) is outside the dataset's 0..<\(data.classCount)")
        }
        guard Set(pretrainClasses).isDisjoint(with: downstreamClasses) else {
            throw GTLError("pre-training and downstream classes overlap: downstream classes must be unseen")
        }
        guard Set(pretrainClasses).count == pretrainClasses.count, Set(downstreamClasses).count == downstreamClasses.count else {
            throw GTLError("a class is listed twice")
        }
        // An autoencoder's head is fresh downstream: only the episodes' classes land on it.
        let needed: Int, why: String
        switch unsupervised {
        case nil: (needed, why) = (max(trainingClassCount, evaluation.ways), "(pre-training classes and ways)")
        case let u? where u.denoising != nil: (needed, why) = (evaluation.ways, "(ways)")
        default: (needed, why) = (max(trainingClassCount, evaluation.ways), "(clusters and ways)")
        }
        guard head >= needed else { throw GTLError("the head has \(head) outputs; it needs at least \(needed) \(why)") }
        if let u = unsupervised {
            guard u.clusters >= 2, u.maxIterations >= 1 else {
                throw GTLError("--clusters must be at least 2 (and k-means needs at least one iteration), got \(u.clusters)")
            }
            if let c = u.corruption {
                guard u.method == .denoise else { throw GTLError("a corruption (\(c.text)) applies only to the denoise objective, not \(u.method.rawValue)") }
                guard c.isValid else { throw GTLError("corruption \(c.text) is out of range (masking rate in 0 ..< 1, gaussian SD > 0)") }
            }
            guard classesPerScout <= u.clusters else {
                throw GTLError("classes per scout (\(classesPerScout)) exceeds the \(u.clusters) clusters scouts draw from")
            }
        }
        guard evaluation.ways >= 2, evaluation.ways <= downstreamClasses.count else {
            throw GTLError("ways must be in 2...\(downstreamClasses.count) (the downstream classes), got \(evaluation.ways)")
        }
        guard scouts >= 1 else { throw GTLError("at least one scout is needed, got \(scouts)") }
        if let a = autoScouts {
            guard a.batch >= 1, a.maxScouts >= a.batch, a.tolerance > 0 else {
                throw GTLError("--scouts auto needs a batch of at least 1, a positive tolerance and a maximum of at least one batch")
            }
        }
        guard !evaluation.shots.isEmpty, evaluation.shots.allSatisfy({ $0 >= 1 }) else { throw GTLError("shots must be positive") }
        if let arms = evaluation.arms, arms.isEmpty || Set(arms).count != arms.count {
            throw GTLError("the arms to evaluate must be a non-empty list without repeats")
        }
        guard evaluation.testEpisodes >= 2, evaluation.validationEpisodes >= 1 else { throw GTLError("too few episodes") }
        guard !evaluation.learningRates.isEmpty, !evaluation.stepCounts.isEmpty, evaluation.stepCounts.allSatisfy({ $0 >= 1 }) else {
            throw GTLError("the learning-rate and step grids must be non-empty and positive")
        }
        for (name, t) in [("pretrain", pretrain), ("scout", scout)] where t.steps < 0 || t.batchSize < 1 {
            throw GTLError("\(name): steps must be non-negative and the batch size positive")
        }
    }

    /// Classes pre-training and scouting train on: the pre-training classes, or the clusters.
    public var trainingClassCount: Int { unsupervised?.clusters ?? pretrainClasses.count }

    /// The part of the job that determines every scout's result: data, model, seed, pre-training,
    /// the plan and the scouts' training. Evaluation, the guide's normalisation, the downstream
    /// classes and the number of scouts are reset to their defaults, so changing them (or extending
    /// the job) keeps a journal of scout results valid.
    public var scoutingIdentity: JobConfig {
        var j = self
        let defaults = JobConfig()
        j.evaluation = defaults.evaluation
        j.downstreamClasses = defaults.downstreamClasses
        j.scouts = defaults.scouts
        j.autoScouts = nil
        let statistic = guide.statistic
        j.guide = defaults.guide
        j.guide.statistic = statistic
        return j
    }

    /// The job as canonical JSON (sorted keys): what workers receive and what journals hash.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return [UInt8](try e.encode(self))
    }

    /// Reads a job file written by `encoded()` (or by hand); missing keys are an error naming them.
    public static func decode(_ bytes: [UInt8], source: String) throws -> JobConfig {
        do { return try JSONDecoder().decode(JobConfig.self, from: Data(bytes)) }
        catch { throw GTLError("\(source): not a valid job file: \(error)") }
    }
}

import Foundation
import GTL
import GTLEngine

/// The job flags shared by `gtl run` and (later) `gtl coordinator`: a job file, then flags that
/// override its fields. Every value is checked here, so a bad one is a usage error (exit 2).
enum JobOptions {
    static let help = """
    Job options (override --job FILE, a JSON job as written into report.json):
      --dataset SPEC            digits (embedded, default) | fashion-mnist | idx:IMAGES,LABELS | csv:PATH
      --layers "LAYERS"         layers after the input, e.g. "flatten dense(64) relu dense(32) relu dense(5)"
      --seed S                  job seed (default 1): same job and seed, bit-identical guide values
      --pretrain-classes LIST   classes for pre-training and scouting (default 0-4), e.g. 0-4 or 0,2,4
      --downstream-classes LIST unseen classes for few-shot evaluation (default 5-9)
      --pretrain-steps N        pre-training steps (default 1500)
      --objective NAME          supervised (default) | kmeans: pre-train and scout on k-means pseudo-labels of
                                the pre-training classes' samples (their true labels are never used) |
                                denoise: pre-train and scout a denoising autoencoder (the model's body as
                                encoder, a linear decoder); each scout reconstructs the samples of
                                --classes-per-scout k-means clusters; downstream arms get a fresh head
      --clusters K              k-means clusters with --objective kmeans or denoise (default: the number
                                of pre-training classes); with kmeans the head needs at least K outputs
      --corruption C            denoise's input corruption: masking:RATE (default masking:0.25) or gaussian:SD
      --scouts N|auto           number of scouts (default 64); auto: add rounds of scouts until the
                                guide's relative change between rounds is below the tolerance
      --auto-batch N            scouts per round with --scouts auto (default 16)
      --auto-tolerance X        relative L2 change that counts as converged (default 0.02)
      --max-scouts N            cap for --scouts auto (default 1024)
      --classes-per-scout K     classes in each scout's subproblem (default 2)
      --samples-per-class N|all samples per class a scout sees (default 40)
      --bootstrap               resample each scout's samples with replacement
      --scout-steps N           steps per scout (default 100)
      --scout-lr X              scout learning rate (default 0.05)
      --scout-optimizer NAME    sgd | momentum | adam (default sgd)
      --statistic NAME          squared (default, the paper's) | absolute | path | fisher
      --normalization SCOPE     tensor (default, the authors' code) | model (the paper's text)
      --focus MODE              minmax (default) | raw | shift | max
      --freeze-top FRACTION     keep the top FRACTION per scope as 1, the rest 0 ("freezing")
      --affine SLOPE,INTERCEPT  max(0, SLOPE*g - INTERCEPT) after normalisation
      --scale X                 multiply guide values by X
      --sparsify-below X        set guide values below X to 0
      --rescale-mean-one        rescale the guide to mean 1 over the model
      --ways N                  classes per episode (default 5)
      --shots LIST              support samples per class, e.g. 1,5 (default)
      --episodes N              test episodes per shot setting (default 400)
      --validation-episodes N   validation episodes for choosing lr and steps (default 80)
      --queries N               query samples per class per episode (default 10)
      --finetune-optimizer NAME sgd | momentum | adam (default adam)
      --learning-rates LIST     each arm's learning-rate grid, e.g. 0.01,0.1 (default 0.001,0.003,...,1)
      --step-counts LIST        each arm's step-count grid, e.g. 10,40,160 (default 10,20,40,80,160,320)
      --arms LIST               evaluate only these arms, e.g. gtl,gtl-mean1 (default: scratch,finetune,
                                gtl,gtl-mean1,last-layer)
    """

    /// Parses a class list such as `0-4`, `5,7,9` or `0-2,7`.
    static func classList(_ text: String) -> [Int]? {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            if ends.count == 1, let v = Int(ends[0]), v >= 0 { out.append(v) }
            else if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a >= 0, a <= b { out += Array(a...b) }
            else { return nil }
        }
        return out.isEmpty ? nil : out
    }

    static func intList(_ text: String) -> [Int]? {
        let v = text.split(separator: ",").map { Int($0) }
        return v.isEmpty || v.contains(where: { $0 == nil || $0! < 1 }) ? nil : v.map { $0! }
    }

    private static func requireAuto(_ job: JobConfig, _ flag: String) throws {
        if job.autoScouts == nil { throw UsageError("--\(flag) only applies with --scouts auto") }
    }

    /// Builds the job from `--job` and the override flags.
    static func parse(_ args: inout Arguments) throws -> JobConfig {
        var job = JobConfig()
        if let path = try args.string("job") {
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("--job: cannot read '\(path)'") }
            do { job = try JobConfig.decode([UInt8](data), source: path) } catch { throw UsageError("--job: \(error)") }
        }
        if let v = try args.string("dataset") { job.dataset = v }
        if let v = try args.string("layers") { job.layers = v }
        if let v = try args.uint64("seed") { job.seed = v }
        if let v = try args.value("pretrain-classes", "a class list like 0-4 or 0,2,4", classList) { job.pretrainClasses = v }
        if let v = try args.value("downstream-classes", "a class list like 5-9", classList) { job.downstreamClasses = v }
        if let v = try args.int("pretrain-steps", in: 0...10_000_000) { job.pretrain.steps = v }
        if let v = try args.choice("objective", ["supervised"] + UnsupervisedObjective.Method.allCases.map(\.rawValue)) {
            job.unsupervised = v == "supervised" ? nil : UnsupervisedObjective(method: .init(rawValue: v)!, clusters: job.pretrainClasses.count)
        }
        if let v = try args.int("clusters", in: 2...100_000) {
            guard job.unsupervised != nil else { throw UsageError("--clusters only applies with --objective kmeans or denoise") }
            job.unsupervised!.clusters = v
        }
        if let v = try args.string("corruption") {
            guard job.unsupervised?.method == .denoise else { throw UsageError("--corruption only applies with --objective denoise") }
            guard let c = Denoising.Corruption(text: v) else {
                throw UsageError("--corruption: '\(v)' is not masking:RATE (0 <= RATE < 1) or gaussian:SD (SD > 0)")
            }
            job.unsupervised!.corruption = c
        }
        if let v = try args.string("scouts") {
            if v == "auto" {
                job.autoScouts = job.autoScouts ?? AutoScouts()
            } else if let n = Int(v), (1...1_000_000).contains(n) {
                job.scouts = n
                job.autoScouts = nil
            } else {
                throw UsageError("--scouts: '\(v)' is not 'auto' or an integer in 1...1000000")
            }
        }
        if let v = try args.int("auto-batch", in: 1...100_000) { try requireAuto(job, "auto-batch"); job.autoScouts!.batch = v }
        if let v = try args.float("auto-tolerance", in: 1e-9...1) { try requireAuto(job, "auto-tolerance"); job.autoScouts!.tolerance = Double(v) }
        if let v = try args.int("max-scouts", in: 1...1_000_000) { try requireAuto(job, "max-scouts"); job.autoScouts!.maxScouts = v }
        if let a = job.autoScouts { job.scouts = a.batch }
        if let v = try args.int("classes-per-scout", in: 2...100_000) { job.classesPerScout = v }
        if let v = try args.string("samples-per-class") {
            if v == "all" { job.samplesPerClass = nil }
            else if let n = Int(v), n >= 1 { job.samplesPerClass = n }
            else { throw UsageError("--samples-per-class: '\(v)' is not a positive integer or 'all'") }
        }
        if args.flag("bootstrap") { job.bootstrap = true }
        if let v = try args.int("scout-steps", in: 1...10_000_000) { job.scout.steps = v }
        if let v = try args.float("scout-lr", in: 1e-9...1e3) { job.scout.optimizer.learningRate = v }
        if let v = try args.choice("scout-optimizer", OptimizerSettings.Kind.allCases.map(\.rawValue)) {
            job.scout.optimizer.kind = OptimizerSettings.Kind(rawValue: v)!
        }
        if let v = try args.choice("statistic", TrajectoryStatistic.allCases.map(\.rawValue)) {
            job.guide.statistic = TrajectoryStatistic(rawValue: v)!
        }
        if let v = try args.choice("normalization", GuideOptions.Scope.allCases.map(\.rawValue)) { job.guide.scope = .init(rawValue: v)! }
        if let v = try args.choice("focus", GuideOptions.Focus.allCases.map(\.rawValue)) { job.guide.focus = .init(rawValue: v)! }
        if let v = try args.float("freeze-top", in: 1e-9...1) { job.guide.temperature = .freeze(fraction: Double(v)) }
        if let v = try args.value("affine", "SLOPE,INTERCEPT", { t -> (Double, Double)? in
            let p = t.split(separator: ",").compactMap { Double($0) }
            return p.count == 2 ? (p[0], p[1]) : nil
        }) {
            job.guide.temperature = .affine(slope: v.0, intercept: v.1)
        }
        if let v = try args.float("scale", in: 0...1e6) { job.guide.scale = Double(v) }
        if let v = try args.float("sparsify-below", in: 0...1e6) { job.guide.sparsifyBelow = Double(v) }
        if args.flag("rescale-mean-one") { job.guide.rescaleToMeanOne = true }
        if let v = try args.int("ways", in: 2...10_000) { job.evaluation.ways = v }
        if let v = try args.value("shots", "a list of positive integers like 1,5", intList) { job.evaluation.shots = v }
        if let v = try args.int("episodes", in: 2...10_000_000) { job.evaluation.testEpisodes = v }
        if let v = try args.int("validation-episodes", in: 1...10_000_000) { job.evaluation.validationEpisodes = v }
        if let v = try args.int("queries", in: 1...100_000) { job.evaluation.queriesPerClass = v }
        if let v = try args.choice("finetune-optimizer", OptimizerSettings.Kind.allCases.map(\.rawValue)) {
            job.evaluation.optimizer = .init(rawValue: v)!
        }
        if let v = try args.value("learning-rates", "a list of positive numbers like 0.01,0.1", floatList) {
            job.evaluation.learningRates = v
        }
        if let v = try args.value("step-counts", "a list of positive integers like 10,40,160", intList) { job.evaluation.stepCounts = v }
        if let v = try args.value("arms", "a list of arms from \(Arm.allCases.map(\.rawValue).joined(separator: ","))", armList) {
            job.evaluation.arms = v
        }
        return job
    }

    static func floatList(_ text: String) -> [Float]? {
        let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0) }
        return v.isEmpty || v.contains(where: { $0 == nil || !$0!.isFinite || $0! <= 0 }) ? nil : v.map { $0! }
    }

    static func armList(_ text: String) -> [Arm]? {
        let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Arm(rawValue: String($0)) }
        return v.isEmpty || v.contains(where: { $0 == nil }) || Set(v.map { $0! }).count != v.count ? nil : v.map { $0! }
    }
}

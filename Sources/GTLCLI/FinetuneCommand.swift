import CBlas
import Foundation
import GTL
import GTLEngine

/// `gtl finetune`: base + guide + data → a fine-tuned model and its accuracy.
struct FinetuneCommand: Command {
    static let summary = "fine-tune a base with guide values on labelled data and evaluate it"
    static let help = """
    Usage: gtl finetune --base BASE.safetensors [--guide GUIDE.safetensors] --classes LIST
                        [--dataset SPEC] [--shots K] [--episodes N] [--lr X] [--steps N]
                        [--optimizer NAME] [--seed S] [--out MODEL.safetensors]
       gtl finetune --train-all --base BASE.safetensors [--guide GUIDE.safetensors] --classes LIST
                        [--dataset SPEC] [--lr X] [--steps N] [--optimizer NAME] [--seed S]
                        --out MODEL.safetensors

    Draws K training samples per class of LIST (an episode; classes map to outputs 0..<N in the
    listed order), fine-tunes the base with updates scaled by the guide values (unguided without
    --guide), and scores the remaining samples of those classes. Repeats over N episodes and
    reports the mean accuracy with a 95 % confidence interval; the model of episode 0 is saved.
      --dataset SPEC    digits (default) | fashion-mnist | idx:IMAGES,LABELS | csv:PATH
      --classes LIST    classes to learn, e.g. 5-9 (at most the head's width)
      --shots K         training samples per class (default 5)
      --episodes N      repeated draws (default 100)
      --lr X            learning rate (default 0.03)
      --steps N         full-batch steps (default 80)
      --optimizer NAME  sgd | momentum | adam (default adam)
      --seed S          seed of the draws (default 1)
      --out FILE        where to save the fine-tuned model of episode 0 (default: not saved)
      --train-all       deterministic run for cross-checks (e.g. against PyTorch): train on ALL samples
                        of LIST in data set order as one full batch for --steps steps (0 allowed),
                        no episodes and no held-out split; reports the training loss and accuracy
                        and saves the model to --out (required)
    """

    let base: URL, guide: URL?, out: URL?
    let dataset: String, classes: [Int]
    let shots: Int, episodes: Int, steps: Int, seed: UInt64
    let optimizer: OptimizerSettings
    let trainAll: Bool

    init(_ args: inout Arguments) throws {
        guard let b = try args.string("base") else { throw UsageError("--base is required") }
        base = URL(fileURLWithPath: b)
        guide = try args.string("guide").map { URL(fileURLWithPath: $0) }
        out = try args.string("out").map { URL(fileURLWithPath: $0) }
        dataset = try args.string("dataset") ?? "digits"
        guard let c = try args.value("classes", "a class list like 5-9", JobOptions.classList) else { throw UsageError("--classes is required") }
        guard c.count >= 2, Set(c).count == c.count else { throw UsageError("--classes: need at least two distinct classes") }
        classes = c
        trainAll = args.flag("train-all")
        let s = try args.int("shots", in: 1...1_000_000), e = try args.int("episodes", in: 1...10_000_000)
        if trainAll {
            guard s == nil, e == nil else { throw UsageError("--train-all trains on every sample of --classes in one batch: drop --shots and --episodes") }
            guard out != nil else { throw UsageError("--train-all needs --out MODEL.safetensors") }
        }
        shots = s ?? 5
        episodes = e ?? 100
        steps = try args.int("steps", in: (trainAll ? 0 : 1)...10_000_000) ?? 80
        seed = try args.uint64("seed") ?? 1
        let kind = try args.choice("optimizer", OptimizerSettings.Kind.allCases.map(\.rawValue)).map { OptimizerSettings.Kind(rawValue: $0)! } ?? .adam
        optimizer = OptimizerSettings(kind, learningRate: try args.float("lr", in: 1e-9...1e3) ?? 0.03)
    }

    func run() throws -> Int32 {
        openblas_set_num_threads(1)
        let (network, spec, _) = try Network.load(from: base)
        let multipliers = try guide.map { try loadGuide($0, for: network) }
        let data = try DatasetSource.load(spec: dataset)
        guard data.featureShape == network.inputShape else {
            throw GTLError("\(dataset): samples have shape \(data.featureShape), the model \(base.path) expects \(network.inputShape)")
        }
        guard classes.count <= network.outputWidth else {
            throw GTLError("\(classes.count) classes do not fit the model's \(network.outputWidth) outputs")
        }
        if let c = classes.first(where: { $0 >= data.classCount }) { throw GTLError("class \(c) is not in \(data.name) (0..<\(data.classCount))") }
        if trainAll { return try runTrainAll(network, spec: spec, multipliers: multipliers, data: data) }
        let pool = Dictionary(uniqueKeysWithValues: classes.map { ($0, data.indices(ofClasses: [$0])) })
        if let (c, s) = pool.first(where: { $0.value.count <= self.shots }) {
            throw GTLError("class \(c) has \(s.count) samples; \(self.shots) shots leave none to score")
        }
        let mapping = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let settings = TrainSettings(steps: steps, batchSize: shots * classes.count, optimizer: optimizer)
        let ways = classes.count
        let classes = self.classes, shots = self.shots, seed = self.seed
        let runs = parallelMap(episodes) { e -> (Double, [Float]) in
            var rng = RandomGenerator(seed: RandomGenerator.derive(seed, 0xF1, UInt64(e)))
            var train: [Int] = [], test: [Int] = []
            for c in classes {
                var s = pool[c]!
                rng.shuffle(&s)
                train += s.prefix(shots)
                test += s.dropFirst(shots)
            }
            var n = network
            Trainer.train(&n, on: Task(data, indices: train, mapping: mapping), settings: settings, multipliers: multipliers, rng: &rng)
            return (Trainer.accuracy(&n, on: Task(data, indices: test, mapping: mapping), classes: ways), e == 0 ? n.parameters : [])
        }
        let acc = Estimate(runs.map(\.0))
        print(String(format: "%d-way %d-shot, %@ lr %g, %d steps, %@: accuracy %.1f%% ± %.1f (95%% CI, %d episodes)",
                     ways, shots, optimizer.kind.rawValue, optimizer.learningRate, steps,
                     multipliers == nil ? "unguided" : "guided", 100 * acc.mean, 100 * acc.ci95, acc.n))
        if let out {
            var model = network
            try model.setParameters(runs[0].1)
            try model.save(to: out, spec: spec, metadata: ["gtl.kind": "finetuned", "gtl.classes": classes.map(String.init).joined(separator: ",")])
            print("wrote \(out.path) (episode 0; classes \(classes) → outputs 0..<\(ways))")
        }
        return ExitCode.success
    }

    /// `--train-all`: one deterministic run that another framework can reproduce exactly — every
    /// sample of the listed classes in data set order, one full batch per step, no shuffling.
    private func runTrainAll(_ base: Network, spec: NetworkSpec, multipliers: [Float]?, data: Dataset) throws -> Int32 {
        let wanted = Set(classes)
        let indices = data.labels.indices.filter { wanted.contains(Int(data.labels[$0])) }
        guard !indices.isEmpty else { throw GTLError("\(data.name) has no samples of classes \(classes)") }
        let mapping = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let task = Task(data, indices: indices, mapping: mapping)
        var network = base
        network.rng = RandomGenerator(seed: RandomGenerator.derive(seed, 0xF1, 0xA11))  // dropout masks only
        func loss(_ n: inout Network) -> Float {
            task.features.withUnsafeBufferPointer { x in
                task.labels.withUnsafeBufferPointer { n.computeGradients(x, targets: .classes($0), batch: task.count, loss: Trainer.loss) }
            }
        }
        var probe = network
        let before = loss(&probe)
        var opt = optimizer.make()
        for _ in 0..<steps {
            _ = loss(&network)   // leaves this step's gradients in the network
            opt.step(&network, multipliers: multipliers)
        }
        probe = network
        let after = loss(&probe)
        let acc = Trainer.accuracy(&network, on: task, classes: classes.count)
        let correct = Int((acc * Double(task.count)).rounded())
        print(String(format: "train-all: %d samples of classes %@ (%@), %@ lr %g, %d steps, %@: training loss %.6f -> %.6f, training accuracy %.2f%% (%d/%d)",
                     task.count, classes.map(String.init).joined(separator: ","), data.name, optimizer.kind.rawValue,
                     optimizer.learningRate, steps, multipliers == nil ? "unguided" : "guided", before, after,
                     100 * acc, correct, task.count))
        if let out {
            try network.save(to: out, spec: spec, metadata: ["gtl.kind": "finetuned", "gtl.classes": classes.map(String.init).joined(separator: ","),
                                                             "gtl.train-all": "\(optimizer.kind.rawValue),lr=\(optimizer.learningRate),steps=\(steps)"])
            print("wrote \(out.path) (classes \(classes) → outputs 0..<\(classes.count))")
        }
        return ExitCode.success
    }
}

import Foundation
import GTLEngine

/// The phases of a GTL job in one process — pre-train, scout, reduce, evaluate — as separate
/// steps, so the cluster can run the same scouting phase on workers and feed the same reducer.
public struct Pipeline: Sendable {
    /// The job.
    public let job: JobConfig
    /// Its data.
    public let data: Dataset
    /// The architecture on this data.
    public let spec: NetworkSpec
    /// What pre-training and scouting learn from: `data` itself, or (unsupervised) the
    /// pre-training classes' samples relabelled with pseudo-labels.
    public let training: Dataset
    /// The classes of `training` that pre-training and scouting use, in head order.
    public let trainingClasses: [Int]
    /// With an unsupervised objective: how the pseudo-labels came out.
    public let pseudoLabels: PseudoLabelSummary?

    /// Loads the data and checks the job against it.
    public init(job: JobConfig) throws {
        let data = try DatasetSource.load(spec: job.dataset)
        try self.init(job: job, data: data)
    }

    /// A pipeline over already loaded data.
    public init(job: JobConfig, data: Dataset) throws {
        try job.validate(data: data)
        self.job = job
        self.data = data
        spec = try job.networkSpec(inputShape: data.featureShape)
        if let u = job.unsupervised {
            let (labelled, summary) = try u.pseudoLabel(data, classes: job.pretrainClasses, seed: RandomGenerator.derive(job.seed, 0xC1A5))
            (training, trainingClasses, pseudoLabels) = (labelled, Array(0..<u.clusters), summary)
        } else {
            (training, trainingClasses, pseudoLabels) = (data, job.pretrainClasses, nil)
        }
    }

    /// Dataset indices of each pre-training class: the pool scouts draw from.
    public var scoutPool: [Int: [Int]] {
        Dictionary(uniqueKeysWithValues: trainingClasses.map { ($0, training.indices(ofClasses: [$0])) })
    }

    /// The scouting plan of the job.
    public var plan: ScoutPlan {
        ScoutPlan(classes: trainingClasses, classesPerScout: job.classesPerScout, samplesPerClass: job.samplesPerClass,
                  bootstrap: job.bootstrap, seed: RandomGenerator.derive(job.seed, 0x5C0))
    }

    /// Pre-trains the base on every training sample (class `trainingClasses[j]` → head output `j`:
    /// the pre-training classes, or the clusters); returns it with its final training loss.
    public func pretrain() throws -> (network: Network, loss: Float) {
        var network = try spec.makeNetwork(seed: RandomGenerator.derive(job.seed, 0xBA5E))
        var rng = RandomGenerator(seed: RandomGenerator.derive(job.seed, 0xBA5F))
        let loss = Trainer.train(&network, on: pretrainingTask, settings: job.pretrain, rng: &rng)
        return (network, loss)
    }

    /// Accuracy of `network` on all of its pre-training data (on the pseudo-labels when unsupervised).
    public func pretrainAccuracy(_ network: Network) -> Double {
        var n = network
        return Trainer.accuracy(&n, on: pretrainingTask, classes: trainingClasses.count)
    }

    /// Every sample of the training classes, labelled with its head position.
    private var pretrainingTask: Task {
        let indices = trainingClasses.flatMap { training.indices(ofClasses: [$0]) }.sorted()
        let mapping = Dictionary(uniqueKeysWithValues: trainingClasses.enumerated().map { ($1, Int32($0)) })
        return Task(training, indices: indices, mapping: mapping)
    }

    /// Runs scout `index` from `base`: a pure function of (job, base, index).
    public func scout(_ index: Int, base: Network) throws -> ScoutResult {
        let pool = scoutPool
        try plan.validate(pool: pool)
        return Scout.run(base: base, data: training, subproblem: plan.subproblem(index, pool: pool),
                         settings: job.scout, statistics: job.recordedStatistics)
    }

    /// Runs `indices` scouts on all local cores and folds them into `reducer` (in index order
    /// here, though the reducer's result would not depend on it). `progress(done)` after each batch.
    @discardableResult
    public func runScouts(_ indices: [Int], base: Network, into reducer: inout GuideReducer,
                          progress: (Int) -> Void = { _ in }) throws -> [Float] {
        let pool = scoutPool
        let plan = self.plan
        try plan.validate(pool: pool)
        var losses: [Float] = []
        let batch = max(1, ProcessInfo.processInfo.activeProcessorCount) * 4
        var start = 0
        while start < indices.count {
            let chunk = Array(indices[start..<min(indices.count, start + batch)])
            let results = parallelMap(chunk.count) { [self] i in
                Scout.run(base: base, data: training, subproblem: plan.subproblem(chunk[i], pool: pool),
                          settings: job.scout, statistics: job.recordedStatistics)
            }
            for r in results { try reducer.add(r); losses.append(r.finalLoss) }
            start += chunk.count
            progress(start)
        }
        return losses
    }

    /// Runs every scout of the job in this process: exactly `job.scouts`, or with `autoScouts`
    /// rounds until the guide converges. Returns the convergence trace of an automatic job.
    public func scoutAll(base: Network, into reducer: inout GuideReducer,
                         progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> ConvergenceReport? {
        var total = job.scouts, done = 0
        var monitor = job.autoScouts.map(ConvergenceMonitor.init)
        while true {
            let start = done
            try runScouts(Array(done..<total), base: base, into: &reducer) { progress(start + $0, total) }
            done = total
            guard var m = monitor else { return nil }
            let decision = m.observe(guide: try reducer.guide(job.guide), scouts: done)
            monitor = m
            switch decision {
            case let .extend(by): total += by
            case .stop: return ConvergenceReport(m)
            }
        }
    }

    /// A reducer for this job's network and statistic.
    public func makeReducer() throws -> GuideReducer {
        GuideReducer(layout: try spec.makeNetwork(seed: 0).layout, statistic: job.guide.statistic)
    }
}

/// Output files of a job, written atomically into one folder.
public struct JobOutputs: Sendable {
    /// The folder.
    public let directory: URL

    /// Outputs in `directory` (created if missing).
    public init(directory: URL) throws {
        self.directory = directory
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw GTLError("\(directory.path): cannot create the output folder: \(error.localizedDescription)") }
    }

    /// `base.safetensors`.
    public var baseURL: URL { directory.appendingPathComponent("base.safetensors") }
    /// `guide.safetensors`.
    public var guideURL: URL { directory.appendingPathComponent("guide.safetensors") }
    /// `scout-means.safetensors`: the unnormalised mean statistic, to re-normalise without re-scouting.
    public var meansURL: URL { directory.appendingPathComponent("scout-means.safetensors") }
    /// `report.json`.
    public var reportURL: URL { directory.appendingPathComponent("report.json") }

    /// Writes the guide values keyed by parameter name, with how they were made in the metadata.
    public func writeGuide(_ guide: [Float], means: [Double], layout: ParameterLayout, spec: NetworkSpec,
                           job: JobConfig, scouts: Int) throws {
        let options = job.guide
        let meta = [
            Network.specMetadataKey: spec.description,
            "gtl.kind": "guide",
            "gtl.statistic": options.statistic.rawValue,
            "gtl.scope": options.scope.rawValue,
            "gtl.focus": options.focus.rawValue,
            "gtl.scouts": String(scouts),
            "gtl.seed": String(job.seed),
        ]
        try Safetensors.write(layout.tensors(from: guide), metadata: meta, to: guideURL)
        var m = meta
        m["gtl.kind"] = "scout-means"
        try Safetensors.write(layout.tensors(from: means.map { Float($0) }), metadata: m, to: meansURL)
    }

    /// Writes any encodable report as pretty, key-sorted JSON.
    public func writeReport<R: Encodable>(_ report: R) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write([UInt8](try e.encode(report)) + [10], to: reportURL)
    }
}

/// Loads guide values for `network` from a safetensors file, checking names and shapes.
public func loadGuide(_ url: URL, for network: Network) throws -> [Float] {
    let file = try Safetensors.read(url)
    let guide = try network.layout.flatten(file.tensors, source: url.path)
    if let bad = guide.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
        throw GTLError("\(url.path): guide value \(guide[bad]) at parameter \(bad) is negative or not finite")
    }
    return guide
}

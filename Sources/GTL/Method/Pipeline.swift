import Foundation
import GTLEngine

/// The phases of a GTL job in one process — pre-train, scout, reduce, evaluate — as separate
/// steps, so the cluster can run the same scouting phase on workers and feed the same reducer.
public struct Pipeline: Sendable {
    /// The job.
    public let job: JobConfig
    /// Its data.
    public let data: Dataset
    /// The architecture on this data: the classifier every downstream arm fine-tunes.
    public let spec: NetworkSpec
    /// The network pre-training and scouts train, and the snapshot workers receive: `spec`
    /// itself, or with `--objective denoise` its autoencoder (`Autoencoder.spec`).
    public let scoutSpec: NetworkSpec
    /// What pre-training and scouting learn from: `data` itself, or (unsupervised) the
    /// pre-training classes' samples relabelled with pseudo-labels.
    public let training: Dataset
    /// The classes of `training` that pre-training and scouting use, in head order.
    public let trainingClasses: [Int]
    /// With an unsupervised objective: how the pseudo-labels came out.
    public let pseudoLabels: PseudoLabelSummary?
    /// Dataset indices of each pre-training class: the pool scouts draw from. Computed once:
    /// a worker runs every scout through `scout(_:base:)`, and recomputing it there (a pass over
    /// the labels per class) cost about as much as a short scout's round trip.
    public let scoutPool: [Int: [Int]]

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
        scoutSpec = job.unsupervised?.denoising == nil ? spec : try Autoencoder.spec(classifier: spec)
        if let u = job.unsupervised {
            let (labelled, summary) = try u.pseudoLabel(data, classes: job.pretrainClasses, seed: RandomGenerator.derive(job.seed, 0xC1A5))
            (training, trainingClasses, pseudoLabels) = (labelled, Array(0..<u.clusters), summary)
        } else {
            (training, trainingClasses, pseudoLabels) = (data, job.pretrainClasses, nil)
        }
        var pool: [Int: [Int]] = Dictionary(uniqueKeysWithValues: trainingClasses.map { ($0, []) })
        for (i, label) in training.labels.enumerated() { pool[Int(label)]?.append(i) }
        scoutPool = pool
    }

    /// The scouting plan of the job.
    public var plan: ScoutPlan {
        ScoutPlan(classes: trainingClasses, classesPerScout: job.classesPerScout, samplesPerClass: job.samplesPerClass,
                  bootstrap: job.bootstrap, seed: RandomGenerator.derive(job.seed, 0x5C0))
    }

    /// Pre-trains the scouted network (`scoutSpec`) on every training sample: class
    /// `trainingClasses[j]` → head output `j` (the pre-training classes, or the clusters), or, for
    /// a denoising autoencoder, each sample's reconstruction. Returns it with its last training loss.
    /// Throws `CancellationError` if `isCancelled` said yes before the last step (asked before
    /// every step, so a signalled coordinator stops within one step, not after the whole run).
    public func pretrain(isCancelled: () -> Bool = { false }) throws -> (network: Network, loss: Float) {
        var network = try scoutSpec.makeNetwork(seed: RandomGenerator.derive(job.seed, 0xBA5E))
        var rng = RandomGenerator(seed: RandomGenerator.derive(job.seed, 0xBA5F))
        let loss: Float
        if let denoising = job.unsupervised?.denoising {
            loss = ReconstructionTrainer.train(&network, on: reconstructionTask, settings: job.pretrain, denoising: denoising,
                                               rng: &rng, isCancelled: isCancelled)
        } else {
            loss = Trainer.train(&network, on: pretrainingTask, settings: job.pretrain, rng: &rng, isCancelled: isCancelled)
        }
        if isCancelled() { throw CancellationError() }
        return (network, loss)
    }

    /// The downstream base from the pre-trained scouted network: itself, or for an autoencoder
    /// the classifier with the encoder's weights and a head initialised from the job seed.
    public func downstreamBase(_ scouted: Network) throws -> Network {
        guard scoutSpec != spec else { return scouted }
        return try Autoencoder.classifier(from: scouted, fresh: try spec.makeNetwork(seed: RandomGenerator.derive(job.seed, 0x4EAD)))
    }

    /// Guide values for the downstream base from guide values over the scouted network
    /// (`Autoencoder.classifierGuide` for an autoencoder: the fresh head gets 1).
    public func downstreamGuide(_ guide: [Float]) throws -> [Float] {
        guard scoutSpec != spec else { return guide }
        return Autoencoder.classifierGuide(guide, autoencoder: try scoutSpec.makeNetwork(seed: 0).layout,
                                           classifier: try spec.makeNetwork(seed: 0).layout)
    }

    /// Accuracy of the pre-trained scouted network on all of its pre-training data (on the
    /// pseudo-labels when unsupervised); nil for an autoencoder, which has no classes.
    public func pretrainAccuracy(_ scouted: Network) -> Double? {
        guard job.unsupervised?.denoising == nil else { return nil }
        var n = scouted
        return Trainer.accuracy(&n, on: pretrainingTask, classes: trainingClasses.count)
    }

    /// Mean squared error of a pre-trained autoencoder reconstructing its clean pre-training
    /// samples; nil for a classifier.
    public func pretrainReconstructionError(_ scouted: Network) -> Double? {
        guard job.unsupervised?.denoising != nil else { return nil }
        var n = scouted
        return ReconstructionTrainer.meanSquaredError(&n, on: reconstructionTask)
    }

    /// Indices of every sample of the training classes, ascending.
    private var pretrainingIndices: [Int] { trainingClasses.flatMap { training.indices(ofClasses: [$0]) }.sorted() }

    /// Every pre-training sample as its own reconstruction target.
    private var reconstructionTask: ReconstructionTask {
        ReconstructionTask(reconstructing: training.subset(pretrainingIndices))
    }

    /// Every sample of the training classes, labelled with its head position.
    private var pretrainingTask: Task {
        let indices = pretrainingIndices
        let mapping = Dictionary(uniqueKeysWithValues: trainingClasses.enumerated().map { ($1, Int32($0)) })
        return Task(training, indices: indices, mapping: mapping)
    }

    /// Runs scout `index` from `base` (a `scoutSpec` network): a pure function of (job, base, index).
    /// Throws `CancellationError` if `isCancelled` said yes before the last step.
    public func scout(_ index: Int, base: Network, isCancelled: () -> Bool = { false }) throws -> ScoutResult {
        let pool = scoutPool
        try plan.validate(pool: pool)
        let result = scout(plan.subproblem(index, pool: pool), base: base, isCancelled: isCancelled)
        if isCancelled() { throw CancellationError() }
        return result
    }

    /// Trains one subproblem with the job's objective.
    private func scout(_ subproblem: Subproblem, base: Network, isCancelled: () -> Bool = { false }) -> ScoutResult {
        if let denoising = job.unsupervised?.denoising {
            return Scout.runReconstruction(base: base, data: training, subproblem: subproblem, settings: job.scout,
                                           denoising: denoising, statistics: job.recordedStatistics, isCancelled: isCancelled)
        }
        return Scout.run(base: base, data: training, subproblem: subproblem, settings: job.scout, statistics: job.recordedStatistics,
                         isCancelled: isCancelled)
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
            let results = parallelMap(chunk.count) { [self] i in scout(plan.subproblem(chunk[i], pool: pool), base: base) }
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

    /// A reducer for this job's scouted network and statistic.
    public func makeReducer() throws -> GuideReducer {
        GuideReducer(layout: try scoutSpec.makeNetwork(seed: 0).layout, statistic: job.guide.statistic)
    }

    /// The downstream guide from the reduced scout means: normalised and adjusted over the
    /// scouted network (as `GuideValues.make`), then mapped onto the downstream base.
    public func guide(means: [Double], layout: ParameterLayout) throws -> [Float] {
        try downstreamGuide(GuideValues.make(means: means, layout: layout, options: job.guide))
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

    /// `base.safetensors`: the model downstream fine-tuning starts from.
    public var baseURL: URL { directory.appendingPathComponent("base.safetensors") }
    /// `autoencoder.safetensors`: with `--objective denoise`, the pre-trained autoencoder the scouts
    /// start from (its encoder is the base's body).
    public var autoencoderURL: URL { directory.appendingPathComponent("autoencoder.safetensors") }

    /// Where the pre-trained network the scouts start from is saved: the base itself, or the
    /// autoencoder when the two differ.
    public func scoutedURL(_ pipeline: Pipeline) -> URL { pipeline.scoutSpec == pipeline.spec ? baseURL : autoencoderURL }

    /// Saves the pre-trained scouted network, and the downstream base derived from it when they
    /// differ; returns the base.
    @discardableResult
    public func savePretrained(_ scouted: Network, pipeline: Pipeline) throws -> Network {
        let meta = ["gtl.seed": String(pipeline.job.seed)]
        let base = try pipeline.downstreamBase(scouted)
        if pipeline.scoutSpec != pipeline.spec {
            try scouted.save(to: autoencoderURL, spec: pipeline.scoutSpec, metadata: meta.merging(["gtl.kind": "autoencoder"]) { $1 })
        }
        try base.save(to: baseURL, spec: pipeline.spec, metadata: meta.merging(["gtl.kind": "base"]) { $1 })
        return base
    }

    /// `guide.safetensors`.
    public var guideURL: URL { directory.appendingPathComponent("guide.safetensors") }
    /// `scout-means.safetensors`: the unnormalised mean statistic, to re-normalise without re-scouting.
    public var meansURL: URL { directory.appendingPathComponent("scout-means.safetensors") }
    /// `report.json`.
    public var reportURL: URL { directory.appendingPathComponent("report.json") }

    /// Writes the guide values keyed by parameter name (over the downstream base), with how they
    /// were made in the metadata, and the scouts' mean statistic over the scouted network.
    public func writeGuide(_ guide: [Float], means: [Double], meansLayout: ParameterLayout, pipeline: Pipeline, scouts: Int) throws {
        let job = pipeline.job, options = job.guide
        let layout = try pipeline.spec.makeNetwork(seed: 0).layout
        var meta = [
            Network.specMetadataKey: pipeline.spec.description,
            "gtl.kind": "guide",
            "gtl.statistic": options.statistic.rawValue,
            "gtl.scope": options.scope.rawValue,
            "gtl.focus": options.focus.rawValue,
            "gtl.scouts": String(scouts),
            "gtl.seed": String(job.seed),
        ]
        try Safetensors.write(layout.tensors(from: guide), metadata: meta, to: guideURL)
        meta["gtl.kind"] = "scout-means"
        meta[Network.specMetadataKey] = pipeline.scoutSpec.description
        try Safetensors.write(meansLayout.tensors(from: means.map { Float($0) }), metadata: meta, to: meansURL)
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

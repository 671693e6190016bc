import CBlas
import Foundation
import GTL
import GTLEngine
import ScoutCluster

/// `gtl run`: the whole pipeline in one command — pre-train, scout, reduce, fine-tune, evaluate.
struct RunCommand: Command {
    static let summary = "run a whole GTL job (default: the embedded digits job)"
    static var help: String {
        """
        Usage: gtl run [--out DIR] [--workers W] [--threads T] [job options]

        Pre-trains a base on the pre-training classes, runs the scouts, reduces their statistics
        into guide values, and evaluates few-shot fine-tuning arms (scratch, fine-tune, GTL,
        GTL rescaled to mean 1, last layer only) on unseen classes. Writes base.safetensors,
        guide.safetensors, scout-means.safetensors and report.json into DIR and prints the table.
          --out DIR       output folder (default gtl-out); a journal there of the same job is resumed
          --workers W     local worker processes, over ipc (default: one per core); 0 trains the
                          scouts in this process instead. Same job and seed: bit-identical guide either way
          --overwrite     discard a journal of another job in DIR instead of refusing
          --threads T     OpenBLAS threads per process (default 1; scouts and episodes already use every core)

        \(JobOptions.help)
        """
    }

    let job: JobConfig
    let out: URL
    let threads: Int
    let workers: Int
    let overwrite: Bool

    init(_ args: inout Arguments) throws {
        out = URL(fileURLWithPath: try args.string("out") ?? "gtl-out")
        threads = try args.int("threads", in: 1...256) ?? 1
        workers = try args.int("workers", in: 0...4096) ?? ProcessInfo.processInfo.activeProcessorCount
        overwrite = args.flag("overwrite")
        job = try JobOptions.parse(&args)
    }

    func run() throws -> Int32 {
        openblas_set_num_threads(Int32(threads))
        var seconds: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t0 = DispatchTime.now().uptimeNanoseconds
            defer { seconds[name] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
            return try body()
        }
        let pipeline = try timed("load") { try Pipeline(job: job) }
        let outputs = try JobOutputs(directory: out)
        note("gtl run: \(pipeline.data.name) (\(pipeline.data.count) samples), model \(pipeline.spec), \(try pipeline.spec.makeNetwork(seed: 0).parameterCount) parameters")

        let base: Network, guide: [Float], scouts: Int, saturated: Int, scoutLoss: [Float]
        var convergence: ConvergenceReport? = nil
        if workers == 0 {
            note("pre-training on classes \(job.pretrainClasses) for \(job.pretrain.steps) steps")
            // Timed like the cluster's "pretrain+scouts": saving the base, reducing and writing
            // the guide included, so the two are comparable (scripts/bench/scouting.py).
            let (network, downstream) = try timed("pretrain") {
                let (network, _) = try pipeline.pretrain()
                return (network, try outputs.savePretrained(network, pipeline: pipeline))
            }
            var reducer = try pipeline.makeReducer()
            var bar = ProgressDisplay("scouts", total: job.scouts)
            (convergence, guide) = try timed("scouts") {
                let c = try pipeline.scoutAll(base: network, into: &reducer) { done, total in bar.total = total; bar.update(done) }
                let m = try reducer.means()
                let g = try pipeline.guide(means: m, layout: reducer.layout)
                try outputs.writeGuide(g, means: m, meansLayout: reducer.layout, pipeline: pipeline, scouts: reducer.count)
                return (c, g)
            }
            (base, scouts, saturated, scoutLoss) = (downstream, reducer.count, reducer.saturated, reducer.scoutLosses)
        } else {
            let journal = out.appendingPathComponent("journal.gtlj")
            if overwrite { try? FileManager.default.removeItem(at: journal) }
            let ipcDir = FileManager.default.temporaryDirectory.appendingPathComponent("gtl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: ipcDir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: ipcDir) }
            var settings = CoordinatorSettings(bind: "ipc://\(ipcDir.path)/coordinator", out: out)
            settings.resume = true
            let stop = StopSignal()
            stop.install()
            defer { stop.uninstall() }
            var local: LocalWorkers? = nil
            defer { local?.terminate() }
            var bar = ProgressDisplay("scouts", total: job.scouts)
            let outcome = try timed("pretrain+scouts") {
                do {
                    return try CoordinatorService(pipeline: pipeline, settings: settings).run(stop: stop, onBound: { endpoint in
                        local = try LocalWorkers(count: workers, endpoint: endpoint, logURL: out.appendingPathComponent("workers.log"),
                                                 extraArguments: ["--threads", String(threads)])
                        note("\(workers) local worker processes (logs: \(out.appendingPathComponent("workers.log").path))")
                    }, progress: { bar.update(Int($0.recorded), extra: "workers \($0.liveWorkers)") })
                } catch let e as ClusterError where e.description.contains("journal") && !overwrite {
                    throw ClusterError("\(e)\n(the journal in \(out.path) belongs to another job: use another --out, or --overwrite to discard it)")
                }
            }
            switch outcome {
            case let .finished(b, g, n, sat, conv, losses):
                (base, guide, scouts, saturated, scoutLoss) = (b, g, n, sat, losses)
                convergence = conv
            case let .interrupted(sig, recorded, total):
                note("stopped by signal \(sig) with \(recorded)/\(total) scouts journalled; run the same command again to resume")
                return ExitCode.interrupted
            }
        }
        let layout = base.layout
        note("evaluating \(job.evaluation.ways)-way episodes on unseen classes \(job.downstreamClasses)")
        let evaluator = Evaluator(job: job, data: pipeline.data, spec: pipeline.spec, base: base, guide: guide)
        var results: [ArmResult] = []
        try timed("evaluate") {
            for shots in job.evaluation.shots { results += try evaluator.evaluate(shots: shots, progress: note) }
        }
        var summary = [GuideValues.summary(name: "(model)", guide[...])]
        for s in layout.specs { summary.append(GuideValues.summary(name: s.name, guide[s.range])) }
        let scouted = pipeline.scoutSpec == pipeline.spec ? base : try Network.load(from: outputs.autoencoderURL).network
        let report = RunReport(job: job, architecture: pipeline.spec.description, protocolNotes: RunReport.protocolNotes(job),
                               baseTrainAccuracy: pipeline.pretrainAccuracy(scouted),
                               baseReconstructionError: pipeline.pretrainReconstructionError(scouted), pseudoLabels: pipeline.pseudoLabels, scouts: scouts,
                               saturatedValues: saturated, convergence: convergence, scoutLoss: scoutLoss, guideSummary: summary,
                               results: results, seconds: seconds)
        try outputs.writeReport(report)
        print(ResultsTable.render(results, ways: job.evaluation.ways))
        print("guide values: mean \(String(format: "%.3f", summary[0].mean)), median \(String(format: "%.3f", summary[0].p50)), \(String(format: "%.0f", 100 * summary[0].nearZero))% below 0.01 (statistic \(job.guide.statistic.rawValue), \(job.guide.focus.rawValue) per \(job.guide.scope.rawValue))")
        if let c = convergence {
            print(c.converged ? "--scouts auto: the guide converged after \(c.scouts) scouts (relative change \(String(format: "%.4f", c.trace.last?.relativeChange ?? 0)) < \(job.autoScouts!.tolerance))"
                              : "--scouts auto: stopped at the cap of \(c.scouts) scouts without converging")
        }
        print("wrote \(outputs.baseURL.path), \(outputs.guideURL.path), \(outputs.reportURL.path)")
        return ExitCode.success
    }
}

/// The arms side by side, as `gtl run` prints them.
enum ResultsTable {
    static func render(_ results: [ArmResult], ways: Int) -> String {
        func pad(_ t: String, _ n: Int) -> String { t.padding(toLength: max(n, t.count), withPad: " ", startingAt: 0) }
        var s = "episodes  arm         lr      steps  val acc  test acc (95% CI)       vs fine-tune (paired)\n"
        for r in results {
            let diff = r.differenceToFinetune.map { String(format: "%+5.1f ± %.1f", 100 * $0.mean, 100 * $0.ci95) } ?? "-"
            s += pad("\(ways)w\(r.shots)s", 10) + pad(r.arm.rawValue, 12) + pad(String(format: "%g", r.learningRate), 8)
                + pad(String(r.steps) + (r.atGridEdge ? "*" : ""), 7) + pad(String(format: "%.1f%%", 100 * r.validationAccuracy), 9)
                + pad(String(format: "%.1f%% ± %.1f (n=%d)", 100 * r.test.mean, 100 * r.test.ci95, r.test.n), 24) + diff + "\n"
        }
        if results.contains(where: \.atGridEdge) {
            s += "* the chosen step count or learning rate is at an end of its grid (the best may lie beyond)\n"
        }
        return s
    }
}

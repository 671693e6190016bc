import CBlas
import Foundation
import GTL
import GTLEngine
import ScoutCluster

/// Flags shared by the cluster commands.
enum ClusterOptions {
    static func logFormat(_ args: inout Arguments) throws -> ClusterLog.Format {
        try args.choice("log-format", ClusterLog.Format.allCases.map(\.rawValue)).map { ClusterLog.Format(rawValue: $0)! } ?? .text
    }

    static func heartbeat(_ args: inout Arguments) throws -> Duration {
        .milliseconds(try args.int("heartbeat-ms", in: 10...600_000) ?? 1000)
    }
}

/// `gtl coordinator`: serves a job's scouts to workers and reduces their results.
struct CoordinatorCommand: Command {
    static let summary = "serve a job's scouts to workers over ZeroMQ and reduce their results"
    static var help: String {
        """
        Usage: gtl coordinator --bind ENDPOINT --out DIR [--resume] [security] [job options]

        Pre-trains the base (or, with --resume, reuses the one in DIR), then hands scouts to any
        number of workers (`gtl worker --connect ...`), which may join and leave at any time.
        Every reduced scout is journalled (DIR/journal.gtlj, checksummed and fsync'd); --resume
        continues a killed or stopped job without redoing a journalled scout. Exits 0 when the
        guide is written (DIR/guide.safetensors), 1 when the job failed, 2 on a usage error, and
        3 when stopped by SIGINT/SIGTERM/SIGUSR1 (resume with --resume).
          --bind ENDPOINT        tcp://HOST:PORT or ipc://PATH
          --out DIR              output folder
          --resume               continue the job journalled in DIR
          --curve-secret FILE    the coordinator's CURVE secret key (gtl keys generate)
          --allow FILE|DIR       public keys of the workers allowed in (required with CURVE)
          --insecure             allow a non-loopback bind without CURVE
          --heartbeat-ms N       heartbeat interval (default 1000; silent 3 = suspect, 6 = dead)
          --log-format FORMAT    text (default) | json

        \(JobOptions.help)
        """
    }

    let job: JobConfig
    let settings: CoordinatorSettings

    init(_ args: inout Arguments) throws {
        guard let bind = try args.string("bind") else { throw UsageError("--bind is required (e.g. tcp://0.0.0.0:5555)") }
        guard let out = try args.string("out") else { throw UsageError("--out is required") }
        var s = CoordinatorSettings(bind: bind, out: URL(fileURLWithPath: out))
        s.resume = args.flag("resume")
        s.insecure = args.flag("insecure")
        s.curveSecretKeyFile = try args.string("curve-secret")
        s.allowList = try args.string("allow")
        if s.allowList != nil && s.curveSecretKeyFile == nil { throw UsageError("--allow needs --curve-secret") }
        s.heartbeat = try ClusterOptions.heartbeat(&args)
        s.log = ClusterLog(format: try ClusterOptions.logFormat(&args), source: "coordinator")
        settings = s
        job = try JobOptions.parse(&args)
    }

    func run() throws -> Int32 {
        openblas_set_num_threads(1)
        let stop = StopSignal()
        stop.install([SIGINT, SIGTERM, SIGUSR1])
        let service = try CoordinatorService(pipeline: try Pipeline(job: job), settings: settings)
        var bar = ProgressDisplay("scouts", total: job.scouts)
        var lastJSON = DispatchTime.now().uptimeNanoseconds
        var first: (time: UInt64, recorded: UInt64)? = nil   // rate counts this run's scouts, not journalled ones
        let outcome = try service.run(stop: stop, progress: { status in
            if settings.log.format == .json {
                // Batch logs get a structured progress event at most every 5 s (and at the end).
                let now = DispatchTime.now().uptimeNanoseconds
                let start = first ?? (now, status.recorded)
                first = start
                guard now - lastJSON > 5_000_000_000 || status.recorded == status.total else { return }
                lastJSON = now
                let seconds = Double(now - start.time) / 1e9, done = Double(status.recorded - min(status.recorded, start.recorded))
                let rate = seconds > 0 ? done / seconds : 0
                var fields = [
                    "recorded": String(status.recorded), "total": String(status.total), "in_flight": String(status.inFlight),
                    "live_workers": String(status.liveWorkers), "suspect_workers": String(status.suspectWorkers),
                    "rate_per_s": String(format: "%.3f", rate)]
                if rate > 0 { fields["eta_s"] = String(format: "%.0f", Double(status.total - status.recorded) / rate) }
                settings.log.event("progress", "\(status.recorded)/\(status.total) scouts", fields)
                return
            }
            bar.total = Int(status.total)
            bar.update(Int(status.recorded), extra: "workers \(status.liveWorkers)" + (status.suspectWorkers > 0 ? " (+\(status.suspectWorkers) suspect)" : ""))
        })
        switch outcome {
        case let .finished(_, _, scouts, _, convergence, _):
            print("guide values from \(scouts) scouts: \(settings.out.appendingPathComponent("guide.safetensors").path)")
            if let c = convergence {
                print(c.converged ? "--scouts auto: converged after \(c.scouts) scouts" : "--scouts auto: stopped at the cap of \(c.scouts) scouts without converging")
            }
            return ExitCode.success
        case let .interrupted(sig, recorded, total):
            note("stopped by signal \(sig) with \(recorded)/\(total) scouts journalled; continue with --resume")
            return ExitCode.interrupted
        }
    }
}

/// `gtl worker`: trains scouts for a coordinator.
struct WorkerCommand: Command {
    static let summary = "train scouts for a coordinator until the job is over"
    static let help = """
    Usage: gtl worker --connect ENDPOINT [--threads N] [--name NAME] [security]

    Connects to a coordinator, trains the scouts it hands out, and exits 0 when the coordinator
    says the job is over (1 if the job failed). Reconnects with backoff when the coordinator goes
    away. SIGINT/SIGTERM stop it (exit 3); an unfinished scout is requeued by the coordinator.
      --connect ENDPOINT     tcp://HOST:PORT or ipc://PATH
      --threads N            OpenBLAS threads for this worker (default 1: run one worker per core)
      --name NAME            shown in the coordinator's logs (default HOST-PID)
      --curve-secret FILE    this worker's CURVE secret key (its public key must be on the coordinator's --allow list)
      --server-key KEY|FILE  the coordinator's CURVE public key
      --heartbeat-ms N       heartbeat interval (default 1000)
      --give-up-after S      exit 1 after S seconds without any coordinator (default 600; 0: never)
      --prefetch N           tasks held behind the one training, so the next scout is on hand when one ends (default 1; 0: one at a time)
      --log-format FORMAT    text (default) | json
    """

    let settings: WorkerSettings

    init(_ args: inout Arguments) throws {
        guard let connect = try args.string("connect") else { throw UsageError("--connect is required (e.g. tcp://coordinator:5555)") }
        let name = try args.string("name") ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var s = WorkerSettings(connect: connect, name: name)
        s.threads = try args.int("threads", in: 1...256) ?? 1
        s.curveSecretKeyFile = try args.string("curve-secret")
        s.serverKey = try args.string("server-key")
        if (s.curveSecretKeyFile == nil) != (s.serverKey == nil) {
            throw UsageError("CURVE needs both --curve-secret and --server-key")
        }
        s.heartbeat = try ClusterOptions.heartbeat(&args)
        let giveUp = try args.int("give-up-after", in: 0...10_000_000) ?? 600
        s.giveUpAfter = giveUp == 0 ? nil : .seconds(giveUp)
        s.prefetch = try args.int("prefetch", in: 0...(WorkerConfig.maxCapacity - 1)) ?? 1
        s.log = ClusterLog(format: try ClusterOptions.logFormat(&args), source: "worker \(name)")
        settings = s
    }

    func run() throws -> Int32 {
        openblas_set_num_threads(Int32(settings.threads))
        let stop = StopSignal()
        stop.install()
        switch try WorkerService(settings: settings).run(stop: stop) {
        case .some(true): return ExitCode.success
        case .some(false): return ExitCode.failure
        case .none: return ExitCode.interrupted
        }
    }
}

/// `gtl keys generate`: CURVE key pairs for coordinators and workers.
struct KeysCommand: Command {
    static let summary = "generate CURVE key pairs (NAME.key secret, NAME.pub public)"
    static let help = """
    Usage: gtl keys generate --out DIR --name NAME [--force]

    Writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public). Give the coordinator its
    .key with --curve-secret and the workers' .pub files as its --allow list; give each worker its
    own .key and the coordinator's .pub as --server-key.
      --force   overwrite existing files
    """

    let dir: String, name: String, force: Bool

    init(_ args: inout Arguments) throws {
        guard args.positional() == "generate" else { throw UsageError("expected 'gtl keys generate'") }
        guard let d = try args.string("out") else { throw UsageError("--out DIR is required") }
        guard let n = try args.string("name"), !n.isEmpty, !n.contains("/") else { throw UsageError("--name NAME is required (no '/')") }
        dir = d; name = n
        force = args.flag("force")
    }

    func run() throws -> Int32 {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let paths = try CurveKeyFiles.writeKeyPair(try CurveKeyPair.generate(), directory: dir, name: name, overwrite: force)
        print("secret key: \(paths.secretKeyPath)\npublic key: \(paths.publicKeyPath)")
        return ExitCode.success
    }
}

/// `gtl extend`: asks a running (or later resumed) coordinator for more scouts.
struct ExtendCommand: Command {
    static let summary = "raise the scout count of a running coordinator job"
    static let help = """
    Usage: gtl extend --out DIR --scouts N

    Writes DIR/control.json; the coordinator writing to DIR (running now, or resumed later) adds
    scouts until the job has N. Lowering the count has no effect: journalled scouts are kept.
    """

    let out: URL, scouts: Int

    init(_ args: inout Arguments) throws {
        guard let o = try args.string("out") else { throw UsageError("--out DIR is required (the coordinator's output folder)") }
        guard let n = try args.int("scouts", in: 1...1_000_000) else { throw UsageError("--scouts N is required") }
        out = URL(fileURLWithPath: o)
        scouts = n
    }

    func run() throws -> Int32 {
        guard FileManager.default.fileExists(atPath: out.appendingPathComponent("journal.gtlj").path) else {
            throw ClusterError("\(out.path) holds no coordinator journal: is --out the coordinator's output folder?")
        }
        try ControlFile(scouts: scouts).write(in: out)
        print("asked the coordinator of \(out.path) for \(scouts) scouts in all")
        return ExitCode.success
    }
}

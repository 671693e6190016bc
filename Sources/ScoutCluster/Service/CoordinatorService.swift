import Dispatch
import Foundation
import GTL
import GTLEngine
import ScoutWire

/// How a coordinator is run: where it listens, where it writes, and its security.
public struct CoordinatorSettings: Sendable {
    /// ZeroMQ endpoint to bind (`tcp://HOST:PORT`, `ipc://PATH`).
    public var bind: String
    /// Output folder: base, guide, journal.
    public var out: URL
    /// Continue from the journal in `out` instead of starting fresh.
    public var resume = false
    /// Allow a non-loopback bind without CURVE.
    public var insecure = false
    /// The coordinator's CURVE secret key file (enables CURVE).
    public var curveSecretKeyFile: String?
    /// File or folder of worker public keys allowed to connect (required with CURVE).
    public var allowList: String?
    /// Heartbeat interval; a worker silent for 3 is suspect, for 6 dead.
    public var heartbeat: Duration = .seconds(1)
    /// Largest frame accepted (libzmq drops a connection that sends more).
    public var maxMessageBytes = WireMessage.defaultMaxBytes
    /// Logging.
    public var log = ClusterLog(format: .text, source: "coordinator")

    /// Settings for a coordinator bound to `bind` writing to `out`.
    public init(bind: String, out: URL) {
        self.bind = bind
        self.out = out
    }
}

/// How a coordinator's run ended.
public enum CoordinatorOutcome: Sendable {
    /// Every scout is reduced and the outputs are written.
    /// `scoutLoss` is each scout's final loss in index order (its convergence).
    case finished(base: Network, guide: [Float], scouts: Int, saturated: Int, convergence: ConvergenceReport?, scoutLoss: [Float])
    /// Stopped by a signal; the journal holds every recorded scout (`--resume` continues).
    case interrupted(signal: Int32, recorded: Int, total: Int)
}

/// The coordinator's shell: it owns the socket, the clock, the journal and the files, and
/// drives the pure `CoordinatorCore` with what arrives, executing the directives it returns.
public final class CoordinatorService {
    /// The job.
    public let pipeline: Pipeline
    /// How it is run.
    public let settings: CoordinatorSettings
    let outputs: JobOutputs
    var journalPath: String { Self.journalPath(in: settings.out) }
    static func journalPath(in out: URL) -> String { out.appendingPathComponent("journal.gtlj").path }

    /// A coordinator for `pipeline`'s job.
    public init(pipeline: Pipeline, settings: CoordinatorSettings) throws {
        self.pipeline = pipeline
        self.settings = settings
        outputs = try JobOutputs(directory: settings.out)
    }

    /// The downstream base and the snapshot scouts start from (the base's file, or with an
    /// autoencoder objective the autoencoder's): pre-trained now, or (on resume) the ones already
    /// in the output folder.
    /// Static, so it can run on its own thread while the poll loop serves the lobby.
    /// `stop` cancels pre-training (it then throws `CancellationError`).
    private static func prepareBase(pipeline: Pipeline, settings: CoordinatorSettings, outputs: JobOutputs,
                                    stop: StopSignal) throws -> (Network, [UInt8]) {
        let journalPath = journalPath(in: settings.out)
        let journalExists = FileManager.default.fileExists(atPath: journalPath)
        let scoutedURL = outputs.scoutedURL(pipeline)
        if settings.resume, journalExists, FileManager.default.fileExists(atPath: scoutedURL.path),
           FileManager.default.fileExists(atPath: outputs.baseURL.path) {
            func load(_ url: URL, expecting expected: NetworkSpec) throws -> Network {
                let (network, spec, _) = try Network.load(from: url)
                guard spec == expected else { throw ClusterError("\(url.path): its architecture \(spec) is not this job's \(expected)") }
                return network
            }
            let base = try load(outputs.baseURL, expecting: pipeline.spec)
            if scoutedURL != outputs.baseURL { _ = try load(scoutedURL, expecting: pipeline.scoutSpec) }
            return (base, try AtomicFile.read(scoutedURL))
        }
        if journalExists && !settings.resume {
            throw ClusterError("\(journalPath) exists: pass --resume to continue that job, or choose another --out")
        }
        settings.log.event("pretrain", "pre-training on classes \(pipeline.job.pretrainClasses) for \(pipeline.job.pretrain.steps) steps")
        let (network, _) = try pipeline.pretrain(isCancelled: { stop.isRequested })
        let base = try outputs.savePretrained(network, pipeline: pipeline)
        return (base, try AtomicFile.read(scoutedURL))
    }

    /// Runs the job to the end (or until `stop`); `onBound` gets the bound endpoint as soon as
    /// workers can connect, which is before pre-training (they wait in the lobby), and
    /// `progress` the status after every change.
    public func run(stop: StopSignal, onBound: (String) throws -> Void = { _ in },
                    progress: (CoordinatorStatus) -> Void = { _ in }) throws -> CoordinatorOutcome {
        let job = pipeline.job
        // The journal is bound to what determines scout results, not to evaluation settings.
        let identity = try job.scoutingIdentity.encoded()
        let jobID = String(hexString(SHA256.hash(identity)).prefix(16))
        let incarnation = UInt64.random(in: 1...UInt64.max)

        // The socket first, with CURVE and a ZAP allow-list when keys are given, so workers
        // started with the coordinator wait in the lobby while the base is pre-trained.
        let context = try ZmqContext()
        defer { context.shutdown() }
        let (router, authenticator) = try makeRouter(context: context)
        defer { authenticator?.stop() }
        defer { router.close() }
        let endpoint = try router.bind(settings.bind, insecure: settings.insecure)
        settings.log.event("listen", "job \(jobID): listening on \(endpoint)" + (authenticator != nil ? " (CURVE)" : ""))
        try onBound(endpoint)

        let clock = ContinuousClock()
        let started = clock.now
        func now() -> Instant { Instant(clock.now - started) }
        // The job spec does not depend on the base: workers get it in the lobby and load their data
        // while the base is pre-trained.
        let jobSpec = try JobPackage(job: job, datasetSHA256: hexString(ContentHash.dataset(pipeline.data))).encoded()
        var lobby = CoordinatorLobby(incarnation: incarnation, heartbeatInterval: settings.heartbeat,
                                     announce: JobAnnounce(jobID: jobID, jobSpec: jobSpec))
        let (pipeline, settings, outputs) = (self.pipeline, self.settings, self.outputs)
        guard let (base, snapshot) = try waitInLobby(&lobby, router: router, jobID: jobID, stop: stop, now: now, prepare: {
            try Self.prepareBase(pipeline: pipeline, settings: settings, outputs: outputs, stop: stop)
        }) else {
            settings.log.event("stop", "stopping on signal \(stop.signal) before the job started: nothing journalled")
            return .interrupted(signal: stop.signal, recorded: 0, total: job.scouts)
        }
        let snapshotHash = SHA256.hash(snapshot)
        let header = JournalHeader(jobID: jobID, jobSpec: identity, snapshotHash: snapshotHash)

        // The journal: replay what is there (resume) or start a new one bound to this job.
        var reducer = try pipeline.makeReducer()
        let replay = try openJournal(header: header, into: &reducer)
        let journal = replay.journal, completed = replay.completed, total = replay.total, stoppedEarly = replay.stoppedEarly
        var monitor = replay.monitor

        var core = try CoordinatorCore(config: CoordinatorConfig(
            jobID: jobID, taskCount: UInt64(total), snapshotHash: snapshotHash, snapshotSize: UInt64(snapshot.count),
            jobSpec: jobSpec, incarnation: incarnation, heartbeatInterval: settings.heartbeat),
            completed: completed)
        settings.log.event("start", "job \(jobID): \(job.autoScouts == nil ? "\(total)" : "auto (rounds of \(job.scouts))") scouts, snapshot \(snapshot.count) bytes; handing out tasks (\(lobby.waiting.count) worker\(lobby.waiting.count == 1 ? "" : "s") already connected)")

        var peers = Set(lobby.waiting)
        var sendBuffer: [UInt8] = []
        var peerBuffer: [UInt8] = [], payload: [UInt8] = []
        var outcome: CoordinatorOutcome? = nil
        var failure: String? = nil
        let parameterCount = reducer.layout.totalCount
        // The bytes of the message being handled, so a result is journalled as it arrived.
        var envelope: [UInt8]? = nil
        // The end of a round, computed off the poll thread while the loop goes on (and the
        // finished core keeps heartbeating).
        var finishing: Background<RoundEnd>? = nil

        /// Sends what `sendBuffer` holds.
        func sendEncoded(to peer: PeerID) throws {
            if try router.send(to: peer.bytes, sendBuffer) != .sent {
                settings.log.event("drop", "could not send to \(peer) (disconnected)")
            }
        }
        func send(_ peer: PeerID, _ message: WireMessage) throws {
            message.encode(into: &sendBuffer)
            try sendEncoded(to: peer)
        }

        func execute(_ directives: [CoordinatorDirective]) throws {
            for d in directives {
                switch d {
                case let .send(peer, message):
                    try send(peer, message)
                case let .sendChunk(peer, hash, offset, length):
                    let start = Int(offset), end = min(snapshot.count, start + length)
                    snapshot.withUnsafeBytes { all in
                        WireMessage.encodeSnapshotChunk(snapshotHash: hash, offset: offset, totalSize: UInt64(snapshot.count),
                                                        data: UnsafeRawBufferPointer(rebasing: all[start..<end]), into: &sendBuffer)
                    }
                    try sendEncoded(to: peer)
                case let .record(result):
                    try journal.append(envelope.map { Journal.resultRecord(taskID: result.taskID, envelope: $0) } ?? Journal.resultRecord(result))
                    try reducer.add(try ResultConversion.fromWire(result))
                case let .workerJoined(peer, inc):
                    settings.log.event("join", "worker \(peer) joined (incarnation \(String(inc, radix: 16)))", ["worker": "\(peer)"])
                case let .workerSuspect(peer, _):
                    settings.log.event("suspect", "worker \(peer) is silent: suspect", ["worker": "\(peer)"])
                case let .workerDead(peer, _):
                    settings.log.event("dead", "worker \(peer) is dead", ["worker": "\(peer)"])
                case let .requeued(task, reason):
                    settings.log.event("requeue", "scout \(task) requeued: \(reason)", ["task": String(task)])
                case .finished:
                    try journal.sync()
                    finishing = Background(RoundEnd.work(
                        reducer: reducer, monitor: stoppedEarly ? nil : monitor, scouts: Int(core.status.recorded),
                        pipeline: pipeline, outputs: outputs))
                case let .failed(reason):
                    for p in peers.sorted() { try send(p, .jobOver(JobOver(jobID: jobID, reason: reason, success: false))) }
                    failure = reason
                case let .log(text):
                    settings.log.event("protocol", text)
                }
            }
        }

        /// A result whose statistics do not fit this job becomes an error report, so the core
        /// requeues the task (counting an attempt) instead of recording garbage.
        func vet(_ message: WireMessage) -> WireMessage {
            guard case let .result(r) = message else { return message }
            do {
                let converted = try ResultConversion.fromWire(r)
                guard let values = converted.statistics[job.guide.statistic] else {
                    throw ClusterError("result lacks the '\(job.guide.statistic.rawValue)' statistic")
                }
                guard values.count == parameterCount else {
                    throw ClusterError("result has \(values.count) values, the model \(parameterCount)")
                }
                if let bad = values.first(where: { !$0.isFinite || $0 < 0 }) {
                    throw ClusterError("result contains the invalid value \(bad) (diverged scout?)")
                }
                return message
            } catch {
                return .error(ErrorReport(code: ClusterErrorCode.taskFailed.rawValue, message: "invalid result: \(error)", taskID: r.taskID))
            }
        }

        /// Applies what the round's end decided: more scouts, or the job is over.
        func endRound(_ result: RoundEnd) throws {
            switch result {
            case let .failed(error):
                throw error
            case let .extend(by, m):
                monitor = m
                logRound(m)
                try execute(core.handle(.extend(by: by)))
            case let .done(guide, m):
                if let m {
                    if m.trace.count > (monitor?.trace.count ?? 0) { logRound(m) }
                    monitor = m
                }
                for p in peers.sorted() { try send(p, .jobOver(JobOver(jobID: jobID, reason: "all \(reducer.count) scouts reduced", success: true))) }
                let report = monitor.map(ConvergenceReport.init)
                if let r = report {
                    settings.log.event("converged", r.converged ? "guide converged after \(r.scouts) scouts" : "stopped at the cap of \(r.scouts) scouts without converging")
                }
                outcome = .finished(base: base, guide: guide, scouts: reducer.count, saturated: reducer.saturated, convergence: report,
                                    scoutLoss: reducer.scoutLosses)
            }
        }

        func logRound(_ m: ConvergenceMonitor) {
            guard let point = m.trace.last else { return }
            settings.log.event("round", "\(point.scouts) scouts: relative change \(point.relativeChange.map { String(format: "%.4f", $0) } ?? "-"), rank correlation \(point.rankCorrelation.map { String(format: "%.4f", $0) } ?? "-")")
        }

        // The workers that waited in the lobby join now, in the order they came.
        try execute(core.handle(.admit(lobby.admissions, now: now())))
        if completed.count >= total { try execute([.finished]) }
        var controlStamp = ControlFile.stamp(in: settings.out)
        progress(core.status)
        var lastTick = now()
        while outcome == nil && failure == nil {
            if stop.isRequested {
                // A round's end still computing finishes first: no thread may be left working
                // (and writing files) while the process exits.
                while let f = finishing, f.result == nil { _ = try router.waitReadable(timeoutMs: 50, or: f.done.readEnd) }
                try journal.sync()
                let s = core.status
                settings.log.event("stop", "stopping on signal \(stop.signal): \(s.recorded)/\(s.total) scouts journalled; continue with --resume")
                return .interrupted(signal: stop.signal, recorded: Int(s.recorded), total: Int(s.total))
            }
            var changed = false
            // While the round's end runs in the background, its thread wakes the poll when done:
            // the job's last step should not wait on an idle socket.
            let readable = try finishing.map { try router.waitReadable(timeoutMs: 50, or: $0.done.readEnd).socket }
                ?? router.waitReadable(timeoutMs: 50)
            if readable {
                try drainFrames(router, peer: &peerBuffer, payload: &payload, now: now) { peer, event, frame in
                    var event = event
                    if frame != nil { peers.insert(peer) }
                    if case let .message(_, message, at) = event { event = .message(from: peer, vet(message), now: at) }
                    envelope = frame
                    defer { envelope = nil }   // before the next receive reuses `payload`: no copy
                    try execute(core.handle(event))
                    changed = true
                    return outcome == nil && failure == nil
                }
            }
            let t = now()
            if let result = finishing?.result {
                finishing = nil
                try endRound(result)
            }
            if t - lastTick >= .milliseconds(100) {
                try execute(core.handle(.tick(now: t)))
                lastTick = t
                // `gtl extend` writes the control file; apply a raised scout count while running
                // (not while a round's end is being computed: it decides the count then).
                let stamp = ControlFile.stamp(in: settings.out)
                if stamp != controlStamp, outcome == nil, finishing == nil {
                    controlStamp = stamp
                    if let wanted = ControlFile.read(in: settings.out)?.scouts {
                        let current = Int(core.status.total)
                        if job.autoScouts != nil {
                            settings.log.event("extend", "ignored \(ControlFile.name): --scouts auto decides the count itself")
                        } else if wanted > current {
                            settings.log.event("extend", "extending the job from \(current) to \(wanted) scouts")
                            try execute(core.handle(.extend(by: wanted - current)))
                        }
                    }
                }
            }
            try journal.sync()
            if changed { progress(core.status) }
        }
        progress(core.status)
        if let failure { throw ClusterError("job failed: \(failure)") }
        return outcome!
    }
}

import Foundation
import GTL
import GTLEngine
import ScoutWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a worker is run.
public struct WorkerSettings: Sendable {
    /// The coordinator's endpoint.
    public var connect: String
    /// Name shown in the coordinator's logs (host and process id by default).
    public var name: String
    /// OpenBLAS threads (the caller sets them; reported to the coordinator).
    public var threads: Int = 1
    /// The worker's own CURVE secret key file, with `serverKey` (enables CURVE).
    public var curveSecretKeyFile: String?
    /// The coordinator's CURVE public key (Z85 text, or a file holding it).
    public var serverKey: String?
    /// Heartbeat interval; the coordinator is presumed gone after 3 silent intervals.
    public var heartbeat: Duration = .seconds(1)
    /// Largest frame accepted.
    public var maxMessageBytes = WireMessage.defaultMaxBytes
    /// Give up (exit as failed) after hearing nothing from any coordinator for this long, so a
    /// worker whose job ended while it was cut off does not retry forever; nil: never.
    public var giveUpAfter: Duration? = .seconds(600)
    /// Tasks held behind the one training (`WorkerConfig.capacity` minus 1): with 1, the next
    /// assignment is already here when a scout ends, so no round trip idles the worker.
    public var prefetch = 1
    /// Logging.
    public var log: ClusterLog

    /// The coordinator's public key from `--server-key`: the content of a key file, or Z85 text.
    /// A file wins: a 40-character path is also valid Z85 text, and was once taken for a key.
    public static func resolveServerKey(_ text: String) throws -> String {
        if FileManager.default.fileExists(atPath: text) { return try CurveKeyFiles.readPublicKey(file: text) }
        if Z85Key.isValid(text) { return text }
        throw ClusterError("--server-key: '\(text)' is neither a readable key file nor a 40-character Z85 public key")
    }

    /// Settings for a worker of `connect`.
    public init(connect: String, name: String) {
        self.connect = connect
        self.name = name
        log = ClusterLog(format: .text, source: "worker \(name)")
    }
}

/// The worker's shell: a DEALER socket, a training thread, the snapshot cache, driven by the
/// pure `WorkerCore`. Heartbeats keep flowing while a scout trains on its own thread.
public final class WorkerService {
    /// How it runs.
    public let settings: WorkerSettings
    private let mailbox = Mailbox()

    /// Outcomes posted by training threads, drained by the service loop. Posting also signals
    /// a pipe that the loop polls with its socket, so a finished scout is picked up at once
    /// instead of at the next poll timeout (which cost ~20 ms per scout).
    private final class Mailbox: Sendable {
        private let items = Mutex<[TrainingOutcome]>([])
        let wakeup = WakeupPipe()
        /// Set when the worker exits: a scout in training stops at its next step.
        let cancelled = Atomic<Bool>(false)
        /// Training threads not yet finished.
        private let running = Mutex(0)

        func started() { running.withLock { $0 += 1 } }
        func ended() { running.withLock { $0 -= 1 } }

        /// Stops any scout in training and waits until its thread is done: a process must not
        /// exit while a thread computes inside OpenBLAS (its teardown then crashes or hangs the
        /// exit), and a worker told the job is over, or signalled, may be mid-scout.
        func stopTraining() {
            cancelled.store(true, ordering: .relaxed)
            while running.withLock({ $0 }) > 0 { usleep(1000) }
        }

        func post(_ o: TrainingOutcome) {
            items.withLock { $0.append(o) }
            wakeup.signal()
        }

        func drain() -> [TrainingOutcome] {
            wakeup.drain()
            return items.withLock { box in defer { box = [] }; return box }
        }
    }

    /// What the training thread hands back to the loop (which stamps it with the time).
    private enum TrainingOutcome: Sendable { case finished(ScoutWire.ScoutResult), failed(String) }
    private var snapshots: [[UInt8]: [UInt8]] = [:]
    private var fetchBuffer: [UInt8] = []
    private var cachedJob: (spec: [UInt8], pipeline: Pipeline)?
    private var cachedBase: (hash: [UInt8], network: Network)?

    /// A worker with `settings`.
    public init(settings: WorkerSettings) { self.settings = settings }

    /// Serves tasks until the coordinator ends the job (returns its success) or `stop` is set
    /// (returns nil).
    public func run(stop: StopSignal) throws -> Bool? {
        let incarnation = UInt64.random(in: 1...UInt64.max)
        var core = WorkerCore(config: WorkerConfig(name: settings.name, threads: UInt32(settings.threads), incarnation: incarnation,
                                                   heartbeatInterval: settings.heartbeat, capacity: settings.prefetch + 1))
        let context = try ZmqContext()
        defer { context.shutdown() }
        var options = ZmqSocketOptions()
        options.lingerMs = 200
        options.maxMessageSize = Int64(settings.maxMessageBytes)
        options.routingID = Array("\(settings.name)-\(String(incarnation & 0xFFFF, radix: 16))".utf8)
        options.sendHighWaterMark = 0
        if let keyFile = settings.curveSecretKeyFile {
            guard let server = settings.serverKey else { throw ClusterError("CURVE needs the coordinator's public key (--server-key)") }
            let serverKey = try WorkerSettings.resolveServerKey(server)
            options.security = .curveClient(serverPublicKey: serverKey, keys: try CurveKeyFiles.readKeyPair(secretKeyFile: keyFile))
        }
        var socket = try ZmqSocket(context: context, kind: .dealer, options: options)
        defer { socket.close() }
        // Runs first, whichever way this returns (job over, signal, giving up): no training
        // thread outlives the worker.
        defer { mailbox.stopTraining() }
        try socket.connect(settings.connect)
        settings.log.event("connect", "connecting to \(settings.connect)")

        let clock = ContinuousClock()
        let started = clock.now
        func now() -> Instant { Instant(clock.now - started) }
        var payload: [UInt8] = [], sendBuffer: [UInt8] = []
        var exit: Bool? = nil

        func execute(_ directives: [WorkerDirective]) throws {
            var queue = directives
            while !queue.isEmpty {
                let d = queue.removeFirst()
                switch d {
                case let .send(message):
                    message.encode(into: &sendBuffer)
                    _ = try socket.send(sendBuffer)
                case let .reconnect(after):
                    settings.log.event("reconnect", "coordinator silent: reconnecting in \(after)")
                    socket.close()
                    let deadline = clock.now + after
                    while clock.now < deadline && !stop.isRequested { Thread.sleep(forTimeInterval: 0.02) }
                    socket = try ZmqSocket(context: context, kind: .dealer, options: options)
                    try socket.connect(settings.connect)
                    queue += core.handle(.connected(now: now()))
                case let .needSnapshot(_, size):
                    guard size <= UInt64(Int.max / 2) else { throw ClusterError("snapshot of \(size) bytes is too large") }
                    if fetchBuffer.count != Int(size) { fetchBuffer = [UInt8](repeating: 0, count: Int(size)) }
                case let .storeChunk(chunk):
                    let start = Int(chunk.offset)
                    guard start + chunk.data.count <= fetchBuffer.count else {
                        queue += core.handle(.snapshotRejected(hash: chunk.snapshotHash, reason: "chunk beyond the announced size", now: now()))
                        continue
                    }
                    fetchBuffer.withUnsafeMutableBytes { dst in
                        chunk.data.withUnsafeBytes { (dst.baseAddress! + start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    }
                case let .verifySnapshot(hash, size):
                    if fetchBuffer.count == Int(size), SHA256.hash(fetchBuffer) == hash {
                        snapshots = [hash: fetchBuffer]    // keep one snapshot: jobs rarely share workers
                        queue += core.handle(.snapshotStored(hash: hash, now: now()))
                    } else {
                        queue += core.handle(.snapshotRejected(hash: hash, reason: "SHA-256 mismatch", now: now()))
                    }
                case let .prepareJob(jobID, spec):
                    do {
                        let p = try pipeline(for: spec)
                        settings.log.event("prepare", "job \(jobID): data set '\(p.job.dataset)' loaded and checked before the first task")
                    } catch {
                        settings.log.event("prepare", "job \(jobID): could not prepare ahead of its tasks: \(error)")
                    }
                case let .train(task):
                    startTraining(task, incarnation: incarnation)
                case let .exit(success, reason):
                    settings.log.event("exit", "job over: \(reason)")
                    exit = success
                case let .log(text):
                    settings.log.event("protocol", text)
                }
            }
        }

        try execute(core.handle(.connected(now: now())))
        var lastTick = now(), lastContact = now()
        while exit == nil {
            if stop.isRequested {
                settings.log.event("stop", "stopping on signal \(stop.signal); an unfinished scout is abandoned (the coordinator requeues it)")
                return nil
            }
            let ready = try socket.waitReadable(timeoutMs: 100, or: mailbox.wakeup.readEnd)
            if ready.socket {
                for _ in 0..<64 {
                    let status = try socket.receive(into: &payload, dontWait: true)
                    guard status == .received else { break }
                    lastContact = now()
                    do {
                        let message = try payload.withUnsafeBytes { try WireMessage.decode($0, maxBytes: settings.maxMessageBytes) }
                        try execute(core.handle(.message(message, now: now())))
                    } catch let e as WireError {
                        settings.log.event("drop", "dropped a malformed frame from the coordinator: \(e)")
                    }
                    if exit != nil { break }
                }
            }
            let outcomes = mailbox.drain()
            for o in outcomes {
                switch o {
                case let .finished(r): try execute(core.handle(.trainingFinished(r, now: now())))
                case let .failed(m): try execute(core.handle(.trainingFailed(m, now: now())))
                }
            }
            let t = now()
            if t - lastTick >= .milliseconds(100) {
                try execute(core.handle(.tick(now: t)))
                lastTick = t
            }
            if let limit = settings.giveUpAfter, t - lastContact > limit {
                settings.log.event("exit", "no coordinator for \(limit); giving up")
                return false
            }
        }
        return exit
    }

    /// Trains the task's scout on a thread of its own and posts the outcome to the mailbox.
    private func startTraining(_ task: TaskAssignment, incarnation: UInt64) {
        let pipeline: Pipeline, base: Network
        do {
            (pipeline, base) = try prepare(task)
        } catch {
            mailbox.post(.failed("\(error)"))
            return
        }
        let mailbox = self.mailbox
        let clock = ContinuousClock()
        mailbox.started()
        let thread = Thread {
            defer { mailbox.ended() }
            let t0 = clock.now
            let event: TrainingOutcome
            do {
                let r = try pipeline.scout(Int(task.taskID), base: base, isCancelled: { mailbox.cancelled.load(ordering: .relaxed) })
                let d = (clock.now - t0).components
                let seconds = Double(d.seconds) + Double(d.attoseconds) / 1e18
                event = .finished(ResultConversion.toWire(r, jobID: task.jobID, incarnation: incarnation,
                                                          attempt: task.attempt, seconds: seconds))
            } catch {
                event = .failed("\(error)")
            }
            mailbox.post(event)
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The pipeline of a job spec (its data loaded and checked against the coordinator's
    /// hash), from the cache when it is the same job as last time.
    private func pipeline(for spec: [UInt8]) throws -> Pipeline {
        if let cached = cachedJob, cached.spec == spec { return cached.pipeline }
        let package = try JobPackage.decode(spec)
        let pipeline = try Pipeline(job: package.job)
        let hash = hexString(ContentHash.dataset(pipeline.data))
        guard hash == package.datasetSHA256 else {
            throw ClusterError("dataset '\(package.job.dataset)' on this host has SHA-256 \(hash), the coordinator's has \(package.datasetSHA256)")
        }
        cachedJob = (spec, pipeline)
        cachedBase = nil
        return pipeline
    }

    /// The job and base of a task, from caches when they are the same as last time.
    private func prepare(_ task: TaskAssignment) throws -> (Pipeline, Network) {
        let pipeline = try pipeline(for: task.jobSpec)
        if cachedBase?.hash != task.snapshotHash {
            guard let bytes = snapshots[task.snapshotHash] else { throw ClusterError("snapshot \(hexString(task.snapshotHash)) is not cached") }
            let file = try Safetensors.decode(bytes, source: "snapshot \(hexString(task.snapshotHash).prefix(12))")
            var network = try pipeline.scoutSpec.makeNetwork(seed: 0)
            try network.setParameters(try network.layout.flatten(file.tensors, source: "snapshot"))
            cachedBase = (task.snapshotHash, network)
        }
        return (pipeline, cachedBase!.network)
    }
}

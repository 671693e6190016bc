import Foundation
import GTL
import GTLEngine
import ScoutCluster
import ScoutWire
#if canImport(Glibc)
import Glibc
#endif

/// `gtl bench cluster ...`: the scout cluster's own costs, each measured against a reference run
/// in the same process: dispatch rate with tiny scouts, snapshot transfer against raw ZeroMQ on
/// the same loopback link (plain and CURVE), and the reducer's throughput and peak memory.
struct ClusterBench {
    static let help = """
    Usage: gtl bench cluster dispatch [--workers W] [--tasks N] [--layers L]
           gtl bench cluster snapshot [--layers L] [--repeats N] [--curve]
           gtl bench cluster reducer  [--layers L] [--scouts N]

      dispatch   W local worker processes (default 50) train N one-step scouts (default 5000) of a
                 tiny model (default "flatten dense(5)"); tasks/s over the last 90 % of the tasks
                 (after every worker has joined) and wall time per task.
      snapshot   a coordinator serves a big base (default "flatten dense(3000) relu dense(3000) relu dense(5)",
                 9.2M parameters, 37 MB) over tcp://127.0.0.1; a client driven by the real WorkerCore
                 fetches it through the chunked credit protocol, N times (default 5), interleaved with
                 a raw ROUTER->DEALER push of the same bytes in chunks of the same size; GB/s of each.
                 --curve: both with CURVE (coordinator with a ZAP allow-list, as `gtl coordinator`).
      reducer    folds N synthetic scout results (default 1000) of the model (default the 9.2M one)
                 into a GuideReducer: GB/s of statistics folded, and VmHWM of this process.
    """

    let what: String
    let workers: Int, tasks: Int, repeats: Int, scouts: Int
    let layers: String?
    let curve: Bool

    init(_ args: inout Arguments) throws {
        guard let w = args.positional(), ["dispatch", "snapshot", "reducer"].contains(w) else {
            throw UsageError("expected 'gtl bench cluster dispatch|snapshot|reducer'")
        }
        what = w
        workers = try args.int("workers", in: 1...4096) ?? 50
        tasks = try args.int("tasks", in: 1...10_000_000) ?? 5000
        repeats = try args.int("repeats", in: 1...1000) ?? 5
        scouts = try args.int("scouts", in: 1...10_000_000) ?? 1000
        layers = try args.string("layers")
        curve = args.flag("curve")
    }

    static let bigLayers = "flatten dense(3000) relu dense(3000) relu dense(5)"

    func run() throws -> Int32 {
        switch what {
        case "dispatch": try dispatch()
        case "snapshot": try snapshot()
        default: try reducer()
        }
        return ExitCode.success
    }

    // MARK: dispatch

    private func dispatch() throws {
        var job = JobConfig()
        job.layers = layers ?? "flatten dense(5)"
        job.pretrain.steps = 0
        job.scouts = tasks
        job.scout.steps = 1
        let pipeline = try Pipeline(job: job)
        let dir = try BenchFiles.tempDirectory("dispatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = CoordinatorSettings(bind: "ipc://\(dir.path)/coordinator", out: dir.appendingPathComponent("out"))
        settings.log = ClusterLog(format: .text, source: "bench")
        var local: LocalWorkers? = nil
        defer { local?.terminate() }
        let clock = ContinuousClock()
        var started = clock.now
        var marks: [(recorded: UInt64, at: ContinuousClock.Instant)] = []
        let outcome = try CoordinatorService(pipeline: pipeline, settings: settings).run(stop: StopSignal(), onBound: { endpoint in
            started = clock.now
            local = try LocalWorkers(count: workers, endpoint: endpoint, logURL: dir.appendingPathComponent("workers.log"))
        }, progress: { status in
            if marks.last?.recorded != status.recorded { marks.append((status.recorded, clock.now)) }
        })
        guard case .finished = outcome else { throw ClusterError("dispatch bench: the job did not finish") }
        let end = marks.last!.at
        let from = marks.first(where: { $0.recorded >= UInt64(tasks / 10) }) ?? marks[0]
        let steady = Double(UInt64(tasks) - from.recorded) / BenchFiles.seconds(end - from.at)
        let wall = BenchFiles.seconds(end - started)
        print(#"{"bench":"dispatch","workers":\#(workers),"tasks":\#(tasks),"layers":"\#(job.layers)","wall_s":\#(f(wall)),"steady_tasks_per_s":\#(f(steady)),"steady_us_per_task":\#(f(1e6 / steady)),"first_result_s":\#(f(BenchFiles.seconds(marks[0].at - started)))}"#)
    }

    // MARK: snapshot transfer

    private func snapshot() throws {
        var job = JobConfig()
        job.layers = layers ?? Self.bigLayers
        job.pretrain.steps = 0
        job.scouts = repeats + 2
        let pipeline = try Pipeline(job: job)
        let dir = try BenchFiles.tempDirectory("snapshot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = BenchFiles.freePort()
        var settings = CoordinatorSettings(bind: "tcp://127.0.0.1:\(port)", out: dir.appendingPathComponent("out"))
        settings.log = ClusterLog(format: .text, source: "bench")
        var clientKeys: CurveKeyPair? = nil, serverPublic: String? = nil
        if curve {
            let server = try CurveKeyPair.generate(), client = try CurveKeyPair.generate()
            let paths = try CurveKeyFiles.writeKeyPair(server, directory: dir.path, name: "coordinator")
            _ = try CurveKeyFiles.writeKeyPair(client, directory: dir.path, name: "worker")
            settings.curveSecretKeyFile = paths.secretKeyPath
            settings.allowList = dir.appendingPathComponent("worker.pub").path
            (clientKeys, serverPublic) = (client, server.publicKey)
        }
        // The coordinator on its own thread until every fetch is done.
        let stop = StopSignal()
        let bound = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let service = try CoordinatorService(pipeline: pipeline, settings: settings)
        let failure = BenchBox<String?>(nil)
        let box = BenchBox(service)
        let thread = Thread {
            do {
                _ = try box.value.run(stop: stop, onBound: { _ in bound.signal() })
            } catch { failure.value = "\(error)"; bound.signal() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        bound.wait()
        if let f = failure.value { throw ClusterError("coordinator: \(f)") }
        let endpoint = "tcp://127.0.0.1:\(port)"
        // Bound comes before pre-training: the base exists (renamed into place whole) once it ends.
        let basePath = settings.out.appendingPathComponent("base.safetensors").path
        while !FileManager.default.fileExists(atPath: basePath) {
            if let f = failure.value { throw ClusterError("coordinator: \(f)") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let snapshotBytes = try AtomicFile.read(settings.out.appendingPathComponent("base.safetensors"))
        var proto: [Double] = [], raw: [Double] = [], hashing: [Double] = []
        for r in 0..<repeats {
            let (t, h, size) = try fetchThroughProtocol(endpoint: endpoint, index: r, keys: clientKeys, serverKey: serverPublic)
            precondition(size == snapshotBytes.count)
            proto.append(Double(size) / t / 1e9)
            hashing.append(Double(size) / h / 1e9)
            raw.append(Double(size) / (try rawPush(snapshotBytes, chunk: SnapshotTransferDefaults.chunkSize, curve: curve)) / 1e9)
        }
        stop.request()
        done.wait()
        let p = EngineBench.stats(proto), q = EngineBench.stats(raw), s = EngineBench.stats(hashing)
        print(#"{"bench":"snapshot","curve":\#(curve),"bytes":\#(snapshotBytes.count),"chunk":\#(SnapshotTransferDefaults.chunkSize),"credit":\#(SnapshotTransferDefaults.credit),"repeats":\#(repeats),"protocol_gb_s":\#(f(p.median)),"protocol_min":\#(f(p.min)),"protocol_max":\#(f(p.max)),"raw_gb_s":\#(f(q.median)),"raw_min":\#(f(q.min)),"raw_max":\#(f(q.max)),"protocol_over_raw":\#(f(p.median / q.median)),"sha256_gb_s":\#(f(s.median))}"#)
    }

    /// One fetch by a fresh worker (new identity, empty cache) driven by the real `WorkerCore`:
    /// seconds from the task's arrival to the last chunk stored, seconds of the SHA-256 check, size.
    private func fetchThroughProtocol(endpoint: String, index: Int, keys: CurveKeyPair?, serverKey: String?) throws -> (Double, Double, Int) {
        let context = try ZmqContext()
        defer { context.shutdown() }
        var options = ZmqSocketOptions()
        options.lingerMs = 0
        options.routingID = Array("bench-\(index)-\(getpid())".utf8)
        options.sendHighWaterMark = 0
        if let keys, let serverKey { options.security = .curveClient(serverPublicKey: serverKey, keys: keys) }
        let socket = try ZmqSocket(context: context, kind: .dealer, options: options)
        defer { socket.close() }
        try socket.connect(endpoint)
        var core = WorkerCore(config: WorkerConfig(name: "bench\(index)", incarnation: UInt64.random(in: 1...UInt64.max)))
        let clock = ContinuousClock(), t0 = clock.now
        func now() -> Instant { Instant(clock.now - t0) }
        var buffer: [UInt8] = [], payload: [UInt8] = [], sendBuffer: [UInt8] = []
        var fetchStart: ContinuousClock.Instant? = nil
        var result: (Double, Double, Int)? = nil
        func execute(_ directives: [WorkerDirective]) throws {
            for d in directives {
                switch d {
                case let .send(m): m.encode(into: &sendBuffer); _ = try socket.send(sendBuffer)
                case let .needSnapshot(_, size):
                    fetchStart = clock.now
                    buffer = [UInt8](repeating: 0, count: Int(size))
                case let .storeChunk(chunk):
                    let start = Int(chunk.offset)
                    buffer.withUnsafeMutableBytes { dst in
                        chunk.data.withUnsafeBytes { (dst.baseAddress! + start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    }
                case let .verifySnapshot(hash, size):
                    let fetched = clock.now
                    let ok = SHA256.hash(buffer) == hash
                    guard ok else { throw ClusterError("snapshot bench: SHA-256 mismatch") }
                    result = (BenchFiles.seconds(fetched - fetchStart!), BenchFiles.seconds(clock.now - fetched), Int(size))
                default: break
                }
            }
        }
        try execute(core.handle(.connected(now: now())))
        while result == nil {
            if try socket.waitReadable(timeoutMs: 100) {
                while try socket.receive(into: &payload, dontWait: true) == .received {
                    let m = try payload.withUnsafeBytes { try WireMessage.decode($0) }
                    try execute(core.handle(.message(m, now: now())))
                    if result != nil { break }
                }
            } else {
                try execute(core.handle(.tick(now: now())))
            }
            if BenchFiles.seconds(clock.now - t0) > 120 { throw ClusterError("snapshot bench: fetch timed out") }
        }
        return result!
    }

    /// Seconds for a ROUTER to push `bytes` to a DEALER in `chunk`-byte messages, copied into one
    /// buffer on arrival (what the worker does with a chunk), on a fresh tcp loopback link.
    private func rawPush(_ bytes: [UInt8], chunk: Int, curve: Bool) throws -> Double {
        let context = try ZmqContext()
        defer { context.shutdown() }
        var serverOptions = ZmqSocketOptions(), clientOptions = ZmqSocketOptions()
        serverOptions.lingerMs = 0; clientOptions.lingerMs = 0
        serverOptions.sendHighWaterMark = 0; clientOptions.receiveHighWaterMark = 0
        clientOptions.routingID = Array("raw".utf8)
        var auth: ZapAuthenticator? = nil
        if curve {
            let server = try CurveKeyPair.generate(), client = try CurveKeyPair.generate()
            let a = try ZapAuthenticator(context: context, allowList: try CurveAllowList(z85Keys: [client.publicKey]))
            auth = a
            serverOptions.security = .curveServer(keys: server, authenticator: a)
            serverOptions.zapDomain = "gtl"
            clientOptions.security = .curveClient(serverPublicKey: server.publicKey, keys: client)
        }
        defer { auth?.stop() }
        let router = try ZmqSocket(context: context, kind: .router, options: serverOptions)
        defer { router.close() }
        let port = BenchFiles.freePort()
        _ = try router.bind("tcp://127.0.0.1:\(port)")
        let dealer = try ZmqSocket(context: context, kind: .dealer, options: clientOptions)
        defer { dealer.close() }
        try dealer.connect("tcp://127.0.0.1:\(port)")
        _ = try dealer.send(Array("go".utf8))
        var peer: [UInt8] = [], payload: [UInt8] = []
        _ = try router.receiveFromPeer(peer: &peer, payload: &payload)
        // The clock starts once the link (and handshake) is up, as in the protocol measurement,
        // which starts at the task assignment.
        let clock = ContinuousClock(), t0 = clock.now
        let shared = BenchBox((router, peer))
        let sender = Thread {
            let (router, peer) = shared.value
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                _ = try? bytes.withUnsafeBytes { try router.send(to: peer, UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
                offset = end
            }
        }
        sender.start()
        var buffer = [UInt8](repeating: 0, count: bytes.count), received = 0
        while received < bytes.count {
            guard try dealer.receive(into: &payload) == .received else { continue }
            buffer.withUnsafeMutableBytes { dst in
                payload.withUnsafeBytes { (dst.baseAddress! + received).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            received += payload.count
        }
        return BenchFiles.seconds(clock.now - t0)
    }

    // MARK: reducer

    private func reducer() throws {
        let spec = try NetworkSpec.parse("1x8x8: " + (layers ?? Self.bigLayers))
        let layout = try spec.makeNetwork(seed: 0).layout
        var reducer = GuideReducer(layout: layout, statistic: .squared)
        var rng = RandomGenerator(seed: 7)
        let values = (0..<layout.totalCount).map { _ in rng.nextUniform() * 1e-3 }
        let hwmBefore = BenchFiles.vmHWMkB()
        let clock = ContinuousClock(), t0 = clock.now
        for i in 0..<scouts {
            _ = try reducer.add(GTL.ScoutResult(index: i, statistics: [.squared: values], finalLoss: 0, steps: 1))
        }
        let t = BenchFiles.seconds(clock.now - t0)
        _ = try reducer.means()
        let bytes = Double(scouts) * Double(layout.totalCount) * 4
        print(#"{"bench":"reducer","parameters":\#(layout.totalCount),"scouts":\#(scouts),"seconds":\#(f(t)),"gb_s":\#(f(bytes / t / 1e9)),"us_per_scout":\#(f(t / Double(scouts) * 1e6)),"vmhwm_before_kb":\#(hwmBefore),"vmhwm_kb":\#(BenchFiles.vmHWMkB())}"#)
    }

    private func f(_ x: Double) -> String { String(format: "%.4g", x) }
}

/// A value shared with a helper thread and read after it signalled.
final class BenchBox<T>: @unchecked Sendable {
    var value: T
    init(_ v: T) { value = v }
}

/// Small helpers of the cluster benchmarks.
enum BenchFiles {
    static func tempDirectory(_ name: String) throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gtl-bench-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// Peak resident set of this process (kB), from /proc/self/status.
    static func vmHWMkB() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
        }
        return -1
    }

    /// A loopback TCP port that was free a moment ago (bound to port 0 and released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

import XCTest
import ScoutWire
@testable import ScoutCluster

/// A seeded simulation of a coordinator and several workers over a fake network that delays,
/// reorders and duplicates frames, with workers that crash, restart and get partitioned.
/// Specification: every task is recorded exactly once and the job finishes.
final class ClusterSimulationTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Delivery { case toCoordinator(PeerID, WireMessage), toWorker(PeerID, WireMessage), worker(Int, WorkerEvent) }

    struct SimWorker {
        var core: WorkerCore
        var peer: PeerID
        var alive = true
        var partitionedUntil = 0.0
        var store: [UInt8] = []
        var generation = 0
    }

    func testRandomizedClusterRecordsEveryTaskExactlyOnce() throws {
        for seed in 1 ... 50 { try simulate(seed: UInt64(seed)) }
        // The chaos must actually happen, or this test proves nothing.
        XCTAssertGreaterThan(chaos.requeues, 20, "\(chaos)")
        XCTAssertGreaterThan(chaos.drops, 20, "\(chaos)")
        XCTAssertGreaterThan(chaos.crashes, 20, "\(chaos)")
    }

    func simulate(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        restartQueue = []
        let tasks: UInt64 = 12
        var coordinator = try CoordinatorCore(config: testConfig(tasks: tasks, maxAttempts: 1000, maxChunk: 128, maxCredit: 4))
        var workers: [SimWorker] = []
        var pending: [(time: Double, seq: Int, what: Delivery, generation: Int)] = []
        var seq = 0
        var peerCounter = 0
        var recorded: [UInt64: Int] = [:]
        var finished = false
        var now = 0.0

        func schedule(_ at: Double, _ d: Delivery, generation: Int = 0) {
            seq += 1
            pending.append((at, seq, d, generation))
        }
        func newPeer() -> PeerID { peerCounter += 1; return PeerID("peer-\(peerCounter)") }
        func send(_ d: Delivery) {
            let copies = Double.random(in: 0 ..< 1, using: &rng) < 0.05 ? 2 : 1
            for _ in 0 ..< copies { schedule(now + Double.random(in: 0.001 ..< 0.3, using: &rng), d) }
        }
        func workerConfig(_ i: Int) -> WorkerConfig {
            WorkerConfig(name: "w\(i)", incarnation: rng.next(), heartbeatInterval: .seconds(1), coordinatorDeadAfter: 3,
                         chunkSize: 128, credit: 4, capacity: 1 + i % 3)  // one at a time, and pipelined
        }
        func apply(_ directives: [WorkerDirective], worker i: Int) {
            for d in directives {
                switch d {
                case let .send(m):
                    if workers[i].partitionedUntil <= now { send(.toCoordinator(workers[i].peer, m)) }
                case let .reconnect(after):
                    workers[i].peer = newPeer()
                    schedule(now + after.inSeconds, .worker(i, .connected(now: .zero)), generation: workers[i].generation)
                case let .needSnapshot(_, size):
                    workers[i].store = [UInt8](repeating: 0, count: Int(size))
                case let .storeChunk(c):
                    workers[i].store.replaceSubrange(Int(c.offset) ..< Int(c.offset) + c.data.count, with: c.data)
                case let .verifySnapshot(hash, _):
                    let ok = SHA256.hash(workers[i].store) == hash
                    schedule(now, .worker(i, ok ? .snapshotStored(hash: hash, now: .zero)
                                                : .snapshotRejected(hash: hash, reason: "bad hash", now: .zero)),
                             generation: workers[i].generation)
                case let .train(a):
                    let at = now + Double.random(in: 0.5 ..< 4, using: &rng)
                    let event: WorkerEvent = Double.random(in: 0 ..< 1, using: &rng) < 0.05
                        ? .trainingFailed("simulated failure", now: .zero)
                        : .trainingFinished(result(task: a.taskID, incarnation: 0, attempt: 0), now: .zero)
                    schedule(at, .worker(i, event), generation: workers[i].generation)
                case .exit, .log, .prepareJob:
                    break
                }
            }
        }
        func applyCoordinator(_ directives: [CoordinatorDirective]) {
            for d in directives {
                switch d {
                case let .send(p, m): send(.toWorker(p, m))
                case let .sendChunk(p, hash, offset, length):
                    send(.toWorker(p, .snapshotChunk(SnapshotChunk(snapshotHash: hash, offset: offset, totalSize: UInt64(testSnapshot.count),
                                                                     data: Array(testSnapshot[Int(offset) ..< Int(offset) + length])))))
                case let .record(r): recorded[r.taskID, default: 0] += 1
                case .requeued: chaos.requeues += 1
                case let .log(line) where line.contains("dropped"): chaos.drops += 1
                case .finished: finished = true
                case let .failed(reason): XCTFail("seed \(seed): job failed: \(reason)")
                default: break
                }
            }
        }
        func withNow(_ e: WorkerEvent) -> WorkerEvent {
            let t = Instant.seconds(now)
            switch e {
            case .connected: return .connected(now: t)
            case let .snapshotStored(h, _): return .snapshotStored(hash: h, now: t)
            case let .snapshotRejected(h, r, _): return .snapshotRejected(hash: h, reason: r, now: t)
            case let .trainingFinished(r, _): return .trainingFinished(r, now: t)
            case let .trainingFailed(m, _): return .trainingFailed(m, now: t)
            default: return e
            }
        }

        for i in 0 ..< 4 {
            workers.append(SimWorker(core: WorkerCore(config: workerConfig(i)), peer: newPeer()))
            schedule(Double(i) * 0.1, .worker(i, .connected(now: .zero)))
        }
        while !finished, now < 3000 {
            now += 0.05
            pending.sort { ($0.time, $0.seq) < ($1.time, $1.seq) }
            while let first = pending.first, first.time <= now {
                pending.removeFirst()
                switch first.what {
                case let .toCoordinator(peer, m):
                    applyCoordinator(coordinator.handle(.message(from: peer, m, now: .seconds(now))))
                case let .toWorker(peer, m):
                    guard let i = workers.firstIndex(where: { $0.peer == peer }), workers[i].alive, workers[i].partitionedUntil <= now else { continue }
                    apply(workers[i].core.handle(.message(m, now: .seconds(now))), worker: i)
                case let .worker(i, e):
                    guard workers[i].alive, workers[i].generation == first.generation else { continue }
                    apply(workers[i].core.handle(withNow(e)), worker: i)
                }
            }
            applyCoordinator(coordinator.handle(.tick(now: .seconds(now))))
            for i in workers.indices where workers[i].alive {
                apply(workers[i].core.handle(.tick(now: .seconds(now))), worker: i)
                let roll = Double.random(in: 0 ..< 1, using: &rng)
                if roll < 0.002 {
                    // Crash; restart later as a new process, half the time under the same routing id.
                    workers[i].alive = false
                    chaos.crashes += 1
                    workers[i].generation += 1
                    let keepPeer = Bool.random(using: &rng)
                    let at = now + Double.random(in: 0.5 ..< 10, using: &rng)
                    var restarted = SimWorker(core: WorkerCore(config: workerConfig(i)), peer: keepPeer ? workers[i].peer : newPeer())
                    restarted.generation = workers[i].generation
                    restartQueue.append((at, i, restarted))
                } else if roll < 0.004 {
                    workers[i].partitionedUntil = now + Double.random(in: 1 ..< 10, using: &rng)
                }
            }
            // Bring crashed workers back.
            for (at, i, w) in restartQueue where at <= now && !workers[i].alive {
                workers[i] = w
                apply(workers[i].core.handle(.connected(now: .seconds(now))), worker: i)
            }
            restartQueue.removeAll { $0.at <= now }
        }
        XCTAssertTrue(finished, "seed \(seed): job did not finish by t=\(now); recorded \(recorded.keys.sorted())")
        XCTAssertEqual(Set(recorded.keys), Set(0 ..< tasks), "seed \(seed)")
        XCTAssertTrue(recorded.values.allSatisfy { $0 == 1 }, "seed \(seed): some task recorded twice: \(recorded)")
        XCTAssertEqual(coordinator.status.recorded, tasks)
    }

    var chaos = (requeues: 0, drops: 0, crashes: 0)
    var restartQueue: [(at: Double, index: Int, worker: SimWorker)] = []
}

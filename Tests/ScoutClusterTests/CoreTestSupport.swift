import ScoutWire
@testable import ScoutCluster

/// The snapshot every test job uses: 1000 bytes, so chunking arithmetic is easy to check.
let testSnapshot: [UInt8] = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
let testSnapshotHash = SHA256.hash(testSnapshot)

func testConfig(tasks: UInt64 = 4, maxAttempts: UInt32 = 3, maxChunk: Int = 100, maxCredit: Int = 4) -> CoordinatorConfig {
    CoordinatorConfig(jobID: "job-1", taskCount: tasks, snapshotHash: testSnapshotHash,
                      snapshotSize: UInt64(testSnapshot.count), jobSpec: Array("{}".utf8), incarnation: 99,
                      heartbeatInterval: .seconds(1), suspectAfter: 3, deadAfter: 6, maxAttempts: maxAttempts,
                      maxChunkSize: maxChunk, maxCredit: maxCredit)
}

func hello(_ incarnation: UInt64, ready: Bool = true, capacity: UInt32 = 1) -> WireMessage {
    .hello(Hello(incarnation: incarnation, workerName: "w\(incarnation)", threads: 1, ready: ready, capacity: capacity))
}

func result(task: UInt64, incarnation: UInt64, attempt: UInt32 = 1, job: String = "job-1") -> ScoutWire.ScoutResult {
    ScoutWire.ScoutResult(jobID: job, taskID: task, incarnation: incarnation, attempt: attempt,
                          statistics: [Statistic(name: "w", values: [Float(task)])], finalLoss: 0.5, steps: 10, trainSeconds: 1)
}

extension Array where Element == CoordinatorDirective {
    /// (peer, task, attempt) of every assignment, in order.
    var assignments: [(PeerID, UInt64, UInt32)] {
        compactMap { if case let .send(p, .task(t)) = $0 { return (p, t.taskID, t.attempt) } else { return nil } }
    }
    var recorded: [UInt64] { compactMap { if case let .record(r) = $0 { return r.taskID } else { return nil } } }
    var requeued: [UInt64] { compactMap { if case let .requeued(t, _) = $0 { return t } else { return nil } } }
    var failure: String? { lazy.compactMap { if case let .failed(r) = $0 { return r } else { return nil } }.first }
    var finished: Bool { contains(.finished) }
    var logs: [String] { compactMap { if case let .log(s) = $0 { return s } else { return nil } } }
}

extension CoordinatorCore {
    /// Shorthand: a message event.
    mutating func receive(_ m: WireMessage, from peer: String, at t: Double = 0) -> [CoordinatorDirective] {
        handle(.message(from: PeerID(peer), m, now: .seconds(t)))
    }
}

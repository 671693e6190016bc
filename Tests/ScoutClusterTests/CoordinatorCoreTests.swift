import XCTest
import ScoutWire
@testable import ScoutCluster

final class CoordinatorCoreTests: XCTestCase {
    func testTasksAreHandedOutLowestFirstOnePerWorker() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 4))
        let a = core.receive(hello(1), from: "a")
        XCTAssertTrue(a.contains(.workerJoined(PeerID("a"), incarnation: 1)))
        XCTAssertEqual(a.assignments.map(\.1), [0])
        XCTAssertEqual(a.assignments.map(\.2), [1], "first attempt is 1")
        // Asking again while holding a task re-sends the same task, never a second one.
        XCTAssertEqual(core.receive(hello(1), from: "a").assignments.map(\.1), [0])
        XCTAssertEqual(core.receive(hello(2), from: "b").assignments.map(\.1), [1])
        XCTAssertEqual(core.receive(hello(3, ready: false), from: "c").assignments.count, 0, "not ready, no task")
        XCTAssertEqual(core.status.inFlight, 2)
        XCTAssertEqual(core.status.pending, 2)
        // A result frees the worker and it gets the next lowest task at once.
        let r = core.receive(.result(result(task: 1, incarnation: 2)), from: "b")
        XCTAssertEqual(r.recorded, [1])
        XCTAssertEqual(r.assignments.map(\.1), [2])
        XCTAssertEqual(core.status.recorded, 1)
    }

    func testEveryTaskIsRecordedExactlyOnceEvenWithDuplicateResults() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 2))
        _ = core.receive(hello(1), from: "a")
        var all: [CoordinatorDirective] = []
        all += core.receive(.result(result(task: 0, incarnation: 1)), from: "a")
        all += core.receive(.result(result(task: 0, incarnation: 1)), from: "a")
        all += core.receive(.result(result(task: 1, incarnation: 1)), from: "a")
        XCTAssertEqual(all.recorded, [0, 1])
        XCTAssertTrue(all.logs.contains { $0.contains("duplicate result for task 0") })
        XCTAssertTrue(all.finished)
        XCTAssertEqual(core.status.phase, .finished)
        XCTAssertEqual(core.receive(.result(result(task: 1, incarnation: 1)), from: "a"), [], "a finished core ignores events")
    }

    func testSilentWorkerBecomesSuspectThenDeadAndItsTaskIsCompletedByAnother() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 1))
        XCTAssertEqual(core.receive(hello(1), from: "a", at: 0).assignments.map(\.1), [0])
        _ = core.receive(hello(2), from: "b", at: 0)
        var suspectAt: Double?, deadAt: Double?
        var requeueTo: [(PeerID, UInt64, UInt32)] = []
        for t in stride(from: 0.5, through: 8, by: 0.5) {
            _ = core.receive(.heartbeat(Heartbeat(incarnation: 2, sequence: 1)), from: "b", at: t)
            let d = core.handle(.tick(now: .seconds(t)))
            if d.contains(.workerSuspect(PeerID("a"), incarnation: 1)) { suspectAt = t }
            if d.contains(.workerDead(PeerID("a"), incarnation: 1)) {
                deadAt = t
                XCTAssertEqual(d.requeued, [0])
                requeueTo = d.assignments
            }
        }
        XCTAssertEqual(suspectAt, 3)
        XCTAssertEqual(deadAt, 6)
        XCTAssertEqual(requeueTo.map(\.0), [PeerID("b")])
        XCTAssertEqual(requeueTo.map(\.2), [2], "second attempt")
        let done = core.receive(.result(result(task: 0, incarnation: 2, attempt: 2)), from: "b", at: 9)
        XCTAssertEqual(done.recorded, [0])
        XCTAssertTrue(done.finished)
    }

    func testSuspectWorkerGetsNoNewTaskUntilItSpeaks() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 3))
        _ = core.receive(hello(1), from: "a", at: 0)
        _ = core.receive(hello(2), from: "b", at: 0) // b holds task 1
        _ = core.handle(.tick(now: .seconds(3.5)))   // both suspect
        XCTAssertEqual(core.status.suspectWorkers, 2)
        // a's result comes in: a is alive again and gets task 2; b stays suspect.
        let d = core.receive(.result(result(task: 0, incarnation: 1)), from: "a", at: 3.6)
        XCTAssertEqual(d.assignments.map(\.1), [2])
        XCTAssertEqual(core.status.suspectWorkers, 1)
        XCTAssertEqual(core.status.liveWorkers, 1)
    }

    func testLateResultFromDeadIncarnationIsDropped() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 1))
        _ = core.receive(hello(1), from: "a", at: 0)
        _ = core.handle(.tick(now: .seconds(6)))       // a dead, task 0 requeued
        _ = core.receive(hello(2), from: "b", at: 6.1) // b gets task 0 attempt 2
        let late = core.receive(.result(result(task: 0, incarnation: 1, attempt: 1)), from: "a", at: 7)
        XCTAssertEqual(late.recorded, [])
        XCTAssertTrue(late.logs.contains { $0.contains("dead incarnation") }, "\(late.logs)")
        // Even from a fresh socket of the dead incarnation.
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1, attempt: 1)), from: "a2", at: 7).recorded, [])
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 2, attempt: 2)), from: "b", at: 8).recorded, [0])
    }

    func testDeadIncarnationThatRejoinsDoesNotGetItsOldResultCounted() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 2))
        _ = core.receive(hello(1), from: "a", at: 0)   // task 0 attempt 1
        _ = core.handle(.tick(now: .seconds(6)))        // dead
        let rejoin = core.receive(hello(1), from: "a-new", at: 6.5) // same process, new socket
        XCTAssertEqual(rejoin.assignments.map(\.1), [0])
        XCTAssertEqual(rejoin.assignments.map(\.2), [2])
        let old = core.receive(.result(result(task: 0, incarnation: 1, attempt: 1)), from: "a-new", at: 7)
        XCTAssertEqual(old.recorded, [], "attempt 1 was abandoned")
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1, attempt: 2)), from: "a-new", at: 8).recorded, [0])
    }

    func testReconnectOnNewSocketKeepsTheTask() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 2))
        _ = core.receive(hello(1), from: "a", at: 0)
        let again = core.receive(hello(1, ready: false), from: "a2", at: 1)
        XCTAssertEqual(again.requeued, [])
        XCTAssertFalse(again.contains { if case .workerJoined = $0 { return true }; return false })
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a2", at: 2).recorded, [0])
    }

    func testRestartedWorkerHasItsOldTaskRequeued() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 3))
        _ = core.receive(hello(1), from: "a") // task 0
        _ = core.receive(hello(2), from: "b") // task 1
        let d = core.receive(hello(7), from: "a") // a restarted
        XCTAssertTrue(d.contains(.workerDead(PeerID("a"), incarnation: 1)))
        XCTAssertTrue(d.contains(.workerJoined(PeerID("a"), incarnation: 7)))
        XCTAssertEqual(d.requeued, [0])
        XCTAssertEqual(d.assignments.map(\.1), [0], "task 0 is again the lowest pending")
        XCTAssertEqual(d.assignments.map(\.2), [2])
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").recorded, [])
    }

    func testTaskThatKeepsFailingFailsTheJobNamingTheTask() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 3, maxAttempts: 3))
        _ = core.receive(hello(1), from: "a") // task 0
        _ = core.receive(hello(2), from: "b") // task 1
        let report = { (task: UInt64) in WireMessage.error(ErrorReport(code: 1, message: "out of memory", taskID: task)) }
        var d = core.receive(report(1), from: "b")
        XCTAssertEqual(d.requeued, [1])
        // b failed task 1, so it is offered task 2 first; a failing-task retry goes elsewhere.
        XCTAssertEqual(core.receive(hello(2), from: "b").assignments.map(\.1), [2])
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").assignments.map(\.1), [1])
        d = core.receive(report(1), from: "a")
        XCTAssertEqual(d.requeued, [1])
        XCTAssertNil(d.failure)
        // Only task 1 is left: b gets it again rather than idling, and it fails a third time.
        _ = core.receive(.result(result(task: 2, incarnation: 2)), from: "b")
        d = core.receive(report(1), from: "b")
        XCTAssertEqual(d.failure, "task 1 failed 3 times: worker 'w2' (b, incarnation 0x0000000000000002) could not run it: out of memory")
        XCTAssertEqual(core.status.phase, .failed(d.failure!))
        XCTAssertEqual(core.receive(hello(3), from: "c"), [])
    }

    func testLossesToDeadWorkersCountTowardsTheCap() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 1, maxAttempts: 2))
        _ = core.receive(hello(1), from: "a", at: 0)
        XCTAssertEqual(core.handle(.tick(now: .seconds(6))).requeued, [0])
        _ = core.receive(hello(2), from: "b", at: 6)
        let d = core.handle(.tick(now: .seconds(12)))
        XCTAssertEqual(d.failure?.hasPrefix("task 0 failed 2 times: worker 'w2'"), true, d.failure ?? "no failure")
    }

    func testSnapshotChunksRespectCreditAndChunkSizeAndCoverTheSnapshot() throws {
        var core = try CoordinatorCore(config: testConfig(maxChunk: 128, maxCredit: 3))
        _ = core.receive(hello(1, ready: false), from: "a")
        var covered: [UInt8] = []
        var offset: UInt64 = 0
        var requests = 0
        while offset < UInt64(testSnapshot.count) {
            requests += 1
            let d = core.receive(.snapshotRequest(SnapshotRequest(snapshotHash: testSnapshotHash, offset: offset, credit: 10, chunkSize: 1000)), from: "a")
            XCTAssertLessThanOrEqual(d.count, 3, "credit clamped to maxCredit")
            for case let .sendChunk(to, hash, off, len) in d {
                XCTAssertEqual(to, PeerID("a")); XCTAssertEqual(hash, testSnapshotHash)
                XCTAssertEqual(off, offset)
                XCTAssertLessThanOrEqual(len, 128)
                covered += testSnapshot[Int(off) ..< Int(off) + len]
                offset += UInt64(len)
            }
        }
        XCTAssertEqual(covered, testSnapshot)
        XCTAssertEqual(requests, 3) // 1000 bytes / (3 * 128) per request
        // Credit and chunk size below the limits are honoured exactly; the last chunk is short.
        let d = core.receive(.snapshotRequest(SnapshotRequest(snapshotHash: testSnapshotHash, offset: 900, credit: 2, chunkSize: 60)), from: "a")
        XCTAssertEqual(d, [.sendChunk(to: PeerID("a"), snapshotHash: testSnapshotHash, offset: 900, length: 60),
                           .sendChunk(to: PeerID("a"), snapshotHash: testSnapshotHash, offset: 960, length: 40)])
        XCTAssertEqual(core.receive(.snapshotRequest(SnapshotRequest(snapshotHash: testSnapshotHash, offset: 1000, credit: 2, chunkSize: 60)), from: "a").filter {
            if case .sendChunk = $0 { return true }; return false }, [], "nothing past the end")
        let unknown = core.receive(.snapshotRequest(SnapshotRequest(snapshotHash: [UInt8](repeating: 1, count: 32), offset: 0, credit: 2, chunkSize: 60)), from: "a")
        guard case let .send(_, .error(report))? = unknown.first else { return XCTFail("\(unknown)") }
        XCTAssertEqual(report.code, ClusterErrorCode.unknownSnapshot.rawValue)
    }

    func testResumeNeverReassignsCompletedTasks() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 5), completed: [0, 2, 3])
        XCTAssertEqual(core.status.pending, 2)
        XCTAssertEqual(core.receive(hello(1), from: "a").assignments.map(\.1), [1])
        XCTAssertEqual(core.receive(hello(2), from: "b").assignments.map(\.1), [4])
        XCTAssertEqual(core.receive(hello(3), from: "c").assignments.count, 0)
        XCTAssertEqual(core.receive(.result(result(task: 2, incarnation: 1)), from: "a").recorded, [], "already in the journal")
        _ = core.receive(.result(result(task: 1, incarnation: 1)), from: "a")
        XCTAssertTrue(core.receive(.result(result(task: 4, incarnation: 2)), from: "b").finished)
        XCTAssertThrowsError(try CoordinatorCore(config: testConfig(tasks: 5), completed: [5]))
        var done = try CoordinatorCore(config: testConfig(tasks: 2), completed: [0, 1])
        XCTAssertTrue(done.handle(.tick(now: .zero)).finished, "a fully journalled job finishes at once")
    }

    func testExtendAddsTasks() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 1))
        _ = core.receive(hello(1), from: "a")
        _ = core.receive(hello(2), from: "b")
        let d = core.handle(.extend(by: 2))
        XCTAssertEqual(d.assignments.map(\.1), [1], "the idle worker gets the new task")
        XCTAssertEqual(core.status.total, 3)
        let r = core.receive(.result(result(task: 0, incarnation: 1)), from: "a")
        XCTAssertFalse(r.finished)
        XCTAssertEqual(r.assignments.map(\.1), [2])
        XCTAssertEqual(core.handle(.extend(by: 0)).logs.count, 1)
    }

    func testExtendingAFinishedJobReopensIt() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 1))
        _ = core.receive(hello(1), from: "a")
        XCTAssertTrue(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").finished)
        let d = core.handle(.extend(by: 1))
        XCTAssertEqual(core.status.phase, .running)
        XCTAssertEqual(d.assignments.map(\.1), [1], "the idle worker gets the new task at once")
        XCTAssertTrue(core.receive(.result(result(task: 1, incarnation: 1)), from: "a").finished)
        XCTAssertEqual(core.receive(.result(result(task: 1, incarnation: 1)), from: "a"), [], "finished again")
    }

    func testOutOfProtocolAndGarbageAreDroppedAndOthersAreStillServed() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 2))
        _ = core.receive(hello(1), from: "a")
        let junk: [WireMessage] = [
            .snapshotChunk(SnapshotChunk(snapshotHash: testSnapshotHash, offset: 0, totalSize: 1, data: [1])),
            .task(TaskAssignment(jobID: "x", taskID: 0, attempt: 1, snapshotHash: testSnapshotHash, snapshotSize: 1, jobSpec: [])),
            .jobOver(JobOver(jobID: "job-1", reason: "no", success: true)),
            .result(result(task: 1, incarnation: 55)),
            .result(result(task: 0, incarnation: 1, job: "other-job")),
            .result(result(task: 0, incarnation: 1, attempt: 9)),
            .error(ErrorReport(code: 7, message: "whatever", taskID: 1)),
            .heartbeat(Heartbeat(incarnation: 66, sequence: 1)),
        ]
        for (i, m) in junk.enumerated() {
            // Frames naming incarnation 1 from a new socket would be a reconnect of a, and a
            // heartbeat of another incarnation from a would be a restart: those go to one peer.
            for peer in (4 ... 6).contains(i) ? ["a"] : i == 7 ? ["stranger"] : ["a", "stranger"] {
                let d = core.receive(m, from: peer)
                XCTAssertEqual(d.recorded, [], "\(m)")
                XCTAssertEqual(d.requeued, [], "\(m)")
                XCTAssertEqual(d.logs.count, d.count, "only logs for \(m): \(d)")
            }
        }
        XCTAssertEqual(core.handle(.malformed(from: PeerID("stranger"), reason: "garbage", now: .zero)).logs.count, 1)
        XCTAssertEqual(core.receive(hello(2), from: "b").assignments.map(\.1), [1])
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").recorded, [0])
    }

    func testHeartbeatsGoToEveryWorkerOncePerInterval() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 5))
        _ = core.receive(hello(1), from: "a")
        _ = core.receive(hello(2), from: "b")
        func beats(_ t: Double) -> [PeerID] {
            core.handle(.tick(now: .seconds(t))).compactMap { if case let .send(p, .heartbeat) = $0 { return p } else { return nil } }
        }
        XCTAssertEqual(beats(0.1), [PeerID("a"), PeerID("b")])
        XCTAssertEqual(beats(0.6), [])
        XCTAssertEqual(beats(1.1), [PeerID("a"), PeerID("b")])
    }

    func testAFinishedCoreKeepsHeartbeatingButDecidesNothingMore() throws {
        // While the shell computes and writes the guide, workers must still hear the coordinator.
        var core = try CoordinatorCore(config: testConfig(tasks: 1))
        _ = core.receive(hello(1), from: "a")
        XCTAssertTrue(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").finished)
        var beats = 0
        for t in stride(from: 0.5, through: 30, by: 0.5) {   // silent for far longer than deadAfter
            let d = core.handle(.tick(now: .seconds(t)))
            XCTAssertTrue(d.allSatisfy { if case .send(_, .heartbeat) = $0 { return true } else { return false } }, "\(d)")
            beats += d.count
        }
        XCTAssertEqual(beats, 30, "one heartbeat per interval, and the silent worker is never declared dead")
        XCTAssertEqual(core.status.liveWorkers, 1)
    }

    func testInvalidConfigurationIsRefused() {
        var bad = testConfig()
        bad.deadAfter = 2
        XCTAssertThrowsError(try CoordinatorCore(config: bad)) { XCTAssertTrue("\($0)".contains("dead-after")) }
    }

    // Pipelining: workers that announce a capacity above 1.

    func testWorkersHoldUpToTheirCapacityUntilTooFewTasksAreLeft() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 6))
        XCTAssertEqual(core.receive(hello(1, capacity: 2), from: "a").assignments.map(\.1), [0, 1])
        XCTAssertEqual(core.receive(hello(2, capacity: 2), from: "b").assignments.map(\.1), [2, 3])
        XCTAssertEqual(core.status.inFlight, 4)
        // A result makes room for one more while as many tasks are pending as there are workers.
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").assignments.map(\.1), [4])
        // One task left for two workers: it is not queued behind b's running scout ...
        XCTAssertEqual(core.receive(.result(result(task: 2, incarnation: 2)), from: "b").assignments.count, 0)
        XCTAssertEqual(core.receive(.result(result(task: 1, incarnation: 1)), from: "a").assignments.count, 0)
        // ... but goes to the first worker with nothing to do.
        XCTAssertEqual(core.receive(.result(result(task: 3, incarnation: 2)), from: "b").assignments.map(\.1), [5])
        // A ready Hello re-sends every task held, in order, and adds none beyond the capacity.
        _ = core.receive(hello(1, ready: false, capacity: 2), from: "a")
        XCTAssertEqual(core.receive(hello(1, capacity: 2), from: "a").assignments.map(\.1), [4])
        var d = core.receive(.result(result(task: 5, incarnation: 2)), from: "b")
        d += core.receive(.result(result(task: 4, incarnation: 1)), from: "a")
        XCTAssertEqual(d.recorded, [5, 4])
        XCTAssertTrue(d.finished)
    }

    func testADeadWorkerLosesEveryTaskItHeld() throws {
        var core = try CoordinatorCore(config: testConfig(tasks: 3))
        XCTAssertEqual(core.receive(hello(1, capacity: 2), from: "a", at: 0).assignments.map(\.1), [0, 1])
        XCTAssertEqual(core.handle(.tick(now: .seconds(6))).requeued, [0, 1])
        XCTAssertEqual(core.receive(hello(2, capacity: 3), from: "b", at: 6).assignments.map(\.1), [0, 1, 2])
    }

    func testABusyRefusalRequeuesTheTaskWithoutCountingAnAttempt() throws {
        // maxAttempts 1: any counted loss would fail the job at once.
        var core = try CoordinatorCore(config: testConfig(tasks: 2, maxAttempts: 1))
        XCTAssertEqual(core.receive(hello(1, capacity: 2), from: "a").assignments.map(\.1), [0, 1])
        let busy = WireMessage.error(ErrorReport(code: ClusterErrorCode.busy.rawValue, message: "busy with task 9", taskID: 1))
        let d = core.receive(busy, from: "a")
        XCTAssertEqual(d.requeued, [1])
        XCTAssertNil(d.failure)
        XCTAssertEqual(d.assignments.count, 0, "no more for a busy worker until it says it has room")
        XCTAssertEqual(core.receive(.result(result(task: 0, incarnation: 1)), from: "a").assignments.map { [$0.1, UInt64($0.2)] }, [[1, 2]])
    }
}

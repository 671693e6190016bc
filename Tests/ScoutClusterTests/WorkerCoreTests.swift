import XCTest
import ScoutWire
@testable import ScoutCluster

final class WorkerCoreTests: XCTestCase {
    /// One task at a time unless a test asks for more (the pipelining tests at the end).
    func config(chunk: Int = 100, credit: Int = 4, cached: Set<[UInt8]> = [], capacity: Int = 1) -> WorkerConfig {
        WorkerConfig(name: "w", incarnation: 5, heartbeatInterval: .seconds(1), coordinatorDeadAfter: 3,
                     backoffInitial: .milliseconds(250), backoffMax: .seconds(8), chunkSize: chunk, credit: credit,
                     cachedSnapshots: cached, capacity: capacity)
    }
    let task = TaskAssignment(jobID: "job-1", taskID: 7, attempt: 2, snapshotHash: testSnapshotHash,
                              snapshotSize: UInt64(testSnapshot.count), jobSpec: [])

    func sent(_ d: [WorkerDirective]) -> [WireMessage] { d.compactMap { if case let .send(m) = $0 { return m } else { return nil } } }
    func requests(_ d: [WorkerDirective]) -> [SnapshotRequest] {
        sent(d).compactMap { if case let .snapshotRequest(r) = $0 { return r } else { return nil } }
    }
    func chunk(_ offset: Int, _ length: Int) -> WireMessage {
        .snapshotChunk(SnapshotChunk(snapshotHash: testSnapshotHash, offset: UInt64(offset), totalSize: UInt64(testSnapshot.count),
                                     data: Array(testSnapshot[offset ..< offset + length])))
    }

    func testConnectSendsReadyHelloAndHeartbeatsEveryInterval() {
        var core = WorkerCore(config: config())
        let d = core.handle(.connected(now: .zero))
        XCTAssertEqual(sent(d), [.hello(Hello(incarnation: 5, workerName: "w", threads: 1, ready: true))])
        let beats = (0 ..< 5).flatMap { i in sent(core.handle(.tick(now: .seconds(Double(i) * 0.5)))) }
            .filter { if case .heartbeat = $0 { return true }; return false }
        XCTAssertEqual(beats.count, 3, "at 0, 1 and 2 seconds")
    }

    func testReconnectBackoffDoublesToTheCapAndResetsWhenHeard() {
        var core = WorkerCore(config: config())
        var now = 0.0
        _ = core.handle(.connected(now: .seconds(now)))
        var delays: [Duration] = []
        while delays.count < 7 {
            now += 0.25
            for case let .reconnect(after) in core.handle(.tick(now: .seconds(now))) {
                delays.append(after)
                XCTAssertFalse(core.isConnected)
                XCTAssertEqual(core.handle(.tick(now: .seconds(now + 0.1))), [], "no heartbeats while disconnected")
                now += after.inSeconds
                _ = core.handle(.connected(now: .seconds(now)))
            }
        }
        XCTAssertEqual(delays, [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)])
        _ = core.handle(.message(.heartbeat(Heartbeat(incarnation: 99, sequence: 1)), now: .seconds(now)))
        XCTAssertEqual(core.backoff, .milliseconds(250))
        XCTAssertTrue(core.handle(.tick(now: .seconds(now + 2.9))).allSatisfy { if case .reconnect = $0 { return false }; return true })
    }

    func testSnapshotIsFetchedInCreditWindowsAndVerifiedBeforeTraining() {
        var core = WorkerCore(config: config(chunk: 100, credit: 4))
        _ = core.handle(.connected(now: .zero))
        var d = core.handle(.message(.task(task), now: .zero))
        XCTAssertEqual(d.first, .needSnapshot(hash: testSnapshotHash, size: 1000))
        XCTAssertEqual(requests(d), [SnapshotRequest(snapshotHash: testSnapshotHash, offset: 0, credit: 4, chunkSize: 100)])
        var stored: [UInt8] = []
        var allRequests: [SnapshotRequest] = requests(d)
        for offset in stride(from: 0, to: 1000, by: 100) {
            d = core.handle(.message(chunk(offset, 100), now: .seconds(0.1)))
            for case let .storeChunk(c) in d { stored += c.data }
            allRequests += requests(d)
            // Never more than the window outstanding: requested chunks minus received ones.
            let requested = allRequests.reduce(0) { $0 + Int($1.credit) }
            XCTAssertLessThanOrEqual(requested - (offset / 100 + 1), 4)
        }
        XCTAssertEqual(stored, testSnapshot)
        XCTAssertEqual(allRequests.map(\.offset), [0, 400, 600, 800], "refilled at half the window")
        XCTAssertEqual(allRequests.map(\.credit), [4, 2, 2, 2])
        XCTAssertEqual(d.last, .verifySnapshot(hash: testSnapshotHash, size: 1000))
        XCTAssertEqual(core.activity, .verifying(taskID: 7))
        XCTAssertEqual(core.handle(.snapshotStored(hash: testSnapshotHash, now: .seconds(0.2))), [.train(task)])
        XCTAssertTrue(core.cachedSnapshots.contains(testSnapshotHash))
    }

    func testClampedChunksAndStalledWindowsRecover() {
        var core = WorkerCore(config: config(chunk: 400, credit: 4))
        _ = core.handle(.connected(now: .zero))
        _ = core.handle(.message(.task(task), now: .zero))
        // The coordinator sends 100-byte chunks and only 2 of the 4 asked for.
        var d = core.handle(.message(chunk(0, 100), now: .seconds(0.1)))
        d += core.handle(.message(chunk(100, 100), now: .seconds(0.1)))
        XCTAssertEqual(requests(d).first?.offset, 300, "3 chunks (all 1000 bytes at 400) were asked for; they are 100 bytes")
        XCTAssertEqual(requests(d).first?.chunkSize, 100)
        XCTAssertEqual(core.handle(.message(chunk(400, 100), now: .seconds(0.2))).count, 1, "out of order: logged and dropped")
        d = core.handle(.tick(now: .seconds(2.2)))
        let retry = requests(d)
        XCTAssertEqual(retry.map(\.offset), [200], "re-requested from the first missing byte")
        XCTAssertEqual(retry.map(\.credit), [2], "with half the window")
    }

    func testCachedSnapshotSkipsFetching() {
        var core = WorkerCore(config: config(cached: [testSnapshotHash]))
        _ = core.handle(.connected(now: .zero))
        XCTAssertEqual(core.handle(.message(.task(task), now: .zero)), [.train(task)])
        XCTAssertEqual(core.handle(.message(.task(task), now: .zero)).count, 1, "a duplicate assignment is only logged")
        var r = result(task: 7, incarnation: 0, attempt: 0, job: "")
        let d = core.handle(.trainingFinished(r, now: .seconds(1)))
        r.jobID = "job-1"; r.incarnation = 5; r.attempt = 2
        XCTAssertEqual(d, [.send(.result(r))])
        XCTAssertEqual(core.activity, .idle)
        // The coordinator re-sends the task it thinks is in flight: the result was lost, re-send it.
        XCTAssertEqual(sent(core.handle(.message(.task(task), now: .seconds(2)))), [.result(r)])
    }

    func testATaskFinishedForAnEarlierCoordinatorIsRunAgainNotIgnored() {
        // Tasks 7 then 8 finished; the coordinator is killed before journalling 7, and its successor
        // (attempts start at 1 again) assigns 7 with the attempt the worker already finished.
        var core = WorkerCore(config: config(cached: [testSnapshotHash]))
        _ = core.handle(.connected(now: .zero))
        let seven = TaskAssignment(jobID: "job-1", taskID: 7, attempt: 1, snapshotHash: testSnapshotHash,
                                   snapshotSize: UInt64(testSnapshot.count), jobSpec: [])
        let eight = TaskAssignment(jobID: "job-1", taskID: 8, attempt: 1, snapshotHash: testSnapshotHash,
                                   snapshotSize: UInt64(testSnapshot.count), jobSpec: [])
        for (i, t) in [seven, eight].enumerated() {
            XCTAssertEqual(core.handle(.message(.task(t), now: .seconds(Double(i)))), [.train(t)])
            _ = core.handle(.trainingFinished(result(task: t.taskID, incarnation: 0, attempt: 0, job: ""), now: .seconds(Double(i) + 0.5)))
        }
        _ = core.handle(.connected(now: .seconds(3)))   // the new coordinator
        let again = core.handle(.message(.task(seven), now: .seconds(3)))
        XCTAssertTrue(again.contains(.train(seven)), "\(again)")
        XCTAssertEqual(core.activity, .training(taskID: 7))
    }

    func testTrainingFailureIsReportedAndTheWorkerAsksForMore() {
        var core = WorkerCore(config: config(cached: [testSnapshotHash]))
        _ = core.handle(.connected(now: .zero))
        _ = core.handle(.message(.task(task), now: .zero))
        let busy = sent(core.handle(.message(.task(TaskAssignment(jobID: "job-1", taskID: 8, attempt: 1, snapshotHash: testSnapshotHash, snapshotSize: 1000, jobSpec: [])), now: .zero)))
        XCTAssertEqual(busy, [.error(ErrorReport(code: ClusterErrorCode.busy.rawValue, message: "worker 'w' is busy with task 7", taskID: 8))])
        let d = sent(core.handle(.trainingFailed("NaN loss", now: .seconds(1))))
        XCTAssertEqual(d, [.error(ErrorReport(code: ClusterErrorCode.taskFailed.rawValue, message: "NaN loss", taskID: 7)),
                           .hello(Hello(incarnation: 5, workerName: "w", threads: 1, cachedSnapshots: [testSnapshotHash], ready: true))])
    }

    func testJobOverExits() {
        var core = WorkerCore(config: config())
        _ = core.handle(.connected(now: .zero))
        XCTAssertEqual(core.handle(.message(.jobOver(JobOver(jobID: "job-1", reason: "completed", success: true)), now: .zero)),
                       [.exit(success: true, reason: "job 'job-1' is over: completed")])
        XCTAssertEqual(core.handle(.tick(now: .seconds(10))), [])
    }

    // Pipelining: a worker of capacity 2 holds the next task while it trains the current one.

    func assignment(_ id: UInt64) -> TaskAssignment {
        TaskAssignment(jobID: "job-1", taskID: id, attempt: 1, snapshotHash: testSnapshotHash,
                       snapshotSize: UInt64(testSnapshot.count), jobSpec: [])
    }

    func testWithCapacityTwoTheNextTaskWaitsAndStartsBeforeTheResultIsSent() {
        var core = WorkerCore(config: config(cached: [testSnapshotHash], capacity: 2))
        XCTAssertEqual(sent(core.handle(.connected(now: .zero))),
                       [.hello(Hello(incarnation: 5, workerName: "w", threads: 1, cachedSnapshots: [testSnapshotHash], ready: true, capacity: 2))])
        XCTAssertEqual(core.handle(.message(.task(assignment(7)), now: .zero)), [.train(assignment(7))])
        XCTAssertEqual(core.handle(.message(.task(assignment(8)), now: .zero)), [], "held, not started: one scout trains at a time")
        XCTAssertEqual(core.handle(.message(.task(assignment(8)), now: .zero)).count, 1, "a repeat is only logged")
        XCTAssertEqual(sent(core.handle(.message(.task(assignment(9)), now: .zero))),
                       [.error(ErrorReport(code: ClusterErrorCode.busy.rawValue, message: "worker 'w' is busy with task 7, task 8", taskID: 9))])
        let d = core.handle(.trainingFinished(result(task: 7, incarnation: 0, attempt: 0, job: ""), now: .seconds(1)))
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.first, .train(assignment(8)), "the next scout starts first, so the round trip overlaps its training")
        XCTAssertEqual(sent(d).map(\.kindName), ["result"])
        XCTAssertEqual(core.activity, .training(taskID: 8))
        // Room again: a new assignment is held behind task 8.
        XCTAssertEqual(core.handle(.message(.task(assignment(9)), now: .seconds(1))), [])
    }

    func testAFullWorkerSaysSoAndAFailureStartsTheHeldTask() {
        var core = WorkerCore(config: config(cached: [testSnapshotHash], capacity: 2))
        _ = core.handle(.connected(now: .zero))
        _ = core.handle(.message(.task(assignment(7)), now: .zero))
        _ = core.handle(.message(.task(assignment(8)), now: .zero))
        XCTAssertEqual(sent(core.handle(.connected(now: .seconds(1)))),
                       [.hello(Hello(incarnation: 5, workerName: "w", threads: 1, cachedSnapshots: [testSnapshotHash], ready: false, capacity: 2))],
                       "a reconnect while full is a presence-only Hello")
        let d = core.handle(.trainingFailed("NaN loss", now: .seconds(2)))
        XCTAssertEqual(d, [.send(.error(ErrorReport(code: ClusterErrorCode.taskFailed.rawValue, message: "NaN loss", taskID: 7))),
                           .train(assignment(8)),
                           .send(.hello(Hello(incarnation: 5, workerName: "w", threads: 1, cachedSnapshots: [testSnapshotHash], ready: true, capacity: 2)))])
    }

    func testAnAnnouncedJobIsPreparedAtOnceWhateverTheWorkerIsDoing() {
        var core = WorkerCore(config: config(cached: [testSnapshotHash]))
        _ = core.handle(.connected(now: .zero))
        let announce = JobAnnounce(jobID: "job-1", jobSpec: [1, 2, 3])
        XCTAssertEqual(core.handle(.message(.jobAnnounce(announce), now: .zero)), [.prepareJob(jobID: "job-1", spec: [1, 2, 3])])
        XCTAssertEqual(core.activity, .idle)
        _ = core.handle(.message(.task(task), now: .zero))
        XCTAssertEqual(core.handle(.message(.jobAnnounce(announce), now: .zero)), [.prepareJob(jobID: "job-1", spec: [1, 2, 3])])
        XCTAssertEqual(core.activity, .training(taskID: 7), "an announcement changes nothing else")
    }
}

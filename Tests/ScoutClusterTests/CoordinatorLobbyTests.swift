import XCTest
import ScoutWire
@testable import ScoutCluster

/// The lobby: workers that connect while the coordinator pre-trains are kept alive and admitted
/// when the job starts.
final class CoordinatorLobbyTests: XCTestCase {
    func sends(_ d: [CoordinatorDirective]) -> [(PeerID, WireMessage)] {
        d.compactMap { if case let .send(p, m) = $0 { return (p, m) } else { return nil } }
    }

    func testWaitingWorkersAreHeartbeatedOncePerIntervalWithTheCoordinatorsIncarnation() {
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1))
        XCTAssertTrue(sends(lobby.handle(.tick(now: .zero))).isEmpty, "no one to heartbeat yet")
        // A newcomer is heard at once, not up to an interval later.
        let greeting = sends(lobby.handle(.message(from: PeerID("a"), hello(1), now: .seconds(0.2))))
        XCTAssertEqual(greeting.map(\.0), [PeerID("a")])
        guard case let .heartbeat(beat)? = greeting.first?.1 else { return XCTFail("\(greeting)") }
        XCTAssertEqual(beat.incarnation, 99)
        _ = lobby.handle(.message(from: PeerID("b"), hello(2), now: .seconds(0.5)))
        XCTAssertTrue(sends(lobby.handle(.tick(now: .seconds(0.9)))).isEmpty, "within the interval")
        XCTAssertEqual(sends(lobby.handle(.tick(now: .seconds(1.2)))).map(\.0), [PeerID("a"), PeerID("b")])
        XCTAssertTrue(sends(lobby.handle(.tick(now: .seconds(1.5)))).isEmpty)
        XCTAssertEqual(sends(lobby.handle(.tick(now: .seconds(2.3)))).map(\.0), [PeerID("a"), PeerID("b")])
    }

    func testEachNewcomerIsToldTheComingJobOnce() {
        let announce = JobAnnounce(jobID: "job-1", jobSpec: Array("{}".utf8))
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1), announce: announce)
        let first = sends(lobby.handle(.message(from: PeerID("a"), hello(1), now: .zero)))
        XCTAssertEqual(first.map(\.1.kindName), ["heartbeat", "job announce"])
        XCTAssertEqual(first.last?.1, .jobAnnounce(announce))
        XCTAssertTrue(sends(lobby.handle(.message(from: PeerID("a"), hello(1), now: .seconds(3)))).isEmpty, "its periodic Hello")
        XCTAssertEqual(sends(lobby.handle(.tick(now: .seconds(3)))).map(\.1.kindName), ["heartbeat"])
    }

    func testEachWorkersLatestHelloIsAdmittedInTheOrderWorkersCame() {
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1))
        _ = lobby.handle(.message(from: PeerID("b"), hello(2, ready: false), now: .zero))
        _ = lobby.handle(.message(from: PeerID("a"), hello(1), now: .seconds(1)))
        _ = lobby.handle(.message(from: PeerID("b"), hello(2, capacity: 2), now: .seconds(3)))   // its periodic repeat
        XCTAssertEqual(lobby.admissions.map(\.peer), [PeerID("b"), PeerID("a")])
        XCTAssertEqual(lobby.admissions.map(\.hello.capacity), [2, 1])
        XCTAssertEqual(lobby.admissions.map(\.hello.ready), [true, true])
    }

    func testOtherFramesAreDroppedAndLogged() {
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1))
        var d = lobby.handle(.message(from: PeerID("a"), .result(result(task: 0, incarnation: 1)), now: .zero))
        d += lobby.handle(.message(from: PeerID("a"), .heartbeat(Heartbeat(incarnation: 1, sequence: 1)), now: .zero))
        d += lobby.handle(.malformed(from: PeerID("c"), reason: "garbage", now: .zero))
        d += lobby.handle(.extend(by: 3))
        XCTAssertTrue(sends(d).isEmpty)
        XCTAssertEqual(d.logs.count, 3, "\(d.logs)")
        XCTAssertTrue(d.logs[0].contains("dropped a result frame from a while pre-training"), d.logs[0])
        XCTAssertTrue(lobby.admissions.isEmpty)
    }

    func testAdmittedHellosGetTasksFromTheCore() throws {
        // What the shell does when pre-training ends: feed the kept Hellos to the new core.
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1))
        _ = lobby.handle(.message(from: PeerID("a"), hello(1, capacity: 2), now: .zero))
        _ = lobby.handle(.message(from: PeerID("b"), hello(2, capacity: 2), now: .zero))
        var core = try CoordinatorCore(config: testConfig(tasks: 8))
        let d = core.handle(.admit(lobby.admissions, now: .seconds(5)))
        XCTAssertEqual(d.filter { if case .workerJoined = $0 { return true } else { return false } }.count, 2)
        XCTAssertEqual(d.assignments.map { "\($0.0):\($0.1)" }, ["\(PeerID("a")):0", "\(PeerID("b")):1", "\(PeerID("a")):2", "\(PeerID("b")):3"])
    }

    func testAJobWithAsManyScoutsAsWaitingWorkersGivesEachOne() throws {
        // Admitted one by one, the first workers would each take a second task while the last
        // got none; admitted together, every worker gets one and none is queued.
        var lobby = CoordinatorLobby(incarnation: 99, heartbeatInterval: .seconds(1))
        for i in 1...4 { _ = lobby.handle(.message(from: PeerID("w\(i)"), hello(UInt64(i), capacity: 2), now: .zero)) }
        var core = try CoordinatorCore(config: testConfig(tasks: 4))
        let d = core.handle(.admit(lobby.admissions, now: .seconds(1)))
        XCTAssertEqual(d.assignments.map(\.0), (1...4).map { PeerID("w\($0)") })
        XCTAssertEqual(d.assignments.map(\.1), [0, 1, 2, 3])
    }
}

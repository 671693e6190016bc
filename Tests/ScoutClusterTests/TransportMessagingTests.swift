import Foundation
import Synchronization
import XCTest
@testable import ScoutCluster

/// Options every test socket uses: a receive timeout so that no test can block forever.
func testOptions(_ configure: (inout ZmqSocketOptions) -> Void = { _ in }) -> ZmqSocketOptions {
    var o = ZmqSocketOptions()
    o.receiveTimeoutMs = 2000
    o.sendTimeoutMs = 2000
    configure(&o)
    return o
}

/// A ROUTER bound to an ephemeral loopback port, with its resolved endpoint.
func boundRouter(_ context: ZmqContext, _ options: ZmqSocketOptions = testOptions()) throws -> (ZmqSocket, String) {
    let router = try ZmqSocket(context: context, kind: .router, options: options)
    let endpoint = try router.bind("tcp://127.0.0.1:*")
    return (router, endpoint)
}

/// Polls `condition` every 10 ms for at most `seconds`.
func eventually(within seconds: Double = 2, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

/// A fresh empty directory under the system temp dir.
func makeTempDir() throws -> String {
    let path = NSTemporaryDirectory() + "gtl-transport-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

/// Hands a socket to a test thread. Sound because the test thread does not touch it meanwhile.
struct UncheckedSocket: @unchecked Sendable { let socket: ZmqSocket }

final class TransportMessagingTests: XCTestCase {
    func testRouterDealerMultipartAndEnvelopeRoundTrip() throws {
        let ctx = try ZmqContext()
        let (router, endpoint) = try boundRouter(ctx)
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:") && !endpoint.hasSuffix(":0"), endpoint)
        let dealer = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = Array("worker-1".utf8) })
        try dealer.connect(endpoint)

        let binary = (0...255).map { UInt8($0) }
        XCTAssertEqual(try dealer.send(frames: [Array("task".utf8), [], binary]), .sent)
        var frames = ZmqFrames()
        XCTAssertEqual(try router.receive(frames: &frames), .received)
        XCTAssertEqual(frames.frames, [Array("worker-1".utf8), Array("task".utf8), [], binary])

        XCTAssertEqual(try router.send(frames: [Array("worker-1".utf8), Array("x".utf8), Array("yz".utf8)]), .sent)
        XCTAssertEqual(try dealer.receive(frames: &frames), .received)
        XCTAssertEqual(frames.frames, [Array("x".utf8), Array("yz".utf8)])

        XCTAssertEqual(try dealer.send(Array("result".utf8)), .sent)
        let got = try XCTUnwrap(try router.receiveFromPeer())
        XCTAssertEqual(got.peer, Array("worker-1".utf8))
        XCTAssertEqual(got.payload, Array("result".utf8))

        XCTAssertEqual(try router.send(to: got.peer, Array("snapshot".utf8)), .sent)
        var payload: [UInt8] = []
        XCTAssertEqual(try dealer.receive(into: &payload), .received)
        XCTAssertEqual(payload, Array("snapshot".utf8))
    }

    func testFortyMegabytePayloadsReuseTheReceiveBuffer() throws {
        let ctx = try ZmqContext()
        let (router, endpoint) = try boundRouter(ctx)
        let dealer = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = [7] })
        try dealer.connect(endpoint)

        let size = 40 << 20
        func pattern(_ seed: UInt8) -> [UInt8] {
            var a = [UInt8](repeating: seed, count: size)
            a.withUnsafeMutableBytes { p in
                for i in stride(from: 0, to: size, by: 4096) { p.storeBytes(of: UInt32(i) &+ UInt32(seed), toByteOffset: i, as: UInt32.self) }
            }
            return a
        }
        func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
        }
        let first = pattern(1), second = pattern(2)

        // DEALER -> ROUTER into reused peer/payload buffers.
        var peer: [UInt8] = [], payload: [UInt8] = []
        XCTAssertEqual(try dealer.send(first), .sent)
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload), .received)
        XCTAssertEqual(peer, [7])
        XCTAssertTrue(same(payload, first))
        let base1 = payload.withUnsafeBytes { $0.baseAddress }, capacity1 = payload.capacity
        XCTAssertEqual(try dealer.send(second), .sent)
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload), .received)
        XCTAssertTrue(same(payload, second))
        XCTAssertEqual(payload.withUnsafeBytes { $0.baseAddress }, base1, "second receive must reuse the buffer")
        XCTAssertEqual(payload.capacity, capacity1)

        // ROUTER -> DEALER into a reused payload buffer.
        var down: [UInt8] = []
        XCTAssertEqual(try router.send(to: [7], second), .sent)
        XCTAssertEqual(try dealer.receive(into: &down), .received)
        XCTAssertTrue(same(down, second))
        let base2 = down.withUnsafeBytes { $0.baseAddress }
        XCTAssertEqual(try router.send(to: [7], first), .sent)
        XCTAssertEqual(try dealer.receive(into: &down), .received)
        XCTAssertTrue(same(down, first))
        XCTAssertEqual(down.withUnsafeBytes { $0.baseAddress }, base2)

        // Multipart receive reuses its frame buffers too.
        var frames = ZmqFrames()
        XCTAssertEqual(try dealer.send(first), .sent)
        XCTAssertEqual(try router.receive(frames: &frames), .received)
        let base3 = frames.withFrame(1) { $0.baseAddress }
        XCTAssertEqual(try dealer.send(second), .sent)
        XCTAssertEqual(try router.receive(frames: &frames), .received)
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(frames.withFrame(1) { $0.baseAddress }, base3)
        XCTAssertTrue(frames.withFrame(1) { p in p.count == size && memcmp(p.baseAddress!, second, size) == 0 })
    }

    func testNonBlockingTimeoutAndPoller() throws {
        let ctx = try ZmqContext()
        let (router, endpoint) = try boundRouter(ctx, testOptions { $0.receiveTimeoutMs = 50 })
        let idle = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions())
        let dealer = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = [1] })
        try dealer.connect(endpoint)

        var peer: [UInt8] = [], payload: [UInt8] = []
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload, dontWait: true), .wouldBlock)
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload), .wouldBlock, "ZMQ_RCVTIMEO expiry")
        let poller = ZmqPoller([idle, router])
        let started = Date()
        let quiet = try poller.poll(timeoutMs: 100)
        XCTAssertFalse(quiet.anyReady)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.09)

        XCTAssertEqual(try dealer.send([42]), .sent)
        let ready = try poller.poll(timeoutMs: 2000)
        XCTAssertEqual(ready.readable, [false, true])
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload, dontWait: true), .received)
        XCTAssertEqual(payload, [42])
        XCTAssertEqual(try ZmqPoller([(dealer, .writable)]).poll(timeoutMs: 0).writable, [true])
    }

    func testRouterMandatoryReportsUnknownPeer() throws {
        let ctx = try ZmqContext()
        let (router, _) = try boundRouter(ctx, testOptions { $0.routerMandatory = true })
        XCTAssertEqual(try router.send(to: Array("gone".utf8), [1, 2, 3]), .unroutable)
        let (lax, _) = try boundRouter(ctx)
        XCTAssertEqual(try lax.send(to: Array("gone".utf8), [1, 2, 3]), .sent, "without ROUTER_MANDATORY libzmq drops silently")
    }

    func testMalformedEnvelopeIsDrainedAndReported() throws {
        let ctx = try ZmqContext()
        let (router, endpoint) = try boundRouter(ctx)
        let dealer = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = [9] })
        try dealer.connect(endpoint)
        XCTAssertEqual(try dealer.send(frames: [[1], [2], [3]]), .sent)
        XCTAssertEqual(try dealer.send([4]), .sent)
        var peer: [UInt8] = [], payload: [UInt8] = []
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload), .malformed(frameCount: 4))
        XCTAssertEqual(peer, [9])
        XCTAssertEqual(try router.receiveFromPeer(peer: &peer, payload: &payload), .received)
        XCTAssertEqual(payload, [4], "the next message starts cleanly")

        XCTAssertEqual(try router.send(frames: [[9], [1], [2]]), .sent)
        XCTAssertEqual(try dealer.receive(into: &payload), .malformed(frameCount: 2))
    }

    func testSignalInterruptsBlockingReceive() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: the blocked poll inside libzmq must see EINTR
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        XCTAssertEqual(sigaction(SIGUSR1, &action, &previous), 0)
        defer { sigaction(SIGUSR1, &previous, nil) }

        let ctx = try ZmqContext()
        let (router, _) = try boundRouter(ctx, testOptions { $0.receiveTimeoutMs = 3000 })
        let box = UncheckedSocket(socket: router)
        let thread = Mutex<pthread_t?>(nil)
        let outcome = Mutex<String?>(nil)
        let t = Thread {
            thread.withLock { $0 = pthread_self() }
            var peer: [UInt8] = [], payload: [UInt8] = []
            let r = Result { try box.socket.receiveFromPeer(peer: &peer, payload: &payload) }
            outcome.withLock { $0 = "\(r)" }
        }
        t.start()
        XCTAssertTrue(eventually { thread.withLock { $0 != nil } })
        let tid = thread.withLock { $0! }
        // Repeat the signal until the call returns: one sent before the thread enters libzmq is lost.
        let done = eventually(within: 2.5) {
            if outcome.withLock({ $0 != nil }) { return true }
            pthread_kill(tid, SIGUSR1)
            Thread.sleep(forTimeInterval: 0.05)
            return outcome.withLock { $0 != nil }
        }
        XCTAssertTrue(done)
        XCTAssertEqual(outcome.withLock { $0 }, "success(ScoutCluster.ZmqReceiveStatus.interrupted)")
        _ = eventually(within: 3.5) { outcome.withLock { $0 != nil } }  // never leave the thread inside libzmq
    }

    func testContextShutdownWakesBlockedReceiveAndTerminates() throws {
        var ctx: ZmqContext? = try ZmqContext()
        var router: ZmqSocket? = try ZmqSocket(context: ctx!, kind: .router)  // no receive timeout
        try router!.bind("inproc://shutdown-test")
        let box = UncheckedSocket(socket: router!)
        let outcome = Mutex<String?>(nil)
        Thread {
            var peer: [UInt8] = [], payload: [UInt8] = []
            let r = Result { try box.socket.receiveFromPeer(peer: &peer, payload: &payload) }
            outcome.withLock { $0 = "\(r)" }
        }.start()
        Thread.sleep(forTimeInterval: 0.1)
        ctx!.shutdown()
        XCTAssertTrue(eventually { outcome.withLock { $0 != nil } })
        XCTAssertTrue(outcome.withLock { $0 ?? "" }.contains("terminated"), outcome.withLock { $0 ?? "" })

        // Releasing the socket and then the context must not hang in zmq_ctx_term.
        let released = DispatchSemaphore(value: 0)
        let holder = UncheckedContextRelease(router: router.take()!, context: ctx.take()!)
        Thread { holder.release(); released.signal() }.start()
        XCTAssertEqual(released.wait(timeout: .now() + 2), .success)
    }

    func testOversizedFrameDropsThatClientAndServerKeepsServing() throws {
        let ctx = try ZmqContext()
        let (router, endpoint) = try boundRouter(ctx, testOptions { $0.maxMessageSize = 1 << 20 })
        let big = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = Array("big".utf8) })
        let small = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions { $0.routingID = Array("small".utf8) })
        try big.connect(endpoint)
        try small.connect(endpoint)

        XCTAssertEqual(try big.send([UInt8](repeating: 0xAB, count: 2 << 20)), .sent)
        Thread.sleep(forTimeInterval: 0.2)  // let the oversized frame reach the server first
        XCTAssertEqual(try small.send(Array("hello".utf8)), .sent)
        let got = try XCTUnwrap(try router.receiveFromPeer())
        XCTAssertEqual(got.peer, Array("small".utf8))
        XCTAssertEqual(got.payload, Array("hello".utf8))
        XCTAssertFalse(try router.waitReadable(timeoutMs: 300), "the oversized message must never be delivered")

        // The server still answers and still accepts messages at the limit.
        XCTAssertEqual(try router.send(to: got.peer, Array("ok".utf8)), .sent)
        var reply: [UInt8] = []
        XCTAssertEqual(try small.receive(into: &reply), .received)
        XCTAssertEqual(reply, Array("ok".utf8))
        XCTAssertEqual(try small.send([UInt8](repeating: 1, count: 1 << 20)), .sent)
        let atLimit = try XCTUnwrap(try router.receiveFromPeer())
        XCTAssertEqual(atLimit.payload.count, 1 << 20)
    }

    func testClosedSocketThrowsNamingTheSocket() throws {
        let ctx = try ZmqContext()
        let dealer = try ZmqSocket(context: ctx, kind: .dealer)
        dealer.close()
        XCTAssertThrowsError(try dealer.send([1])) { XCTAssertTrue("\($0)".contains("DEALER socket used after close")) }
        let other = try ZmqSocket(context: ctx, kind: .dealer)
        XCTAssertThrowsError(try other.connect("tcp://nonsense")) { XCTAssertTrue("\($0)".contains("tcp://nonsense"), "\($0)") }
    }
}

/// Moves the last references to a socket and context onto a thread that releases them, so a
/// test can bound how long `zmq_close` + `zmq_ctx_term` take.
final class UncheckedContextRelease: @unchecked Sendable {
    private var router: ZmqSocket?
    private var context: ZmqContext?
    init(router: ZmqSocket, context: ZmqContext) { self.router = router; self.context = context }
    func release() { router = nil; context = nil }
}

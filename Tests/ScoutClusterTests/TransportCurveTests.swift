import Foundation
import Synchronization
import XCTest
@testable import ScoutCluster

/// A CURVE ROUTER on loopback guarded by a ZAP authenticator that allows `allowed`.
/// Collects the authenticator's decisions from its thread.
private final class DecisionLog: Sendable {
    let items = Mutex<[ZapDecision]>([])
    func withLock<R>(_ body: (inout [ZapDecision]) -> R) -> R { items.withLock { body(&$0) } }
}

private final class CurveServer {
    let context: ZmqContext
    let keys: CurveKeyPair
    let authenticator: ZapAuthenticator
    let router: ZmqSocket
    let endpoint: String
    let decisions: DecisionLog

    init(allowing allowed: [CurveKeyPair], requireCurve: Bool = true) throws {
        context = try ZmqContext()
        let serverKeys = try CurveKeyPair.generate()
        keys = serverKeys
        let log = DecisionLog()
        decisions = log
        let auth = try ZapAuthenticator(
            context: context, allowList: try CurveAllowList(z85Keys: allowed.map(\.publicKey)),
            requireCurve: requireCurve, pollIntervalMs: 20, onDecision: { d in log.withLock { $0.append(d) } })
        authenticator = auth
        let opts = testOptions { $0.security = .curveServer(keys: serverKeys, authenticator: auth) }
        router = try ZmqSocket(context: context, kind: .router, options: opts)
        endpoint = try router.bind("tcp://127.0.0.1:*")
    }

    func client(_ keys: CurveKeyPair, id: String) throws -> ZmqSocket {
        let opts = testOptions {
            $0.routingID = Array(id.utf8)
            $0.security = .curveClient(serverPublicKey: self.keys.publicKey, keys: keys)
        }
        let s = try ZmqSocket(context: context, kind: .dealer, options: opts)
        try s.connect(endpoint)
        return s
    }
}

final class TransportCurveTests: XCTestCase {
    func testAllowedCurveClientTalksToServer() throws {
        let worker = try CurveKeyPair.generate()
        let server = try CurveServer(allowing: [worker])
        let client = try server.client(worker, id: "w1")
        XCTAssertEqual(try client.send(Array("hello".utf8)), .sent)
        let got = try XCTUnwrap(try server.router.receiveFromPeer())
        XCTAssertEqual(got.peer, Array("w1".utf8))
        XCTAssertEqual(got.payload, Array("hello".utf8))
        XCTAssertEqual(try server.router.send(to: got.peer, Array("welcome".utf8)), .sent)
        var reply: [UInt8] = []
        XCTAssertEqual(try client.receive(into: &reply), .received)
        XCTAssertEqual(reply, Array("welcome".utf8))

        XCTAssertEqual(server.authenticator.counts, ZapCounts(accepted: 1, denied: 0))
        let d = try XCTUnwrap(server.decisions.withLock { $0.first })
        XCTAssertEqual(d.mechanism, "CURVE")
        XCTAssertEqual(d.clientPublicKey, worker.publicKey)
        XCTAssertEqual(d.address, "127.0.0.1")
        XCTAssertTrue(d.accepted)
    }

    func testUnknownCurveKeyIsRejected() throws {
        let worker = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        let server = try CurveServer(allowing: [worker])
        let intruder = try server.client(stranger, id: "intruder")
        XCTAssertEqual(try intruder.send(Array("let me in".utf8), dontWait: true), .sent)  // queued until a handshake succeeds
        XCTAssertTrue(eventually { server.authenticator.counts.denied >= 1 }, "the ZAP handler must have refused the stranger")
        let denial = try XCTUnwrap(server.decisions.withLock { $0.first { !$0.accepted } })
        XCTAssertEqual(denial.clientPublicKey, stranger.publicKey)
        XCTAssertEqual(denial.statusCode, "400")

        // Positive control on the same server: the allowed worker gets through, the stranger never does.
        let friend = try server.client(worker, id: "friend")
        XCTAssertEqual(try friend.send(Array("hi".utf8)), .sent)
        let got = try XCTUnwrap(try server.router.receiveFromPeer())
        XCTAssertEqual(got.peer, Array("friend".utf8))
        XCTAssertFalse(try server.router.waitReadable(timeoutMs: 500), "nothing from the rejected client may arrive")
        XCTAssertEqual(server.authenticator.counts.accepted, 1)
    }

    func testPlaintextClientIsRejectedByCurveServer() throws {
        let worker = try CurveKeyPair.generate()
        let server = try CurveServer(allowing: [worker])
        let plain = try ZmqSocket(context: server.context, kind: .dealer, options: testOptions { $0.routingID = Array("plain".utf8) })
        try plain.connect(server.endpoint)
        XCTAssertEqual(try plain.send(Array("plaintext".utf8), dontWait: true), .sent)

        let friend = try server.client(worker, id: "friend")
        XCTAssertEqual(try friend.send(Array("hi".utf8)), .sent)
        let got = try XCTUnwrap(try server.router.receiveFromPeer())
        XCTAssertEqual(got.peer, Array("friend".utf8))
        XCTAssertFalse(try server.router.waitReadable(timeoutMs: 500), "the plaintext client's message must not arrive")
        // The mechanism mismatch fails the ZMTP handshake before ZAP is asked.
        XCTAssertEqual(server.authenticator.counts, ZapCounts(accepted: 1, denied: 0))
    }

    func testStoppedAuthenticatorFailsClosed() throws {
        let worker = try CurveKeyPair.generate()
        let server = try CurveServer(allowing: [worker])
        XCTAssertTrue(server.router.zapEnforced, "this libzmq should accept ZMQ_ZAP_ENFORCE_DOMAIN")
        server.authenticator.stop()
        let late = try server.client(worker, id: "late")
        XCTAssertEqual(try late.send(Array("hi".utf8), dontWait: true), .sent)
        XCTAssertFalse(try server.router.waitReadable(timeoutMs: 500),
                       "without a ZAP handler the server must refuse even an allowed key, not accept everyone")
    }

    func testClientWithWrongServerKeyNeverConnects() throws {
        let worker = try CurveKeyPair.generate()
        let server = try CurveServer(allowing: [worker])
        let impostorServerKey = try CurveKeyPair.generate().publicKey
        let opts = testOptions { $0.security = .curveClient(serverPublicKey: impostorServerKey, keys: worker) }
        let client = try ZmqSocket(context: server.context, kind: .dealer, options: opts)
        try client.connect(server.endpoint)
        XCTAssertEqual(try client.send([1], dontWait: true), .sent)
        XCTAssertFalse(try server.router.waitReadable(timeoutMs: 500))
        XCTAssertEqual(server.authenticator.counts.accepted, 0)
    }

    func testZapDecidesPlaintextClientsOnAZapDomainSocket() throws {
        for requireCurve in [true, false] {
            let ctx = try ZmqContext()
            let auth = try ZapAuthenticator(context: ctx, allowList: try CurveAllowList(z85Keys: [try CurveKeyPair.generate().publicKey]),
                                            requireCurve: requireCurve, pollIntervalMs: 20)
            let (router, endpoint) = try boundRouter(ctx, testOptions { $0.zapDomain = "gtl" })
            let plain = try ZmqSocket(context: ctx, kind: .dealer, options: testOptions())
            try plain.connect(endpoint)
            XCTAssertEqual(try plain.send(Array("plain".utf8), dontWait: true), .sent)
            if requireCurve {
                XCTAssertTrue(eventually { auth.counts.denied >= 1 })
                XCTAssertFalse(try router.waitReadable(timeoutMs: 300))
                XCTAssertEqual(auth.counts.accepted, 0)
            } else {
                XCTAssertEqual(try router.receiveFromPeer()?.payload, Array("plain".utf8))
                XCTAssertEqual(auth.counts, ZapCounts(accepted: 1, denied: 0))
            }
        }
    }

    func testZapAnswerCoversMalformedAndForeignRequests() throws {
        let key = try CurveKeyPair.generate()
        let raw = try XCTUnwrap(Z85Key.decode(key.publicKey))
        let list = try CurveAllowList(z85Keys: [key.publicKey])
        func req(_ version: String = "1.0", mechanism: String, _ creds: [[UInt8]]) -> [[UInt8]] {
            [Array(version.utf8), [9, 9], Array("d".utf8), Array("10.0.0.1".utf8), [], Array(mechanism.utf8)] + creds
        }
        let ok = ZapAuthenticator.answer(req(mechanism: "CURVE", [raw]), allowList: list, requireCurve: true)
        XCTAssertEqual(ok.reply, [Array("1.0".utf8), [9, 9], Array("200".utf8), Array(ok.decision.reason.utf8), Array(key.publicKey.utf8), []])
        XCTAssertEqual(ok.decision.address, "10.0.0.1")
        var other = raw
        other[0] ^= 1
        XCTAssertEqual(ZapAuthenticator.answer(req(mechanism: "CURVE", [other]), allowList: list, requireCurve: true).decision.statusCode, "400")
        XCTAssertEqual(ZapAuthenticator.answer(req(mechanism: "CURVE", [Array(raw.prefix(31))]), allowList: list, requireCurve: true).decision.statusCode, "400")
        XCTAssertEqual(ZapAuthenticator.answer(req(mechanism: "PLAIN", [Array("u".utf8), Array("p".utf8)]), allowList: list, requireCurve: false).decision.statusCode, "400")
        XCTAssertEqual(ZapAuthenticator.answer(req(mechanism: "NULL", []), allowList: list, requireCurve: true).decision.statusCode, "400")
        XCTAssertEqual(ZapAuthenticator.answer(req(mechanism: "NULL", []), allowList: list, requireCurve: false).decision.statusCode, "200")
        XCTAssertEqual(ZapAuthenticator.answer(req("2.0", mechanism: "CURVE", [raw]), allowList: list, requireCurve: true).decision.statusCode, "500")
        let short = ZapAuthenticator.answer([Array("1.0".utf8)], allowList: list, requireCurve: true)
        XCTAssertEqual(short.reply.count, 6, "a REP socket must always answer")
        XCTAssertFalse(short.decision.accepted)
    }

    func testCurveServerRequiresARunningAuthenticatorInItsContext() throws {
        let keys = try CurveKeyPair.generate()
        let list = try CurveAllowList(z85Keys: [keys.publicKey])
        let ctx = try ZmqContext(), otherCtx = try ZmqContext()
        let foreign = try ZapAuthenticator(context: otherCtx, allowList: list)
        XCTAssertThrowsError(try ZmqSocket(context: ctx, kind: .router,
                                           options: testOptions { $0.security = .curveServer(keys: keys, authenticator: foreign) })) {
            XCTAssertTrue("\($0)".contains("another context"), "\($0)")
        }
        let auth = try ZapAuthenticator(context: ctx, allowList: list)
        XCTAssertThrowsError(try ZapAuthenticator(context: ctx, allowList: list), "only one ZAP handler per context") {
            XCTAssertTrue("\($0)".contains(ZapAuthenticator.endpoint), "\($0)")
        }
        auth.stop()
        XCTAssertFalse(auth.isRunning)
        XCTAssertThrowsError(try ZmqSocket(context: ctx, kind: .router,
                                           options: testOptions { $0.security = .curveServer(keys: keys, authenticator: auth) })) {
            XCTAssertTrue("\($0)".contains("stopped"), "\($0)")
        }
    }

    func testAuthenticatorStopsPromptlyAndContextTerminates() throws {
        let done = DispatchSemaphore(value: 0)
        let timing = Mutex<Double>(0)
        Thread {
            do {
                let worker = try CurveKeyPair.generate()
                var server: CurveServer? = try CurveServer(allowing: [worker])
                let client = try server!.client(worker, id: "w")
                _ = try client.send([1])
                _ = try server!.router.receiveFromPeer()
                client.close()
                let start = Date()
                server!.authenticator.stop()
                timing.withLock { $0 = Date().timeIntervalSince(start) }
                server = nil  // closes the router, then zmq_ctx_term runs
            } catch {
                timing.withLock { $0 = -1 }
            }
            done.signal()
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 3), .success, "stop + context termination must not hang")
        let t = timing.withLock { $0 }
        XCTAssertGreaterThanOrEqual(t, 0)
        XCTAssertLessThan(t, 0.5)
    }
}

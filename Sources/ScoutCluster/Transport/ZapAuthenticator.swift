import CZmq
import Dispatch
import Foundation
import Synchronization

/// Accepted/denied tallies of a `ZapAuthenticator`, for logs and health output.
public struct ZapCounts: Sendable, Equatable {
    /// Handshakes answered "200".
    public var accepted = 0
    /// Handshakes answered "400" (unknown key, refused mechanism) or "500" (malformed request).
    public var denied = 0
    /// Zero counts.
    public init(accepted: Int = 0, denied: Int = 0) {
        self.accepted = accepted
        self.denied = denied
    }
}

/// One answered ZAP request, as handed to the authenticator's `onDecision` callback, so the
/// coordinator can log which key connected from where and why a peer was refused.
public struct ZapDecision: Sendable, Equatable {
    /// Whether the connection was allowed.
    public let accepted: Bool
    /// The ZAP status code sent back ("200", "400" or "500").
    public let statusCode: String
    /// Why, in words.
    public let reason: String
    /// The ZMTP mechanism the peer used ("CURVE", "NULL", ...).
    public let mechanism: String
    /// The peer's IP address as libzmq reports it.
    public let address: String
    /// The client's CURVE public key in Z85, when the mechanism is CURVE.
    public let clientPublicKey: String?
}

/// The ZAP (ZeroMQ Authentication Protocol, RFC 27) handler of a coordinator.
///
/// Without a handler, a libzmq CURVE server accepts *any* client that knows the server's public
/// key, which is public by design; CURVE then only encrypts. This binds a REP socket to
/// `inproc://zeromq.zap.01` in the server's context and answers each handshake: "200" for a CURVE
/// client whose public key is on the allow-list, "400" otherwise, and "400" for a plaintext
/// (NULL) client when `requireCurve` (libzmq only asks about NULL clients on sockets that set a
/// `zapDomain`; a NULL client talking to a CURVE server fails the handshake before ZAP).
///
/// Create it before the server socket binds (`ZmqSecurity.curveServer` takes it, which enforces
/// the order and keeps it alive as long as the socket). It serves on its own thread, polling with
/// a short timeout so `stop()` (or deinit) takes effect within `pollIntervalMs`; stopping closes
/// the REP socket on that thread, after which the context can terminate.
///
/// `Sendable`: all shared state is behind atomics/mutexes; the REP socket is owned by the thread.
public final class ZapAuthenticator: Sendable {
    /// The context whose CURVE sockets this authenticates.
    public let context: ZmqContext
    /// The ZAP endpoint libzmq connects to; fixed by RFC 27 and libzmq.
    public static let endpoint = "inproc://zeromq.zap.01"
    private let shared: Shared

    private final class Shared: Sendable {
        let stopRequested = Atomic<Bool>(false)
        let exited = Atomic<Bool>(false)
        let counts = Mutex(ZapCounts())
        let lastError = Mutex<String?>(nil)
        let joined = Mutex(false)
        let finished = DispatchSemaphore(value: 0)
    }

    /// Moves the REP socket to the serving thread. `@unchecked Sendable` because a socket is not
    /// thread-safe; this is sound because the creating thread never touches it after `start()`
    /// (which is a memory barrier), as libzmq requires for migrating a socket.
    private struct SocketHandoff: @unchecked Sendable { let socket: ZmqSocket }

    /// Binds the ZAP endpoint in `context` and starts serving. Throws if another handler is
    /// already bound there (EADDRINUSE), so two authenticators never race for requests.
    public init(context: ZmqContext, allowList: CurveAllowList, requireCurve: Bool = true,
                pollIntervalMs: Int = 100, onDecision: (@Sendable (ZapDecision) -> Void)? = nil) throws {
        // Bind before any stored property is set: if this throws, no deinit runs, so `stop()`
        // never waits for a thread that was not started.
        let socket = try ZmqSocket(context: context, kind: .rep)
        try socket.bind(Self.endpoint)
        self.context = context
        let shared = Shared()
        self.shared = shared
        let handoff = SocketHandoff(socket: socket)
        let thread = Thread {
            Self.serve(handoff.socket, shared: shared, allowList: allowList, requireCurve: requireCurve,
                       pollIntervalMs: pollIntervalMs, onDecision: onDecision)
            handoff.socket.close()
            shared.exited.store(true, ordering: .releasing)
            shared.finished.signal()
        }
        thread.name = "gtl-zap"
        thread.start()
    }

    deinit { stop() }

    /// Accepted/denied so far.
    public var counts: ZapCounts { shared.counts.withLock { $0 } }

    /// The last unexpected error the serving loop hit and survived (nil if none).
    public var lastError: String? { shared.lastError.withLock { $0 } }

    /// True until `stop()` or until the context was shut down. A CURVE server socket refuses to
    /// be created with a stopped authenticator, since libzmq would then accept everyone.
    public var isRunning: Bool {
        !shared.stopRequested.load(ordering: .acquiring) && !shared.exited.load(ordering: .acquiring)
    }

    /// Stops serving and waits (at most about `pollIntervalMs`) for the thread to close its
    /// socket. Idempotent. A CURVE server socket still open then refuses new handshakes when its
    /// `zapEnforced` is true (libzmq's default would be to accept them unauthenticated), so close
    /// servers first.
    public func stop() {
        shared.stopRequested.store(true, ordering: .releasing)
        shared.joined.withLock { joined in
            if !joined {
                shared.finished.wait()
                joined = true
            }
        }
    }

    private static func serve(_ socket: ZmqSocket, shared: Shared, allowList: CurveAllowList, requireCurve: Bool,
                              pollIntervalMs: Int, onDecision: (@Sendable (ZapDecision) -> Void)?) {
        guard let handle = socket.handle else { return }
        var request = ZmqFrames()
        while !shared.stopRequested.load(ordering: .acquiring) {
            var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            let rc = zmq_poll(&item, 1, pollIntervalMs)
            if rc < 0 {
                let e = zmq_errno()
                if e == ZmqErrno.terminated { return }  // context shutting down
                if e == EINTR { continue }
                shared.lastError.withLock { $0 = "zmq_poll: \(ZmqErrno.text(e))" }
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            if rc == 0 { continue }
            do {
                guard try socket.receive(frames: &request, dontWait: true) == .received else { continue }
                let (reply, decision) = answer(request.frames, allowList: allowList, requireCurve: requireCurve)
                // A REP socket must reply before it can receive again; libzmq waits for this.
                _ = try socket.send(frames: reply, dontWait: true)
                shared.counts.withLock {
                    if decision.accepted { $0.accepted += 1 } else { $0.denied += 1 }
                }
                onDecision?(decision)
            } catch {
                if zmq_errno() == ZmqErrno.terminated { return }
                shared.lastError.withLock { $0 = "\(error)" }
            }
        }
    }

    /// The reply frames for a ZAP request and the decision behind them. Request frames: version,
    /// request id, domain, address, routing id, mechanism, credentials...; reply frames: version,
    /// request id, status code, status text, user id, metadata. An accepted CURVE client's user id
    /// is its Z85 public key, which libzmq attaches to its messages as "User-Id".
    static func answer(_ request: [[UInt8]], allowList: CurveAllowList, requireCurve: Bool) -> (reply: [[UInt8]], decision: ZapDecision) {
        func text(_ i: Int) -> String { i < request.count ? String(decoding: request[i], as: UTF8.self) : "" }
        let requestID = request.count > 1 ? request[1] : []
        let mechanism = text(5)
        let address = text(3)
        var clientKey: String? = nil
        let code: String, reason: String
        if request.count < 6 || text(0) != "1.0" {
            (code, reason) = ("500", "malformed ZAP request (\(request.count) frames, version \(quoted(text(0))))")
        } else {
            switch mechanism {
            case "CURVE":
                if request.count == 7, request[6].count == 32 {
                    clientKey = Z85Key.encode(request[6])
                    (code, reason) = allowList.contains(rawKey: request[6])
                        ? ("200", "CURVE key on the allow-list") : ("400", "CURVE key not on the allow-list")
                } else {
                    (code, reason) = ("400", "CURVE request without a 32-byte client key")
                }
            case "NULL":
                (code, reason) = requireCurve ? ("400", "plaintext (NULL) clients are not allowed; CURVE is required")
                    : ("200", "plaintext allowed (insecure mode)")
            default:
                (code, reason) = ("400", "mechanism \(quoted(mechanism)) is not allowed")
            }
        }
        let accepted = code == "200"
        let reply: [[UInt8]] = [Array("1.0".utf8), requestID, Array(code.utf8), Array(reason.utf8),
                                accepted ? Array((clientKey ?? "").utf8) : [], []]
        let decision = ZapDecision(accepted: accepted, statusCode: code, reason: reason, mechanism: mechanism,
                                   address: address, clientPublicKey: clientKey)
        return (reply, decision)
    }
}

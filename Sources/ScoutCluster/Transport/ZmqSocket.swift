import CZmq

/// The socket patterns the cluster uses.
public struct ZmqSocketKind: Sendable, Equatable, CustomStringConvertible {
    /// The libzmq type constant.
    let rawValue: Int32
    /// Human name for error messages.
    public let description: String

    /// The coordinator: addresses each worker by routing id, fair-queues their results.
    public static let router = ZmqSocketKind(rawValue: ZMQ_ROUTER, description: "ROUTER")
    /// A worker: one connection to the coordinator, asynchronous in both directions.
    public static let dealer = ZmqSocketKind(rawValue: ZMQ_DEALER, description: "DEALER")
    /// Strict request/reply; only the ZAP handler needs it.
    static let rep = ZmqSocketKind(rawValue: ZMQ_REP, description: "REP")
}

/// One libzmq socket. A class because it owns the C handle (closed in `close()`/deinit) and keeps
/// its `ZmqContext` alive until then.
///
/// Not `Sendable`: libzmq sockets are not thread-safe. Use a socket from one thread at a time;
/// handing it to another thread is allowed by libzmq (with the memory barrier a thread start or
/// lock provides), which is what `ZapAuthenticator` does internally.
public final class ZmqSocket {
    /// The raw handle, nil after `close()`.
    private(set) var handle: UnsafeMutableRawPointer?
    /// The context, retained so it outlives the socket.
    public let context: ZmqContext
    /// ROUTER or DEALER (or internal REP).
    public let kind: ZmqSocketKind
    /// The options applied at creation; `security` decides the bind policy.
    public let options: ZmqSocketOptions
    /// For a CURVE server: whether libzmq accepted ZMQ_ZAP_ENFORCE_DOMAIN, i.e. whether a missing
    /// ZAP handler makes handshakes fail (true) or succeed unauthenticated (false). Worth logging.
    public private(set) var zapEnforced = false
    /// The ZAP domain a CURVE server uses when `options.zapDomain` is unset.
    public static let defaultZapDomain = "gtl"

    /// Creates a socket and applies `options`. Throws naming the first option libzmq rejects.
    public init(context: ZmqContext, kind: ZmqSocketKind, options: ZmqSocketOptions = ZmqSocketOptions()) throws {
        guard let h = zmq_socket(context.handle, kind.rawValue) else {
            throw ZmqErrno.error("zmq_socket(\(kind))")
        }
        self.handle = h
        self.context = context
        self.kind = kind
        self.options = options
        do {
            try apply(options)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the socket now (idempotent). Pending outbound messages are kept for `lingerMs`.
    public func close() {
        if let h = handle {
            zmq_close(h)
            handle = nil
        }
    }

    /// The open handle, or an error saying the socket was closed.
    func open() throws -> UnsafeMutableRawPointer {
        guard let h = handle else { throw ClusterError("\(kind) socket used after close") }
        return h
    }

    // MARK: endpoints

    /// Binds after checking the bind policy (`checkBindSecurity`): a plaintext socket may only
    /// bind loopback/ipc/inproc unless `insecure` is true. Returns the resolved endpoint
    /// (`ZMQ_LAST_ENDPOINT`), which carries the real port when `endpoint` used port 0 or `*`.
    @discardableResult
    public func bind(_ endpoint: String, insecure: Bool = false) throws -> String {
        try checkBindSecurity(endpoint: endpoint, curve: options.security.isCurve, insecure: insecure)
        guard zmq_bind(try open(), endpoint) == 0 else { throw ZmqErrno.error("bind \(kind) to \(endpoint)") }
        return try lastEndpoint()
    }

    /// Connects (asynchronously: libzmq retries in the background at the reconnect interval, so
    /// success here does not mean a peer is there). Throws for a malformed endpoint.
    public func connect(_ endpoint: String) throws {
        guard zmq_connect(try open(), endpoint) == 0 else { throw ZmqErrno.error("connect \(kind) to \(endpoint)") }
    }

    /// Drops a connection made with `connect`, e.g. before pointing a worker at a new coordinator.
    public func disconnect(_ endpoint: String) throws {
        guard zmq_disconnect(try open(), endpoint) == 0 else { throw ZmqErrno.error("disconnect \(kind) from \(endpoint)") }
    }

    /// The endpoint of the last bind/connect, as libzmq resolved it.
    public func lastEndpoint() throws -> String {
        var buf = [CChar](repeating: 0, count: 1024)
        var len = buf.count
        guard zmq_getsockopt(try open(), ZMQ_LAST_ENDPOINT, &buf, &len) == 0 else {
            throw ZmqErrno.error("getsockopt ZMQ_LAST_ENDPOINT")
        }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: options

    private func set(_ option: Int32, _ name: String, int value: Int32) throws {
        var v = value
        guard zmq_setsockopt(try open(), option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZmqErrno.error("setsockopt \(name)=\(value) on \(kind)")
        }
    }

    private func set(_ option: Int32, _ name: String, int64 value: Int64) throws {
        var v = value
        guard zmq_setsockopt(try open(), option, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZmqErrno.error("setsockopt \(name)=\(value) on \(kind)")
        }
    }

    private func set(_ option: Int32, _ name: String, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZmqErrno.error("setsockopt \(name) on \(kind)") }
    }

    private func apply(_ o: ZmqSocketOptions) throws {
        try set(ZMQ_LINGER, "ZMQ_LINGER", int: o.lingerMs)
        if let v = o.maxMessageSize { try set(ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE", int64: v) }
        if let v = o.sendHighWaterMark { try set(ZMQ_SNDHWM, "ZMQ_SNDHWM", int: v) }
        if let v = o.receiveHighWaterMark { try set(ZMQ_RCVHWM, "ZMQ_RCVHWM", int: v) }
        if let v = o.routingID { try set(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", bytes: v) }
        if o.routerMandatory { try set(ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", int: 1) }
        if let hb = o.heartbeat {
            try set(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL", int: hb.intervalMs)
            try set(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT", int: hb.timeoutMs)
            try set(ZMQ_HEARTBEAT_TTL, "ZMQ_HEARTBEAT_TTL", int: hb.ttlMs)
        }
        if o.immediate { try set(ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE", int: 1) }
        if let v = o.reconnectIntervalMs { try set(ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL", int: v) }
        if let v = o.reconnectIntervalMaxMs { try set(ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX", int: v) }
        if let v = o.handshakeIntervalMs { try set(ZMQ_HANDSHAKE_IVL, "ZMQ_HANDSHAKE_IVL", int: v) }
        if let v = o.receiveTimeoutMs { try set(ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO", int: v) }
        if let v = o.sendTimeoutMs { try set(ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO", int: v) }
        if let d = o.zapDomain { try set(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", bytes: Array(d.utf8)) }
        switch o.security {
        case .plaintext:
            break
        case let .curveServer(keys, authenticator):
            guard authenticator.context === context else {
                throw ClusterError("CURVE server \(kind): the ZAP authenticator belongs to another context, so it would never be consulted")
            }
            guard authenticator.isRunning else {
                throw ClusterError("CURVE server \(kind): the ZAP authenticator is stopped; without it libzmq would accept any client")
            }
            try set(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", int: 1)
            // ZMQ_ZAP_ENFORCE_DOMAIN (a draft constant, 93, that Debian's 4.3.4 accepts): if the
            // ZAP handler has gone away, fail the handshake instead of libzmq's default of
            // accepting the client unauthenticated. Under enforcement an *empty* ZAP domain means
            // "no ZAP at all" (everyone accepted, as a test showed), so a domain is set first.
            // Best effort: a libzmq that rejects the option still has the isRunning check above
            // and the socket's reference to the authenticator.
            if o.zapDomain?.isEmpty ?? true {
                try set(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", bytes: Array(Self.defaultZapDomain.utf8))
            }
            var enforce: Int32 = 1
            zapEnforced = zmq_setsockopt(try open(), 93, &enforce, MemoryLayout<Int32>.size) == 0
            try set(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", bytes: Array(keys.secretKey.utf8))
        case let .curveClient(serverPublicKey, keys):
            guard Z85Key.isValid(serverPublicKey) else {
                throw ClusterError("CURVE client \(kind): the server public key is not a 40-character Z85 key")
            }
            try set(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", bytes: Array(serverPublicKey.utf8))
            try set(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", bytes: Array(keys.publicKey.utf8))
            try set(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", bytes: Array(keys.secretKey.utf8))
        }
    }
}

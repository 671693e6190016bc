/// How a socket authenticates and encrypts its connections.
public enum ZmqSecurity: Sendable {
    /// No encryption, no authentication (ZMTP NULL). Only for loopback, or with `--insecure`.
    case plaintext
    /// The coordinator side: `ZMQ_CURVE_SERVER=1` with its secret key. It takes the
    /// authenticator because without a ZAP handler libzmq accepts *any* client that knows the
    /// server's public key; the socket keeps the authenticator alive so the two cannot drift
    /// apart, and it must live in the same context.
    case curveServer(keys: CurveKeyPair, authenticator: ZapAuthenticator)
    /// The worker side: the coordinator's public key plus the worker's own pair, whose public
    /// half must be on the coordinator's allow-list.
    case curveClient(serverPublicKey: String, keys: CurveKeyPair)

    /// Whether the socket speaks CURVE (used by the bind policy).
    public var isCurve: Bool {
        if case .plaintext = self { return false }
        return true
    }
}

/// TCP keep-alive at the ZMTP level: a PING every `intervalMs`, the connection is dropped when
/// no traffic arrives for `timeoutMs`, and the peer is told to drop it after `ttlMs`. This is how
/// a coordinator notices a worker whose machine vanished without a FIN.
public struct ZmqHeartbeat: Sendable, Equatable {
    /// ZMQ_HEARTBEAT_IVL in milliseconds.
    public var intervalMs: Int32
    /// ZMQ_HEARTBEAT_TIMEOUT in milliseconds.
    public var timeoutMs: Int32
    /// ZMQ_HEARTBEAT_TTL in milliseconds (libzmq stores deciseconds; 0 = none).
    public var ttlMs: Int32
    /// Sets all three; a timeout of 3-5 intervals tolerates a busy peer.
    public init(intervalMs: Int32, timeoutMs: Int32, ttlMs: Int32 = 0) {
        self.intervalMs = intervalMs
        self.timeoutMs = timeoutMs
        self.ttlMs = ttlMs
    }
}

/// Everything set on a socket before it binds or connects. A value type applied once in
/// `ZmqSocket.init`, because most libzmq options only affect connections made afterwards and
/// setting them later is a silent no-op for existing peers.
public struct ZmqSocketOptions: Sendable {
    /// ZMQ_LINGER in ms: how long `close` keeps unsent messages. 0 (default) drops them, which
    /// keeps shutdown instant; -1 would make context termination wait for slow peers.
    public var lingerMs: Int32 = 0
    /// ZMQ_MAXMSGSIZE in bytes (nil = unlimited). A peer that sends a larger frame is
    /// disconnected by libzmq before the frame is allocated: the guard against a client that
    /// announces a 2^63-byte message.
    public var maxMessageSize: Int64? = nil
    /// ZMQ_SNDHWM: messages queued per peer before sends block or drop (nil = libzmq's 1000).
    public var sendHighWaterMark: Int32? = nil
    /// ZMQ_RCVHWM: messages queued per peer on the receive side (nil = libzmq's 1000).
    public var receiveHighWaterMark: Int32? = nil
    /// ZMQ_ROUTING_ID: the name a DEALER presents to a ROUTER (1-255 bytes, not starting with
    /// 0), so a restarted worker keeps its identity; nil lets the ROUTER invent one.
    public var routingID: [UInt8]? = nil
    /// ZMQ_ROUTER_MANDATORY: sending to an unknown peer reports `.unroutable` instead of being
    /// silently dropped, so the coordinator learns a worker is gone.
    public var routerMandatory: Bool = false
    /// ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL, or nil for none.
    public var heartbeat: ZmqHeartbeat? = nil
    /// ZMQ_IMMEDIATE: queue messages only to completed connections, so a DEALER does not pile
    /// up messages for a coordinator that is not there yet.
    public var immediate: Bool = false
    /// ZMQ_RECONNECT_IVL in ms (nil = libzmq's 100).
    public var reconnectIntervalMs: Int32? = nil
    /// ZMQ_RECONNECT_IVL_MAX in ms: exponential back-off cap (nil = no back-off).
    public var reconnectIntervalMaxMs: Int32? = nil
    /// ZMQ_HANDSHAKE_IVL in ms: how long a connection may take to finish ZMTP/CURVE (nil =
    /// libzmq's 30 s).
    public var handshakeIntervalMs: Int32? = nil
    /// ZMQ_RCVTIMEO in ms: a blocking receive gives up with `.wouldBlock` after this
    /// (nil/-1 = wait forever); keeps loops responsive to stop flags.
    public var receiveTimeoutMs: Int32? = nil
    /// ZMQ_SNDTIMEO in ms, as above for sends.
    public var sendTimeoutMs: Int32? = nil
    /// ZMQ_ZAP_DOMAIN. A CURVE server needs one (it defaults to `ZmqSocket.defaultZapDomain`)
    /// because it enforces ZAP; for a plaintext socket, setting a domain is what makes libzmq ask
    /// the handler at all.
    public var zapDomain: String? = nil
    /// Plaintext or CURVE server/client.
    public var security: ZmqSecurity = .plaintext

    /// Defaults: linger 0, everything else libzmq's default, plaintext.
    public init() {}
}

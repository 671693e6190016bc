import ScoutWire

/// The coordinator while its job is not ready yet (pre-training the base): workers can already
/// connect, and are kept waiting rather than left to time out.
///
/// The socket is bound before pre-training so that workers started alongside the coordinator
/// (local workers, a Slurm array, a Kubernetes Job) connect, load, and are admitted the moment
/// the snapshot exists. Without the lobby they would hear nothing for the whole pre-training,
/// take the coordinator for dead after `coordinatorDeadAfter` intervals, and back off for up to
/// `backoffMax` before trying again, so the job would start seconds late. Rules:
/// - Every peer that sent a Hello is heartbeated once per interval, with the coordinator's
///   incarnation (the same one the core uses afterwards).
/// - Each newcomer is told the coming job (`JobAnnounce`), so it loads and checks its data set
///   during pre-training rather than after its first task arrives.
/// - Each peer's latest Hello is kept, in the order peers first spoke, for the core to admit
///   (`admissions`), so no worker waits for its next periodic Hello.
/// - Anything else is dropped with a log line: there is no task yet that a frame could answer,
///   and results of an earlier coordinator's tasks are not this job's to record.
public struct CoordinatorLobby: Sendable {
    /// The coordinator's incarnation, sent in heartbeats.
    public let incarnation: UInt64
    /// How often waiting workers are heartbeated.
    public let heartbeatInterval: Duration
    /// The job, announced to each worker that joins the lobby.
    public let announce: JobAnnounce?

    var order: [PeerID] = []
    var hellos: [PeerID: Hello] = [:]
    var lastHeartbeat: Instant?
    var heartbeatSequence: UInt64 = 0

    /// An empty lobby for a coordinator of `incarnation` heartbeating every `heartbeatInterval`
    /// and announcing `announce` to each newcomer.
    public init(incarnation: UInt64, heartbeatInterval: Duration, announce: JobAnnounce? = nil) {
        self.incarnation = incarnation
        self.heartbeatInterval = heartbeatInterval
        self.announce = announce
    }

    /// The peers waiting, in the order they first said Hello.
    public var waiting: [PeerID] { order }

    /// Each waiting peer's latest Hello, in the order the peers first said Hello: what the core
    /// is fed (`.admit`) when the job starts.
    public var admissions: [LobbyAdmission] { order.map { LobbyAdmission(peer: $0, hello: hellos[$0]!) } }

    /// Applies one event; returns heartbeats to send and log lines. `.extend` is not a lobby
    /// matter (the job's size is read when it starts) and yields nothing.
    public mutating func handle(_ event: CoordinatorEvent) -> [CoordinatorDirective] {
        var out: [CoordinatorDirective] = []
        switch event {
        case let .message(peer, .hello(hello), now):
            if hellos.updateValue(hello, forKey: peer) == nil {
                order.append(peer)
                // Heard at once, not up to an interval later: a worker that connects late in a
                // long pre-training must not be left silent.
                out.append(.send(to: peer, beat(now: now, advance: false)))
                if let announce { out.append(.send(to: peer, .jobAnnounce(announce))) }
            }
        case let .message(peer, .heartbeat, _):
            if hellos[peer] == nil {
                out.append(.log("dropped a heartbeat from \(peer) while pre-training: it must send a hello"))
            }
        case let .message(peer, message, _):
            out.append(.log("dropped a \(message.kindName) frame from \(peer) while pre-training: no task has been handed out yet"))
        case let .malformed(peer, reason, _):
            out.append(.log("dropped an undecodable frame from \(peer) while pre-training: \(reason)"))
        case let .tick(now):
            guard lastHeartbeat.map({ now - $0 >= heartbeatInterval }) ?? true else { break }
            let message = beat(now: now, advance: true)
            for peer in order { out.append(.send(to: peer, message)) }
        case .extend, .admit:
            break
        }
        return out
    }

    /// The next heartbeat; `advance` starts a new interval (a tick), otherwise the current
    /// sequence number is repeated (a greeting to one new peer).
    mutating func beat(now: Instant, advance: Bool) -> WireMessage {
        if advance || lastHeartbeat == nil {
            lastHeartbeat = now
            heartbeatSequence += 1
        }
        return .heartbeat(Heartbeat(incarnation: incarnation, sequence: heartbeatSequence))
    }
}

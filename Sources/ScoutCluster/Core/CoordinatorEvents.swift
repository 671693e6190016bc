import ScoutWire

/// Something that happened to the coordinator, fed to `CoordinatorCore.handle(_:)` by the shell.
///
/// Events carry the time they were observed so that the core never reads a clock.
public enum CoordinatorEvent: Sendable, Equatable {
    /// A decoded frame arrived from a peer. Any frame from a known peer proves it alive
    /// (the Paranoid Pirate rule), whatever it says.
    case message(from: PeerID, WireMessage, now: Instant)
    /// A frame arrived that did not decode; `reason` is the decoder's description. It still
    /// proves a known peer alive, and is otherwise only logged.
    case malformed(from: PeerID, reason: String, now: Instant)
    /// Time passed: send heartbeats when due, declare silent workers suspect or dead.
    case tick(now: Instant)
    /// Add `count` more scout tasks, numbered after the existing ones.
    case extend(by: Int)
    /// The workers that waited in the lobby, with their latest Hellos in the order they came:
    /// all are admitted before any task is handed out, so a job with few scouts per worker is
    /// spread over all of them instead of queued on the first to be admitted.
    case admit([LobbyAdmission], now: Instant)
}

/// One worker waiting in the lobby: where it speaks from and its latest Hello.
public struct LobbyAdmission: Sendable, Equatable {
    /// The worker's routing id.
    public let peer: PeerID
    /// Its latest Hello.
    public let hello: Hello

    /// An admission of `peer` with `hello`.
    public init(peer: PeerID, hello: Hello) {
        self.peer = peer
        self.hello = hello
    }
}

/// Something the shell must do on the core's behalf, returned by `CoordinatorCore.handle(_:)`
/// in the order it should be done.
public enum CoordinatorDirective: Sendable, Equatable {
    /// Send a frame to a peer.
    case send(to: PeerID, WireMessage)
    /// Send bytes `offset ..< offset + length` of the snapshot `snapshotHash` as one
    /// `SnapshotChunk`; the shell reads them from its store, so the core never holds them.
    case sendChunk(to: PeerID, snapshotHash: [UInt8], offset: UInt64, length: Int)
    /// Journal this result and feed it to the reducer: emitted once per task id, ever.
    case record(ScoutWire.ScoutResult)
    /// A worker incarnation joined (for logs and progress display).
    case workerJoined(PeerID, incarnation: UInt64)
    /// A worker went silent long enough to get no new work (for logs).
    case workerSuspect(PeerID, incarnation: UInt64)
    /// A worker incarnation is considered gone; its task, if any, follows as `.requeued`.
    case workerDead(PeerID, incarnation: UInt64)
    /// A task was taken back from a worker and will be assigned again.
    case requeued(taskID: UInt64, reason: String)
    /// Every task is recorded: tell all workers the job is over and exit successfully.
    case finished
    /// The job cannot complete: tell all workers, report `reason`, exit unsuccessfully.
    case failed(reason: String)
    /// A line for the log: dropped frames and other things an operator may want to see.
    case log(String)
}

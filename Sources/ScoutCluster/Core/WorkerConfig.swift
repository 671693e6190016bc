/// A worker's identity, timing and transfer settings.
public struct WorkerConfig: Sendable, Equatable {
    /// Human-readable name sent in Hello, for the coordinator's logs.
    public var name: String
    /// Compute threads this worker trains with, reported in Hello.
    public var threads: UInt32
    /// Random per process start (chosen by the shell): tells the coordinator this process
    /// from an earlier one on the same machine, so a restart's lost task is requeued.
    public var incarnation: UInt64
    /// Heartbeat period and unit of silence, matching the coordinator's.
    public var heartbeatInterval: Duration
    /// Silent intervals after which the coordinator is presumed gone and the socket reopened
    /// (Paranoid Pirate); also how often an idle worker repeats its ready Hello.
    public var coordinatorDeadAfter: Int
    /// First reconnect delay; doubled after every reconnect that hears nothing back.
    public var backoffInitial: Duration
    /// Cap on the reconnect delay, so a worker comes back soon after a long outage.
    public var backoffMax: Duration
    /// Bytes per snapshot chunk requested.
    public var chunkSize: Int
    /// Chunks requested ahead (the credit window); halved after a stalled window.
    public var credit: Int
    /// Snapshots already on disk, by SHA-256: tasks on them skip the transfer.
    public var cachedSnapshots: Set<[UInt8]>
    /// Tasks held at once (the one training plus those queued behind it), announced in Hello.
    /// 2 hides the round trip between scouts (result out, next task in) behind training; 1 is
    /// the one-task-at-a-time protocol.
    public var capacity: Int

    /// Builds a configuration with defaults that match `CoordinatorConfig`'s.
    public init(name: String, threads: UInt32 = 1, incarnation: UInt64,
                heartbeatInterval: Duration = .seconds(1), coordinatorDeadAfter: Int = 3,
                backoffInitial: Duration = .milliseconds(250), backoffMax: Duration = .seconds(8),
                chunkSize: Int = SnapshotTransferDefaults.chunkSize, credit: Int = SnapshotTransferDefaults.credit,
                cachedSnapshots: Set<[UInt8]> = [], capacity: Int = 2) {
        self.name = name
        self.threads = threads
        self.incarnation = incarnation
        self.heartbeatInterval = heartbeatInterval
        self.coordinatorDeadAfter = coordinatorDeadAfter
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.chunkSize = max(1, chunkSize)
        self.credit = max(1, credit)
        self.cachedSnapshots = cachedSnapshots
        self.capacity = min(max(1, capacity), WorkerConfig.maxCapacity)
    }

    /// The most tasks a worker may hold; more would only unbalance a job's last scouts.
    public static let maxCapacity = 8
}

/// Everything a `CoordinatorCore` needs to know about its job and its timing.
///
/// A plain value so that the shell builds it from the command line and the job spec, and tests
/// build it in one line with short intervals.
public struct CoordinatorConfig: Sendable, Equatable {
    /// The job's id: stamped on every assignment; results for another job are dropped.
    public var jobID: String
    /// Scout tasks at start: task ids are `0 ..< taskCount` (more may be added by `.extend`).
    public var taskCount: UInt64
    /// SHA-256 of the base model snapshot, the only snapshot this coordinator serves.
    public var snapshotHash: [UInt8]
    /// The snapshot's size in bytes, sent with each assignment and bounding chunk requests.
    public var snapshotSize: UInt64
    /// The serialized job spec, passed opaquely to workers with each assignment.
    public var jobSpec: [UInt8]
    /// The coordinator's own incarnation, carried in its heartbeats so that a worker can tell
    /// a restarted coordinator from a slow one.
    public var incarnation: UInt64
    /// How often the coordinator heartbeats each worker and the unit of silence below.
    public var heartbeatInterval: Duration
    /// Silent intervals after which a worker is suspect: it keeps its task but gets no new one.
    public var suspectAfter: Int
    /// Silent intervals after which a worker is dead: removed, its task requeued.
    public var deadAfter: Int
    /// Losses a task may suffer (worker death, restart, error report) before the job fails:
    /// a task that kills every worker it touches must not loop forever.
    public var maxAttempts: UInt32
    /// Largest snapshot chunk the coordinator sends, whatever a worker asks for.
    public var maxChunkSize: Int
    /// Most chunks granted per request, whatever credit a worker offers.
    public var maxCredit: Int

    /// Builds a configuration; timing and transfer limits have defaults suited to a LAN.
    public init(jobID: String, taskCount: UInt64, snapshotHash: [UInt8], snapshotSize: UInt64,
                jobSpec: [UInt8], incarnation: UInt64 = 0,
                heartbeatInterval: Duration = .seconds(1), suspectAfter: Int = 3, deadAfter: Int = 6,
                maxAttempts: UInt32 = 3,
                maxChunkSize: Int = SnapshotTransferDefaults.chunkSize,
                maxCredit: Int = SnapshotTransferDefaults.credit) {
        self.jobID = jobID
        self.taskCount = taskCount
        self.snapshotHash = snapshotHash
        self.snapshotSize = snapshotSize
        self.jobSpec = jobSpec
        self.incarnation = incarnation
        self.heartbeatInterval = heartbeatInterval
        self.suspectAfter = suspectAfter
        self.deadAfter = deadAfter
        self.maxAttempts = maxAttempts
        self.maxChunkSize = maxChunkSize
        self.maxCredit = maxCredit
    }

    /// Rejects settings that would make the core misbehave (zero chunk size, dead before
    /// suspect, no attempts), naming the setting, so a bad flag fails at startup.
    public func validate() throws(ClusterError) {
        if snapshotHash.count != 32 {
            throw ClusterError("snapshot hash is \(snapshotHash.count) bytes, a SHA-256 hash must be 32")
        }
        if heartbeatInterval <= .zero { throw ClusterError("heartbeat interval must be positive, got \(heartbeatInterval)") }
        if suspectAfter < 1 { throw ClusterError("suspect-after must be at least 1 interval, got \(suspectAfter)") }
        if deadAfter <= suspectAfter {
            throw ClusterError("dead-after (\(deadAfter)) must exceed suspect-after (\(suspectAfter))")
        }
        if maxAttempts < 1 { throw ClusterError("max attempts must be at least 1") }
        if maxChunkSize < 1 { throw ClusterError("max chunk size must be at least 1 byte, got \(maxChunkSize)") }
        if maxCredit < 1 { throw ClusterError("max credit must be at least 1 chunk, got \(maxCredit)") }
    }
}

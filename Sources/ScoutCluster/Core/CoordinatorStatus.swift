/// Where the job stands, read by the shell for progress lines; a snapshot, not a live view.
public struct CoordinatorStatus: Sendable, Equatable {
    /// Tasks whose result is recorded (including those recovered from the journal).
    public var recorded: UInt64
    /// Tasks in the job now (grows with `.extend`).
    public var total: UInt64
    /// Tasks assigned to a worker and not yet answered.
    public var inFlight: Int
    /// Tasks waiting for a worker (never assigned, or requeued).
    public var pending: UInt64
    /// Workers heard from recently enough to receive tasks.
    public var liveWorkers: Int
    /// Workers silent long enough to receive no new tasks, not yet declared dead.
    public var suspectWorkers: Int
    /// Whether the job is still running, finished, or failed.
    public var phase: CoordinatorPhase
}

/// The coordinator's lifecycle: once it leaves `.running` it stays put and ignores events.
public enum CoordinatorPhase: Sendable, Equatable {
    /// Tasks remain to be recorded.
    case running
    /// Every task is recorded.
    case finished
    /// The job was abandoned for the given reason.
    case failed(String)
}

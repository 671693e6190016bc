import ScoutWire

/// The coordinator's whole decision logic as a pure state machine: events in, directives out.
///
/// Modelled on swift-cluster-membership's `SWIM.Instance`: a plain struct with no sockets,
/// clock, disk or randomness, so every rule below is tested by feeding events with a fake clock
/// and reading the directives, and the shell is a thin loop that performs them.
///
/// Rules (each has a test in `CoordinatorCoreTests`):
/// - A worker is admitted only by a `Hello`; it is identified by its incarnation, reached via
///   the `PeerID` it last spoke from. A Hello from a known peer with a new incarnation means the
///   worker restarted: the old incarnation is dead and its task is requeued.
/// - A worker that said it is ready (a `Hello` with `ready`, or any result) and is not suspect
///   gets the lowest pending task, in join order, and may hold up to the capacity its Hello
///   announced. Tasks beyond the first one a worker holds are handed out only while at least as
///   many tasks are pending as there are live workers, so the job's last scouts are not queued
///   behind a busy worker while another one idles. Workers admitted together from the lobby
///   (`.admit`) all join before any task is handed out.
/// - A worker that refuses a task as busy loses nothing: the task is requeued without counting
///   an attempt, and the worker gets no more until it reports a result or a ready Hello.
/// - A result is recorded only if it answers the task and attempt currently assigned to the
///   incarnation that sent it. So late results from dead incarnations, stale attempts and
///   duplicates are dropped, each task is recorded exactly once, and nothing is counted twice.
///   Deliberately, a valid result from a worker declared dead is dropped even if its task is
///   still pending: which attempt counts then never depends on timing.
/// - A worker silent for `suspectAfter` intervals gets no new tasks; any frame revives it. One
///   silent for `deadAfter` intervals is dead and its task requeued.
/// - Each loss of a task (death, restart, error report) counts against `maxAttempts`; reaching
///   it fails the job with a reason naming the task and its last failure.
/// - Frames the coordinator should never receive are dropped with a `.log`; they never stop
///   other workers from being served.
public struct CoordinatorCore: Sendable {
    /// The job and timing this core was built with (`taskCount` is the initial count).
    public let config: CoordinatorConfig

    var queue: TaskQueue
    var workers: [PeerID: WorkerRecord] = [:]
    var peerOfIncarnation: [UInt64: PeerID] = [:]
    var deadIncarnations: Set<UInt64> = []
    var nextJoinOrder = 0
    /// Assignments made per task: the next assignment's attempt number is this plus one.
    var assignments: [UInt64: UInt32] = [:]
    /// Losses per task, compared against `maxAttempts`.
    var losses: [UInt64: UInt32] = [:]
    var lastHeartbeat: Instant?
    var heartbeatSequence: UInt64 = 0
    var phase: CoordinatorPhase = .running

    /// Starts a job; `completed` holds task ids already recorded (from the journal, for
    /// `--resume`), which are never assigned again. Throws if the configuration is invalid or a
    /// completed id lies outside the job.
    public init(config: CoordinatorConfig, completed: Set<UInt64> = []) throws(ClusterError) {
        try config.validate()
        if let bad = completed.first(where: { $0 >= config.taskCount }) {
            throw ClusterError("journal records task \(bad) but job '\(config.jobID)' has only \(config.taskCount) tasks")
        }
        self.config = config
        self.queue = TaskQueue(total: config.taskCount, completed: completed)
    }

    /// Progress for display: counts of tasks and workers, and the phase.
    public var status: CoordinatorStatus {
        let live = workers.values.filter { !$0.suspect }.count
        return CoordinatorStatus(
            recorded: UInt64(queue.recorded.count), total: queue.total,
            inFlight: workers.values.reduce(0) { $0 + $1.held.count },
            pending: queue.pendingCount, liveWorkers: live, suspectWorkers: workers.count - live,
            phase: phase)
    }

    /// Task ids recorded so far, e.g. to cross-check the journal.
    public var recordedTasks: Set<UInt64> { queue.recorded }

    /// Applies one event and returns what the shell must do, in order. Once the job has
    /// failed, events are ignored and yield nothing; a finished job ignores everything but
    /// `.extend`, which reopens it (the shell decides after `.finished` whether more scouts are
    /// needed, e.g. until the guide values converge), and `.tick`, which keeps heartbeating: the
    /// workers are still connected while the shell computes and writes the guide, and one that
    /// hears nothing for long takes the coordinator for dead and misses the job-over message.
    public mutating func handle(_ event: CoordinatorEvent) -> [CoordinatorDirective] {
        if phase == .finished, case let .extend(count) = event, count > 0 { phase = .running }
        if phase == .finished, case let .tick(now) = event {
            var out: [CoordinatorDirective] = []
            heartbeat(now: now, into: &out)
            return out
        }
        guard phase == .running else { return [] }
        var out: [CoordinatorDirective] = []
        switch event {
        case let .message(peer, message, now):
            onMessage(from: peer, message, now: now, into: &out)
        case let .malformed(peer, reason, now):
            touch(peer, now: now, into: &out)
            out.append(.log("dropped an undecodable frame from \(peer): \(reason)"))
        case let .tick(now):
            onTick(now: now, into: &out)
        case let .admit(admissions, now):
            for a in admissions { onHello(from: a.peer, a.hello, now: now, into: &out) }
        case let .extend(count):
            if count > 0 {
                let first = queue.total
                queue.extend(by: UInt64(count))
                out.append(.log("job extended by \(count) tasks (ids \(first) ..< \(queue.total))"))
            } else {
                out.append(.log("ignored a request to extend the job by \(count) tasks"))
            }
        }
        if phase == .running {
            dispatch(into: &out)
            if UInt64(queue.recorded.count) == queue.total {
                phase = .finished
                out.append(.finished)
            }
        }
        return out
    }
}

/// The coordinator's view of one live worker incarnation.
struct WorkerRecord: Sendable {
    var peer: PeerID
    let incarnation: UInt64
    let name: String
    /// Join order, for deterministic iteration when handing out tasks.
    let order: Int
    var lastSeen: Instant
    var suspect = false
    /// The worker said it has room for work (a ready Hello or a result) and has not filled up
    /// or said otherwise since (a Hello that is not ready, a busy refusal).
    var wantsWork = false
    /// Tasks it announced it can hold at once (1 for a worker that does not say).
    var capacity = 1
    /// The attempts assigned to it and not yet answered, oldest first.
    var held: [HeldTask] = []
    /// Tasks that failed on this incarnation, which it is given again only as a last resort.
    var failedTasks: Set<UInt64> = []

    /// "name (peer, incarnation 0x…)" for log lines.
    var label: String { "worker '\(name)' (\(peer), incarnation \(hex(incarnation)))" }
}

/// One attempt at one task, as assigned to a worker.
struct HeldTask: Sendable, Equatable {
    let task: UInt64
    let attempt: UInt32
}

/// An incarnation as 16 hex digits, as logs show it.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

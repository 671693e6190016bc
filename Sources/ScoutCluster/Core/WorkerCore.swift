import ScoutWire

/// The worker's whole protocol logic as a pure state machine: events in, directives out.
///
/// Like `CoordinatorCore` it owns no socket, clock, disk or model: it decides what to send,
/// when to fetch, train, reconnect or exit, and the shell does it. Rules:
/// - On every (re)connect it sends a Hello, ready if it has room for a task, with its capacity.
/// - It holds up to `capacity` tasks: one it fetches or trains, the rest queued in arrival
///   order. When one finishes, the next starts before the result is sent, so the round trip
///   to the coordinator (result out, next task in) overlaps training instead of idling the
///   worker. An assignment beyond capacity is refused as busy.
/// - It heartbeats every interval while connected; if the coordinator is silent for
///   `coordinatorDeadAfter` intervals it asks to reconnect after a backoff that doubles from
///   `backoffInitial` to `backoffMax` and resets when the coordinator is heard again.
/// - An idle worker repeats its ready Hello every `coordinatorDeadAfter` intervals, so a lost
///   assignment or result is recovered (the coordinator re-sends the task it thinks it holds).
/// - A task whose snapshot is cached is trained at once; otherwise the snapshot is fetched in
///   credit windows, in order, and verified by the shell before training.
/// - A duplicate assignment is ignored; a re-sent assignment for the task it just finished is
///   answered by re-sending that result (the first copy may have been lost). An assignment of a
///   task finished earlier is run again: a restarted coordinator numbers attempts afresh and may
///   have lost that result, and ignoring it would stall the job.
public struct WorkerCore: Sendable {
    /// The identity and timing this core was built with.
    public let config: WorkerConfig

    /// What the worker is doing now.
    public internal(set) var activity: WorkerActivity = .idle
    /// Whether the shell's socket is believed up (false between `.reconnect` and `.connected`).
    public internal(set) var isConnected = false
    /// Snapshots known to be stored locally, by SHA-256.
    public internal(set) var cachedSnapshots: Set<[UInt8]>
    /// The next reconnect delay.
    public internal(set) var backoff: Duration
    /// Chunks requested ahead; halved when a window stalls (the coordinator may grant less).
    public internal(set) var creditWindow: Int

    var current: TaskAssignment?
    /// Assignments held behind `current`, oldest first.
    var queued: [TaskAssignment] = []
    var fetch: FetchState?
    var lastResult: ScoutWire.ScoutResult?
    var finished: Set<TaskKey> = []
    var lastHeard = Instant.zero
    var lastHeartbeat: Instant?
    var lastHello = Instant.zero
    var heartbeatSequence: UInt64 = 0

    /// A worker that has not connected yet; the shell opens its socket and reports `.connected`.
    public init(config: WorkerConfig) {
        self.config = config
        self.cachedSnapshots = config.cachedSnapshots
        self.backoff = config.backoffInitial
        self.creditWindow = config.credit
    }

    /// Applies one event and returns what the shell must do, in order. After `.exit`, nothing.
    public mutating func handle(_ event: WorkerEvent) -> [WorkerDirective] {
        guard activity != .exited else { return [] }
        var out: [WorkerDirective] = []
        switch event {
        case let .connected(now):
            onConnected(now: now, into: &out)
        case let .message(message, now):
            onMessage(message, now: now, into: &out)
        case let .tick(now):
            onTick(now: now, into: &out)
        case let .snapshotStored(hash, now):
            guard case .verifying = activity, let task = current, task.snapshotHash == hash else {
                out.append(.log("snapshot \(hexString(hash)) stored while not verifying it")); break
            }
            cachedSnapshots.insert(hash)
            startTraining(task, into: &out)
            _ = now
        case let .snapshotRejected(hash, reason, now):
            guard case .verifying = activity, let task = current, task.snapshotHash == hash else {
                out.append(.log("snapshot \(hexString(hash)) rejected while not verifying it: \(reason)")); break
            }
            giveUp(task, code: .snapshotCorrupt, message: "snapshot \(hexString(hash)) did not verify: \(reason)", now: now, into: &out)
        case let .trainingFinished(result, now):
            guard case .training = activity, let task = current, result.taskID == task.taskID else {
                out.append(.log("a training result for task \(result.taskID) arrived while not training it")); break
            }
            var stamped = result
            stamped.jobID = task.jobID
            stamped.incarnation = config.incarnation
            stamped.attempt = task.attempt
            finished.insert(TaskKey(task))
            lastResult = stamped
            current = nil
            activity = .idle
            lastHello = now // a result counts as a ready Hello
            startNext(now: now, into: &out)
            out.append(.send(.result(stamped)))
        case let .trainingFailed(message, now):
            guard case .training = activity, let task = current else {
                out.append(.log("a training failure arrived while not training: \(message)")); break
            }
            giveUp(task, code: .taskFailed, message: message, now: now, into: &out)
        }
        return out
    }

    mutating func onConnected(now: Instant, into out: inout [WorkerDirective]) {
        isConnected = true
        lastHeard = now
        lastHeartbeat = nil
        sendHello(now: now, into: &out)
        if var f = fetch {
            // Chunks requested on the old socket are gone: ask again from what we have.
            f.outstanding = 0
            f.requestedEnd = f.received
            f.lastProgress = now
            fetch = f
            requestMore(into: &out)
        }
    }

    mutating func onTick(now: Instant, into out: inout [WorkerDirective]) {
        guard isConnected else { return }
        let interval = config.heartbeatInterval
        if now - lastHeard >= interval * config.coordinatorDeadAfter {
            isConnected = false
            out.append(.log("coordinator silent for \(now - lastHeard); reconnecting in \(backoff)"))
            out.append(.reconnect(after: backoff))
            backoff = min(backoff * 2, config.backoffMax)
            return
        }
        if lastHeartbeat.map({ now - $0 >= interval }) ?? true {
            lastHeartbeat = now
            heartbeatSequence += 1
            out.append(.send(.heartbeat(Heartbeat(incarnation: config.incarnation, sequence: heartbeatSequence))))
        }
        if activity == .idle, now - lastHello >= interval * config.coordinatorDeadAfter {
            sendHello(now: now, into: &out)
        }
        checkStalledFetch(now: now, into: &out)
    }

    mutating func onMessage(_ message: WireMessage, now: Instant, into out: inout [WorkerDirective]) {
        if now > lastHeard { lastHeard = now }
        backoff = config.backoffInitial
        switch message {
        case .heartbeat:
            break
        case let .task(task):
            onTask(task, now: now, into: &out)
        case let .snapshotChunk(chunk):
            onChunk(chunk, now: now, into: &out)
        case let .error(report):
            if report.code == ClusterErrorCode.unknownSnapshot.rawValue, fetch != nil, let task = current {
                giveUp(task, code: .taskFailed, message: "coordinator refused the snapshot: \(report.message)", now: now, into: &out)
            } else {
                out.append(.log("coordinator reported an error (code \(report.code)): \(report.message)"))
            }
        case let .jobAnnounce(announce):
            out.append(.prepareJob(jobID: announce.jobID, spec: announce.jobSpec))
        case let .jobOver(over):
            activity = .exited
            out.append(.exit(success: over.success, reason: "job '\(over.jobID)' is over: \(over.reason)"))
        case .hello, .snapshotRequest, .result:
            out.append(.log("dropped a \(message.kindName) frame: only workers send those"))
        }
    }

    mutating func onTask(_ task: TaskAssignment, now: Instant, into out: inout [WorkerDirective]) {
        let key = TaskKey(task)
        if held.contains(where: { TaskKey($0) == key }) {
            out.append(.log("ignored a repeated assignment of task \(task.taskID) attempt \(task.attempt)"))
            return
        }
        if let last = lastResult, TaskKey(last) == key {
            out.append(.log("task \(task.taskID) attempt \(task.attempt) re-sent: re-sending its result"))
            out.append(.send(.result(last)))
            return
        }
        if finished.contains(key) {
            // Finished before, but not the result just sent: a restarted coordinator that lost
            // that result (attempt numbers start again at 1 in each coordinator process).
            // Ignoring it would leave the job waiting for this task forever; a scout is a pure
            // function of its index, so running it again gives the same result.
            out.append(.log("task \(task.taskID) attempt \(task.attempt) was finished before, for an earlier coordinator: running it again"))
        }
        guard hasRoom else {
            let busyWith = held.map { "task \($0.taskID)" }.joined(separator: ", ")
            out.append(.send(.error(ErrorReport(code: ClusterErrorCode.busy.rawValue,
                                                message: "worker '\(config.name)' is busy with \(busyWith)", taskID: task.taskID))))
            return
        }
        if current != nil {
            queued.append(task)
            return
        }
        begin(task, now: now, into: &out)
    }

    /// The tasks held, current first.
    var held: [TaskAssignment] { (current.map { [$0] } ?? []) + queued }

    /// Whether another assignment fits: fewer than `capacity` held.
    var hasRoom: Bool { queued.count + (current == nil ? 0 : 1) < config.capacity }

    /// Starts the oldest queued task, if any (the current one just ended).
    mutating func startNext(now: Instant, into out: inout [WorkerDirective]) {
        guard current == nil, !queued.isEmpty else { return }
        begin(queued.removeFirst(), now: now, into: &out)
    }

    /// Makes `task` current: trains it at once if its snapshot is cached, else fetches that first.
    mutating func begin(_ task: TaskAssignment, now: Instant, into out: inout [WorkerDirective]) {
        current = task
        if cachedSnapshots.contains(task.snapshotHash) {
            startTraining(task, into: &out)
            return
        }
        out.append(.needSnapshot(hash: task.snapshotHash, size: task.snapshotSize))
        fetch = FetchState(hash: task.snapshotHash, total: task.snapshotSize, chunk: UInt64(config.chunkSize), lastProgress: now)
        activity = .fetching(taskID: task.taskID, received: 0, total: task.snapshotSize)
        if task.snapshotSize == 0 { finishFetch(into: &out) } else { requestMore(into: &out) }
    }

    mutating func startTraining(_ task: TaskAssignment, into out: inout [WorkerDirective]) {
        fetch = nil
        activity = .training(taskID: task.taskID)
        out.append(.train(task))
    }

    /// Reports a task it cannot complete, starts the next queued one and asks for more.
    mutating func giveUp(_ task: TaskAssignment, code: ClusterErrorCode, message: String, now: Instant,
                         into out: inout [WorkerDirective]) {
        current = nil
        fetch = nil
        activity = .idle
        out.append(.send(.error(ErrorReport(code: code.rawValue, message: message, taskID: task.taskID))))
        startNext(now: now, into: &out)
        sendHello(now: now, into: &out)
    }

    mutating func sendHello(now: Instant, into out: inout [WorkerDirective]) {
        lastHello = now
        out.append(.send(.hello(Hello(incarnation: config.incarnation, workerName: config.name, threads: config.threads,
                                      cachedSnapshots: cachedSnapshots.sorted { $0.lexicographicallyPrecedes($1) },
                                      ready: hasRoom, capacity: UInt32(config.capacity)))))
    }
}

/// One attempt at one task, as the worker remembers finished work.
struct TaskKey: Hashable, Sendable {
    let job: String
    let task: UInt64
    let attempt: UInt32
    init(_ a: TaskAssignment) { job = a.jobID; task = a.taskID; attempt = a.attempt }
    init(_ r: ScoutWire.ScoutResult) { job = r.jobID; task = r.taskID; attempt = r.attempt }
}

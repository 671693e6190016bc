import ScoutWire

/// Something that happened to a worker, fed to `WorkerCore.handle(_:)` by the worker shell.
public enum WorkerEvent: Sendable, Equatable {
    /// The shell (re)opened its socket to the coordinator: at start and after each `.reconnect`.
    case connected(now: Instant)
    /// A decoded frame arrived from the coordinator.
    case message(WireMessage, now: Instant)
    /// Time passed: heartbeats, coordinator liveness, stalled snapshot windows.
    case tick(now: Instant)
    /// The assembled snapshot hashed to what was asked for and is now stored and cached.
    case snapshotStored(hash: [UInt8], now: Instant)
    /// The assembled snapshot did not verify (wrong hash, disk error); it was discarded.
    case snapshotRejected(hash: [UInt8], reason: String, now: Instant)
    /// Training for the current task finished; the core fills in job, task, attempt and
    /// incarnation, so the shell's training code need not know them.
    case trainingFinished(ScoutWire.ScoutResult, now: Instant)
    /// Training for the current task failed with a message for the coordinator's log.
    case trainingFailed(String, now: Instant)
}

/// What the worker shell must do, in order.
public enum WorkerDirective: Sendable, Equatable {
    /// Send a frame to the coordinator.
    case send(WireMessage)
    /// Close the socket, wait `after`, open a new one and report `.connected`.
    case reconnect(after: Duration)
    /// A snapshot not in the cache is about to be fetched: prepare `size` bytes of storage.
    case needSnapshot(hash: [UInt8], size: UInt64)
    /// Write a received chunk at its offset into the storage prepared by `.needSnapshot`.
    case storeChunk(SnapshotChunk)
    /// All bytes arrived: hash them, keep them if they match, and report stored or rejected.
    case verifySnapshot(hash: [UInt8], size: UInt64)
    /// The coordinator announced its coming job: load and check its data set now (a failure is
    /// only logged; the job's first task reports it).
    case prepareJob(jobID: String, spec: [UInt8])
    /// Train the scout for this assignment (snapshot present) and report finished or failed.
    case train(TaskAssignment)
    /// The coordinator ended the job: stop and exit with this outcome.
    case exit(success: Bool, reason: String)
    /// A line for the log.
    case log(String)
}

/// What the worker is doing, for status lines and tests.
public enum WorkerActivity: Sendable, Equatable {
    /// No task; a ready Hello is (or will be) outstanding.
    case idle
    /// Fetching the snapshot for a task: bytes below `received` are stored.
    case fetching(taskID: UInt64, received: UInt64, total: UInt64)
    /// Waiting for the shell to verify the assembled snapshot.
    case verifying(taskID: UInt64)
    /// The shell is training this task.
    case training(taskID: UInt64)
    /// The job is over; the worker exits.
    case exited
}

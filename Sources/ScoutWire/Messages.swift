/// The revision of `Protos/gtl.proto` this build speaks.
///
/// Sent in every envelope and checked on every decode, so that mixed deployments fail at the
/// first frame instead of mis-scheduling work. Bump it on any change to the .proto file:
/// because decoders reject unknown fields, even adding a field is incompatible.
public let wireProtocolVersion: UInt32 = 2

/// Worker -> coordinator: "I exist, here is what I have, and (if `ready`) give me work".
///
/// Sent on connect and whenever the worker goes idle, so the coordinator's view of a worker is
/// rebuilt from one message after any disconnect.
public struct Hello: Sendable, Equatable {
    /// Random per worker process start: lets the coordinator tell a restarted worker (whose
    /// in-flight tasks are lost) from a reconnect of the same process.
    public var incarnation: UInt64
    /// Human-readable name for logs; not an identity (ZeroMQ routing ids are).
    public var workerName: String
    /// Compute threads the worker will use, for scheduling and reporting.
    public var threads: UInt32
    /// 32-byte hashes of snapshots already on the worker, so the coordinator can skip transfers.
    public var cachedSnapshots: [[UInt8]]
    /// True when the worker has room for a task now; false for a presence-only announcement.
    public var ready: Bool
    /// How many tasks the worker holds at once: the one it trains plus those queued behind it.
    /// Above 1, the next task waits on the worker instead of a round trip away, so the worker
    /// never idles between scouts. 0 (an unset field) means 1.
    public var capacity: UInt32

    /// Memberwise initialiser (public types get no implicit public one).
    public init(incarnation: UInt64, workerName: String, threads: UInt32,
                cachedSnapshots: [[UInt8]] = [], ready: Bool, capacity: UInt32 = 1) {
        self.incarnation = incarnation
        self.workerName = workerName
        self.threads = threads
        self.cachedSnapshots = cachedSnapshots
        self.ready = ready
        self.capacity = capacity
    }
}

/// Coordinator -> worker: run scout `taskID` of job `jobID` from the named base snapshot.
public struct TaskAssignment: Sendable, Equatable {
    /// The job this task belongs to; results and JobOver refer back to it.
    public var jobID: String
    /// Scout index within the job: it selects the scout's data subset and seed.
    public var taskID: UInt64
    /// Retry counter, so a late result from an abandoned attempt can be recognised and dropped.
    public var attempt: UInt32
    /// SHA-256 of the base model snapshot: the worker fetches it unless already cached.
    public var snapshotHash: [UInt8]
    /// Byte size of that snapshot, so the worker can check space and preallocate.
    public var snapshotSize: UInt64
    /// The serialized job configuration (JSON); opaque here, interpreted by higher layers.
    public var jobSpec: [UInt8]

    /// Memberwise initialiser (public types get no implicit public one).
    public init(jobID: String, taskID: UInt64, attempt: UInt32, snapshotHash: [UInt8],
                snapshotSize: UInt64, jobSpec: [UInt8]) {
        self.jobID = jobID
        self.taskID = taskID
        self.attempt = attempt
        self.snapshotHash = snapshotHash
        self.snapshotSize = snapshotSize
        self.jobSpec = jobSpec
    }
}

/// Worker -> coordinator: "send me up to `credit` chunks of this snapshot from `offset`".
///
/// Credit-based flow control keeps a large snapshot from flooding ZeroMQ's queues: the
/// coordinator never has more chunks in flight to a worker than that worker asked for.
public struct SnapshotRequest: Sendable, Equatable {
    /// Which snapshot (32-byte SHA-256).
    public var snapshotHash: [UInt8]
    /// First byte wanted; lets a worker resume after a partial transfer.
    public var offset: UInt64
    /// How many chunks the worker can accept now.
    public var credit: UInt32
    /// Bytes per chunk the worker wants (the coordinator may clamp it).
    public var chunkSize: UInt32

    /// Memberwise initialiser (public types get no implicit public one).
    public init(snapshotHash: [UInt8], offset: UInt64, credit: UInt32, chunkSize: UInt32) {
        self.snapshotHash = snapshotHash
        self.offset = offset
        self.credit = credit
        self.chunkSize = chunkSize
    }
}

/// Coordinator -> worker: bytes `offset ..< offset + data.count` of a snapshot.
///
/// Carries `totalSize` in every chunk so a worker can place any chunk without having kept the
/// task around; the decoder guarantees the chunk lies within it.
public struct SnapshotChunk: Sendable, Equatable {
    /// Which snapshot (32-byte SHA-256); the worker verifies the assembled bytes against it.
    public var snapshotHash: [UInt8]
    /// Position of `data` within the snapshot.
    public var offset: UInt64
    /// The snapshot's full size in bytes.
    public var totalSize: UInt64
    /// The chunk's bytes.
    public var data: [UInt8]

    /// Memberwise initialiser (public types get no implicit public one).
    public init(snapshotHash: [UInt8], offset: UInt64, totalSize: UInt64, data: [UInt8]) {
        self.snapshotHash = snapshotHash
        self.offset = offset
        self.totalSize = totalSize
        self.data = data
    }
}

/// One named per-parameter statistic (e.g. a weight tensor's squared change), flattened.
///
/// Sent as a packed float array, so a million values cost 4 MB on the wire, not 5 MB+.
/// `Equatable` compares floats with `==`, so values holding NaN never compare equal.
public struct Statistic: Sendable, Equatable {
    /// Which parameter (and which statistic of it) the values describe.
    public var name: String
    /// The values, one per parameter element, in the parameter's storage order.
    public var values: [Float]

    /// Memberwise initialiser (public types get no implicit public one).
    public init(name: String, values: [Float]) {
        self.name = name
        self.values = values
    }
}

/// Worker -> coordinator: everything one scout learned, for the guide reducer.
public struct ScoutResult: Sendable, Equatable {
    /// The job the task belonged to.
    public var jobID: String
    /// The scout index (TaskAssignment.taskID).
    public var taskID: UInt64
    /// The worker's incarnation, so results from a previous process life can be told apart.
    public var incarnation: UInt64
    /// The attempt this result answers; stale attempts are dropped by the coordinator.
    public var attempt: UInt32
    /// Per-parameter statistics, in a fixed order agreed by the job spec.
    public var statistics: [Statistic]
    /// Training loss at the end of the scout's run, for reporting and sanity checks.
    public var finalLoss: Double
    /// Optimiser steps the scout took.
    public var steps: UInt64
    /// Wall-clock training time, for throughput reporting and scheduling.
    public var trainSeconds: Double

    /// Memberwise initialiser (public types get no implicit public one).
    public init(jobID: String, taskID: UInt64, incarnation: UInt64, attempt: UInt32,
                statistics: [Statistic], finalLoss: Double, steps: UInt64, trainSeconds: Double) {
        self.jobID = jobID
        self.taskID = taskID
        self.incarnation = incarnation
        self.attempt = attempt
        self.statistics = statistics
        self.finalLoss = finalLoss
        self.steps = steps
        self.trainSeconds = trainSeconds
    }
}

/// Worker -> coordinator: "still alive", so a silent worker's tasks can be reassigned.
public struct Heartbeat: Sendable, Equatable {
    /// The worker's incarnation, so a restarted process is noticed even without a Hello.
    public var incarnation: UInt64
    /// Increments per heartbeat, so gaps and reordering are visible.
    public var sequence: UInt64

    /// Memberwise initialiser (public types get no implicit public one).
    public init(incarnation: UInt64, sequence: UInt64) {
        self.incarnation = incarnation
        self.sequence = sequence
    }
}

/// Either direction: something failed, optionally tied to one task.
///
/// Named `ErrorReport` (the .proto says `Error`) so it cannot shadow `Swift.Error` in this
/// module or its clients.
public struct ErrorReport: Sendable, Equatable {
    /// Machine-readable error class; its meaning is defined by the layer that sends it.
    public var code: UInt32
    /// Human-readable detail for logs.
    public var message: String
    /// The task concerned, if any (on the wire: `task_id` plus `has_task`, because proto3
    /// cannot tell task 0 from "no task").
    public var taskID: UInt64?

    /// Memberwise initialiser (public types get no implicit public one).
    public init(code: UInt32, message: String, taskID: UInt64? = nil) {
        self.code = code
        self.message = message
        self.taskID = taskID
    }
}

/// Coordinator -> worker, sent from the lobby while the base is pre-trained: the job its tasks
/// will belong to, so the worker loads and verifies the data set (seconds for a large one)
/// before the first task instead of after it.
public struct JobAnnounce: Sendable, Equatable {
    /// The job.
    public var jobID: String
    /// The same opaque job configuration every `TaskAssignment` of the job carries.
    public var jobSpec: [UInt8]

    /// Memberwise initialiser (public types get no implicit public one).
    public init(jobID: String, jobSpec: [UInt8]) {
        self.jobID = jobID
        self.jobSpec = jobSpec
    }
}

/// Coordinator -> worker: the job has ended, drop its tasks and job-scoped state.
public struct JobOver: Sendable, Equatable {
    /// The job that ended.
    public var jobID: String
    /// Why, for logs (e.g. "completed", "cancelled by user").
    public var reason: String
    /// Whether the job finished successfully.
    public var success: Bool

    /// Memberwise initialiser (public types get no implicit public one).
    public init(jobID: String, reason: String, success: Bool) {
        self.jobID = jobID
        self.reason = reason
        self.success = success
    }
}

/// Any one frame of the cluster protocol: the Swift face of `gtl.wire.Envelope`.
///
/// An enum rather than a struct of optionals, so a handler's `switch` is exhaustive and a
/// frame can never hold zero or two bodies. Encode with `encoded()` / `encode(into:)`,
/// decode with `decode(_:maxBytes:)`.
public enum WireMessage: Sendable, Equatable {
    /// Worker announces itself / asks for work.
    case hello(Hello)
    /// Coordinator assigns a scout.
    case task(TaskAssignment)
    /// Worker asks for snapshot chunks.
    case snapshotRequest(SnapshotRequest)
    /// Coordinator sends one snapshot chunk.
    case snapshotChunk(SnapshotChunk)
    /// Worker returns a scout's statistics.
    case result(ScoutResult)
    /// Worker liveness signal.
    case heartbeat(Heartbeat)
    /// Either side reports a failure.
    case error(ErrorReport)
    /// Coordinator ends a job.
    case jobOver(JobOver)
    /// Coordinator names the coming job while it pre-trains.
    case jobAnnounce(JobAnnounce)
}

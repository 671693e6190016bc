/// The `code` values of `ErrorReport` that the cluster cores send and interpret.
///
/// `ScoutWire` leaves codes to the layer above it; fixing them here keeps coordinator and
/// worker in agreement and lets a log line say which side of the protocol gave up.
public enum ClusterErrorCode: UInt32, Sendable {
    /// The worker could not run the task (training threw, data missing, out of memory).
    case taskFailed = 1
    /// The coordinator was asked for a snapshot hash it does not serve.
    case unknownSnapshot = 2
    /// The snapshot the worker assembled did not hash to the requested SHA-256.
    case snapshotCorrupt = 3
    /// The worker was sent a task while it still works on another one.
    case busy = 4
}

/// Defaults for snapshot transfer, shared by both sides so that a worker's requests fit
/// within what a coordinator grants unless one side is configured otherwise.
public enum SnapshotTransferDefaults {
    /// Bytes per chunk: large enough to amortise per-message cost, small enough that a
    /// heartbeat never waits behind more than a few milliseconds of transfer.
    public static let chunkSize = 256 << 10
    /// Chunks a worker may have in flight: bounds the coordinator's send queue per worker.
    public static let credit = 8
}

import ScoutWire

// Snapshot fetching with a credit window. Chunks are accepted only in order (ZeroMQ keeps
// order on a connection); anything else is a duplicate or follows a loss, and is dropped. A
// window that makes no progress for two intervals is re-requested from the first missing
// byte with half the credit, which also adapts to a coordinator that grants less credit.

/// Progress of one snapshot transfer.
struct FetchState: Sendable {
    let hash: [UInt8]
    let total: UInt64
    /// Bytes per chunk; lowered to what the coordinator actually sends once a chunk shows it.
    var chunk: UInt64
    /// Whether `chunk` has been checked against a received chunk.
    var chunkLearned = false
    /// Bytes stored so far (a prefix of the snapshot).
    var received: UInt64 = 0
    /// End of the bytes already asked for.
    var requestedEnd: UInt64 = 0
    /// Chunks asked for and not yet received.
    var outstanding = 0
    var lastProgress: Instant

    init(hash: [UInt8], total: UInt64, chunk: UInt64, lastProgress: Instant) {
        self.hash = hash
        self.total = total
        self.chunk = chunk
        self.lastProgress = lastProgress
    }
}

extension WorkerCore {
    /// Tops the window up: asks for as many chunks as there is free credit, from `requestedEnd`.
    mutating func requestMore(into out: inout [WorkerDirective]) {
        guard isConnected, var f = fetch, f.requestedEnd < f.total else { return }
        let free = creditWindow - f.outstanding
        guard free > 0 else { return }
        let left = (f.total - f.requestedEnd + f.chunk - 1) / f.chunk
        let credit = Int(min(UInt64(free), left))
        out.append(.send(.snapshotRequest(SnapshotRequest(snapshotHash: f.hash, offset: f.requestedEnd,
                                                           credit: UInt32(credit), chunkSize: UInt32(f.chunk)))))
        f.outstanding += credit
        f.requestedEnd = min(f.total, f.requestedEnd + UInt64(credit) * f.chunk)
        fetch = f
    }

    mutating func onChunk(_ chunk: SnapshotChunk, now: Instant, into out: inout [WorkerDirective]) {
        guard var f = fetch, let task = current, chunk.snapshotHash == f.hash, chunk.totalSize == f.total else {
            out.append(.log("dropped a snapshot chunk at \(chunk.offset) of \(hexString(chunk.snapshotHash)): not being fetched"))
            return
        }
        guard chunk.offset == f.received, !chunk.data.isEmpty else {
            out.append(.log("dropped a snapshot chunk at \(chunk.offset) (\(chunk.data.count) bytes): expected offset \(f.received)"))
            return
        }
        let length = UInt64(chunk.data.count)
        if !f.chunkLearned {
            f.chunkLearned = true
            if length < f.chunk, chunk.offset + length < f.total {
                // The coordinator clamps chunk size: the chunks already asked for are this long.
                f.chunk = length
                f.requestedEnd = min(f.total, f.received + UInt64(f.outstanding) * length)
            }
        }
        out.append(.storeChunk(chunk))
        f.received += length
        f.outstanding = max(0, f.outstanding - 1)
        f.lastProgress = now
        fetch = f
        activity = .fetching(taskID: task.taskID, received: f.received, total: f.total)
        if f.received >= f.total {
            finishFetch(into: &out)
        } else if f.outstanding <= creditWindow / 2 {
            requestMore(into: &out)
        }
    }

    mutating func finishFetch(into out: inout [WorkerDirective]) {
        guard let f = fetch, let task = current else { return }
        fetch = nil
        activity = .verifying(taskID: task.taskID)
        out.append(.verifySnapshot(hash: f.hash, size: f.total))
    }

    mutating func checkStalledFetch(now: Instant, into out: inout [WorkerDirective]) {
        guard var f = fetch, now - f.lastProgress >= config.heartbeatInterval * 2 else { return }
        creditWindow = max(1, creditWindow / 2)
        out.append(.log("snapshot transfer stalled at byte \(f.received) of \(f.total); re-requesting with credit \(creditWindow)"))
        f.outstanding = 0
        f.requestedEnd = f.received
        f.lastProgress = now
        fetch = f
        requestMore(into: &out)
    }
}

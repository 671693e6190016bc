import CWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Decoding lets protobuf-c parse into its own malloc'd structs, validates them strictly, copies
// what we keep into Swift values and frees the C side before returning. Nothing borrowed from
// the input or from protobuf-c outlives the call.

extension WireMessage {
    /// The default `maxBytes`: comfortably above a ScoutResult for a model of tens of millions
    /// of parameters, far below what would hurt a worker if a peer sent nonsense sizes.
    public static let defaultMaxBytes = 512 << 20

    /// Decodes one frame, refusing anything this build does not fully understand.
    ///
    /// Strict on purpose: a peer from another build must be rejected at once, not half-read.
    /// Throws `WireError` for frames over `maxBytes`, unparseable bytes, another protocol
    /// version, an envelope without a body, unknown fields at any level, content hashes that
    /// are not 32 bytes, snapshot chunks past their declared end, and strings that are not UTF-8.
    public static func decode(_ bytes: UnsafeRawBufferPointer,
                              maxBytes: Int = WireMessage.defaultMaxBytes) throws(WireError) -> WireMessage {
        guard bytes.count <= maxBytes else { throw .tooLarge(size: bytes.count, limit: maxBytes) }
        // protobuf-c wants a non-null pointer even for an empty buffer.
        var empty: UInt8 = 0
        let parsed: UnsafeMutablePointer<Gtl__Wire__Envelope>? = withUnsafeMutablePointer(to: &empty) { dummy in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(dummy)
            return gtl__wire__envelope__unpack(nil, bytes.count, base)
        }
        guard let env = parsed else { throw .malformed(byteCount: bytes.count) }
        defer { gtl__wire__envelope__free_unpacked(env, nil) }
        return try decodeEnvelope(env.pointee)
    }

    /// Convenience for callers holding an array (tests, small control frames).
    public static func decode(_ bytes: [UInt8],
                              maxBytes: Int = WireMessage.defaultMaxBytes) throws(WireError) -> WireMessage {
        // withUnsafeBytes rethrows as `any Error`; carry the typed error out by hand.
        let outcome: Result<WireMessage, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) { return .success(try decode(raw, maxBytes: maxBytes)) }
            catch { return .failure(error) }
        }
        return try outcome.get()
    }

    private static func decodeEnvelope(_ env: Gtl__Wire__Envelope) throws(WireError) -> WireMessage {
        guard env.protocol_version == wireProtocolVersion else {
            throw .versionMismatch(received: env.protocol_version, expected: wireProtocolVersion)
        }
        try checkKnown(env.base, "envelope")
        switch env.body_case {
        case GTL__WIRE__ENVELOPE__BODY_HELLO:
            return .hello(try Hello(c: try required(env.hello, "hello")))
        case GTL__WIRE__ENVELOPE__BODY_TASK:
            return .task(try TaskAssignment(c: try required(env.task, "task")))
        case GTL__WIRE__ENVELOPE__BODY_SNAPSHOT_REQUEST:
            return .snapshotRequest(try SnapshotRequest(c: try required(env.snapshot_request, "snapshot_request")))
        case GTL__WIRE__ENVELOPE__BODY_SNAPSHOT_CHUNK:
            return .snapshotChunk(try SnapshotChunk(c: try required(env.snapshot_chunk, "snapshot_chunk")))
        case GTL__WIRE__ENVELOPE__BODY_RESULT:
            return .result(try ScoutResult(c: try required(env.result, "result")))
        case GTL__WIRE__ENVELOPE__BODY_HEARTBEAT:
            return .heartbeat(try Heartbeat(c: try required(env.heartbeat, "heartbeat")))
        case GTL__WIRE__ENVELOPE__BODY_ERROR:
            return .error(try ErrorReport(c: try required(env.error, "error")))
        case GTL__WIRE__ENVELOPE__BODY_JOB_OVER:
            return .jobOver(try JobOver(c: try required(env.job_over, "job_over")))
        case GTL__WIRE__ENVELOPE__BODY_JOB_ANNOUNCE:
            return .jobAnnounce(try JobAnnounce(c: try required(env.job_announce, "job_announce")))
        default:
            throw .missingBody
        }
    }
}

// MARK: - Checks and copies

/// Rejects a message that carried fields this build does not know (protobuf-c keeps them).
private func checkKnown(_ base: ProtobufCMessage, _ name: String) throws(WireError) {
    if base.n_unknown_fields != 0 {
        throw .unknownFields(message: name, count: Int(base.n_unknown_fields))
    }
}

/// Unwraps a sub-message pointer that protobuf-c should always have set.
private func required<T>(_ p: UnsafeMutablePointer<T>?, _ field: String) throws(WireError) -> T {
    guard let p else { throw .invalidField(field: field, reason: "sub-message missing") }
    return p.pointee
}

/// Copies a C string into a Swift String, rejecting invalid UTF-8 rather than repairing it.
private func string(_ p: UnsafeMutablePointer<CChar>?, _ field: String) throws(WireError) -> String {
    guard let p else { return "" }
    guard let s = String(validatingCString: p) else {
        throw .invalidField(field: field, reason: "not valid UTF-8")
    }
    return s
}

/// Copies binary data into a fresh array.
private func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
    guard b.len > 0, let data = b.data else { return [] }
    return [UInt8](UnsafeBufferPointer(start: data, count: b.len))
}

/// Copies a content hash, insisting on SHA-256's 32 bytes.
private func hash(_ b: ProtobufCBinaryData, _ field: String) throws(WireError) -> [UInt8] {
    guard b.len == 32 else { throw .badHashLength(field: field, length: b.len) }
    return bytes(b)
}

/// Copies a packed float array with one memcpy (results run to millions of values).
private func floats(_ p: UnsafeMutablePointer<Float>?, _ count: Int) -> [Float] {
    guard count > 0, let p else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        memcpy(buffer.baseAddress!, p, count * MemoryLayout<Float>.stride)
        initialized = count
    }
}

// MARK: - Per-message conversions

extension Hello {
    fileprivate init(c m: Gtl__Wire__Hello) throws(WireError) {
        try checkKnown(m.base, "hello")
        var hashes: [[UInt8]] = []
        hashes.reserveCapacity(m.n_cached_snapshots)
        for i in 0..<m.n_cached_snapshots {
            hashes.append(try hash(m.cached_snapshots[i], "hello.cached_snapshots[\(i)]"))
        }
        self.init(incarnation: m.incarnation,
                  workerName: try string(m.worker_name, "hello.worker_name"),
                  threads: m.threads, cachedSnapshots: hashes, ready: m.ready != 0, capacity: m.capacity)
    }
}

extension TaskAssignment {
    fileprivate init(c m: Gtl__Wire__TaskAssignment) throws(WireError) {
        try checkKnown(m.base, "task")
        self.init(jobID: try string(m.job_id, "task.job_id"), taskID: m.task_id, attempt: m.attempt,
                  snapshotHash: try hash(m.snapshot_hash, "task.snapshot_hash"),
                  snapshotSize: m.snapshot_size, jobSpec: bytes(m.job_spec))
    }
}

extension SnapshotRequest {
    fileprivate init(c m: Gtl__Wire__SnapshotRequest) throws(WireError) {
        try checkKnown(m.base, "snapshot_request")
        self.init(snapshotHash: try hash(m.snapshot_hash, "snapshot_request.snapshot_hash"),
                  offset: m.offset, credit: m.credit, chunkSize: m.chunk_size)
    }
}

extension SnapshotChunk {
    fileprivate init(c m: Gtl__Wire__SnapshotChunk) throws(WireError) {
        try checkKnown(m.base, "snapshot_chunk")
        let (end, overflow) = m.offset.addingReportingOverflow(UInt64(m.data.len))
        guard !overflow, end <= m.total_size else {
            throw .chunkOutOfBounds(offset: m.offset, length: m.data.len, totalSize: m.total_size)
        }
        self.init(snapshotHash: try hash(m.snapshot_hash, "snapshot_chunk.snapshot_hash"),
                  offset: m.offset, totalSize: m.total_size, data: bytes(m.data))
    }
}

extension ScoutResult {
    fileprivate init(c m: Gtl__Wire__ScoutResult) throws(WireError) {
        try checkKnown(m.base, "result")
        var stats: [Statistic] = []
        stats.reserveCapacity(m.n_statistics)
        for i in 0..<m.n_statistics {
            let s = try required(m.statistics[i], "result.statistics[\(i)]")
            try checkKnown(s.base, "result.statistics[\(i)]")
            stats.append(Statistic(name: try string(s.name, "result.statistics[\(i)].name"),
                                   values: floats(s.values, s.n_values)))
        }
        self.init(jobID: try string(m.job_id, "result.job_id"), taskID: m.task_id,
                  incarnation: m.incarnation, attempt: m.attempt, statistics: stats,
                  finalLoss: m.final_loss, steps: m.steps, trainSeconds: m.train_seconds)
    }
}

extension Heartbeat {
    fileprivate init(c m: Gtl__Wire__Heartbeat) throws(WireError) {
        try checkKnown(m.base, "heartbeat")
        self.init(incarnation: m.incarnation, sequence: m.sequence)
    }
}

extension ErrorReport {
    fileprivate init(c m: Gtl__Wire__Error) throws(WireError) {
        try checkKnown(m.base, "error")
        if m.has_task == 0 && m.task_id != 0 {
            throw .invalidField(field: "error.task_id", reason: "set to \(m.task_id) without has_task")
        }
        self.init(code: m.code, message: try string(m.message, "error.message"),
                  taskID: m.has_task != 0 ? m.task_id : nil)
    }
}

extension JobAnnounce {
    fileprivate init(c m: Gtl__Wire__JobAnnounce) throws(WireError) {
        try checkKnown(m.base, "job_announce")
        self.init(jobID: try string(m.job_id, "job_announce.job_id"), jobSpec: bytes(m.job_spec))
    }
}

extension JobOver {
    fileprivate init(c m: Gtl__Wire__JobOver) throws(WireError) {
        try checkKnown(m.base, "job_over")
        self.init(jobID: try string(m.job_id, "job_over.job_id"),
                  reason: try string(m.reason, "job_over.reason"), success: m.success != 0)
    }
}

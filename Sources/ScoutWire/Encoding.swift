import CWire

// Encoding builds the protobuf-c structs on the stack with pointers *borrowed* from the Swift
// values (strings, byte arrays, float arrays) for the duration of a pack call, so even a
// 40 MB result is copied exactly once: from the [Float]s into the output buffer. ScoutResult,
// which holds any number of float arrays, is packed in parts (ResultEncoding.swift).
//
// Strings go through protobuf-c as C strings: anything after an embedded NUL is not sent.

extension WireMessage {
    /// The encoded envelope in a fresh array; fine for small control messages.
    ///
    /// Strings cross protobuf-c as C strings, so text after an embedded NUL is not sent.
    public func encoded() -> [UInt8] {
        withPacker { size, pack in
            [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                let written = pack(buffer.baseAddress!)
                precondition(written == size, "packed \(written) bytes, promised \(size)")
                count = written
            }
        }
    }

    /// Encodes into `buffer`, replacing its contents but reusing its capacity.
    ///
    /// A worker sending multi-megabyte results in a loop keeps one buffer and avoids a fresh
    /// large allocation (and the page faults of touching it) per message. Bytes already in the
    /// buffer are overwritten, not cleared first, so a same-sized re-encode costs one pack.
    public func encode(into buffer: inout [UInt8]) {
        withPacker { size, pack in WireMessage.write(size: size, pack, into: &buffer) }
    }

    /// Encodes `.snapshotChunk` of `data` into `buffer` straight from `data`'s storage, without
    /// first copying it into a `SnapshotChunk` value: the coordinator serves chunks from the
    /// snapshot in place (one copy fewer of every snapshot byte it sends). The bytes are the
    /// same as `WireMessage.snapshotChunk(SnapshotChunk(...)).encode(into:)`.
    public static func encodeSnapshotChunk(snapshotHash: [UInt8], offset: UInt64, totalSize: UInt64,
                                           data: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        var m = Gtl__Wire__SnapshotChunk()
        gtl__wire__snapshot_chunk__init(&m)
        m.offset = offset
        m.total_size = totalSize
        m.data = ProtobufCBinaryData(len: data.count, data: UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: UInt8.self)))
        withBinary(snapshotHash) { hash in
            m.snapshot_hash = hash
            var env = Gtl__Wire__Envelope()
            gtl__wire__envelope__init(&env)
            env.protocol_version = wireProtocolVersion
            env.body_case = GTL__WIRE__ENVELOPE__BODY_SNAPSHOT_CHUNK
            withUnsafeMutablePointer(to: &m) { chunk in
                env.snapshot_chunk = chunk
                write(size: gtl__wire__envelope__get_packed_size(&env), { gtl__wire__envelope__pack(&env, $0) }, into: &buffer)
            }
        }
    }

    /// Resizes `buffer` to `size` (keeping its capacity) and lets `pack` fill it.
    private static func write(size: Int, _ pack: (UnsafeMutablePointer<UInt8>) -> Int, into buffer: inout [UInt8]) {
        if buffer.count > size {
            buffer.removeLast(buffer.count - size)  // keeps capacity
        } else if buffer.count < size {
            buffer.append(contentsOf: repeatElement(0, count: size - buffer.count))
        }
        buffer.withUnsafeMutableBufferPointer { out in
            let written = pack(out.baseAddress!)
            precondition(written == size, "packed \(written) bytes, promised \(size)")
        }
    }

    /// Runs `body` with the encoded size and a function that writes exactly that many bytes.
    private func withPacker<R>(_ body: (Int, (UnsafeMutablePointer<UInt8>) -> Int) -> R) -> R {
        if case .result(let result) = self {
            let frames = ResultFrames(result)
            return body(frames.size, frames.write)
        }
        return withCEnvelope { env in
            body(gtl__wire__envelope__get_packed_size(env), { gtl__wire__envelope__pack(env, $0) })
        }
    }

    /// Runs `body` with a C envelope whose pointers borrow this message's storage.
    func withCEnvelope<R>(_ body: (UnsafePointer<Gtl__Wire__Envelope>) -> R) -> R {
        var env = Gtl__Wire__Envelope()
        gtl__wire__envelope__init(&env)
        env.protocol_version = wireProtocolVersion
        switch self {
        case .hello(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_HELLO
                env.hello = p
                return body(&env)
            }
        case .task(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_TASK
                env.task = p
                return body(&env)
            }
        case .snapshotRequest(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_SNAPSHOT_REQUEST
                env.snapshot_request = p
                return body(&env)
            }
        case .snapshotChunk(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_SNAPSHOT_CHUNK
                env.snapshot_chunk = p
                return body(&env)
            }
        case .result:
            preconditionFailure("ScoutResult is packed in parts by ResultFrames, never as one C struct")
        case .heartbeat(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_HEARTBEAT
                env.heartbeat = p
                return body(&env)
            }
        case .error(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_ERROR
                env.error = p
                return body(&env)
            }
        case .jobOver(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_JOB_OVER
                env.job_over = p
                return body(&env)
            }
        case .jobAnnounce(let m):
            return m.withC { p in
                env.body_case = GTL__WIRE__ENVELOPE__BODY_JOB_ANNOUNCE
                env.job_announce = p
                return body(&env)
            }
        }
    }
}

// MARK: - Borrowing helpers

/// Runs `body` with a C string view of `s`; protobuf-c's fields are non-const but never written.
@inline(__always)
func withCString<R>(_ s: String, _ body: (UnsafeMutablePointer<CChar>) -> R) -> R {
    s.withCString { body(UnsafeMutablePointer(mutating: $0)) }
}

/// Runs `body` with a ProtobufCBinaryData view of `bytes`.
@inline(__always)
func withBinary<R>(_ bytes: [UInt8], _ body: (ProtobufCBinaryData) -> R) -> R {
    bytes.withUnsafeBufferPointer {
        body(ProtobufCBinaryData(len: $0.count, data: UnsafeMutablePointer(mutating: $0.baseAddress)))
    }
}

// MARK: - Per-message C views

extension Hello {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__Hello>) -> R) -> R {
        var m = Gtl__Wire__Hello()
        gtl__wire__hello__init(&m)
        m.incarnation = incarnation
        m.threads = threads
        m.ready = ready ? 1 : 0
        m.capacity = capacity
        // The hashes are few and small: gather them into one array so a single borrow covers all.
        let flat = cachedSnapshots.flatMap { $0 }
        return withCString(workerName) { name in
            m.worker_name = name
            return flat.withUnsafeBufferPointer { flatBytes in
                withUnsafeTemporaryAllocation(of: ProtobufCBinaryData.self,
                                              capacity: cachedSnapshots.count) { entries in
                    var at = 0
                    for (i, hash) in cachedSnapshots.enumerated() {
                        let start = flatBytes.baseAddress.map { UnsafeMutablePointer(mutating: $0 + at) }
                        entries[i] = ProtobufCBinaryData(len: hash.count, data: start)
                        at += hash.count
                    }
                    m.n_cached_snapshots = cachedSnapshots.count
                    m.cached_snapshots = cachedSnapshots.isEmpty ? nil : entries.baseAddress
                    return body(&m)
                }
            }
        }
    }
}

extension TaskAssignment {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__TaskAssignment>) -> R) -> R {
        var m = Gtl__Wire__TaskAssignment()
        gtl__wire__task_assignment__init(&m)
        m.task_id = taskID
        m.attempt = attempt
        m.snapshot_size = snapshotSize
        return withCString(jobID) { job in
            withBinary(snapshotHash) { hash in
                withBinary(jobSpec) { spec in
                    m.job_id = job
                    m.snapshot_hash = hash
                    m.job_spec = spec
                    return body(&m)
                }
            }
        }
    }
}

extension SnapshotRequest {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__SnapshotRequest>) -> R) -> R {
        var m = Gtl__Wire__SnapshotRequest()
        gtl__wire__snapshot_request__init(&m)
        m.offset = offset
        m.credit = credit
        m.chunk_size = chunkSize
        return withBinary(snapshotHash) { hash in
            m.snapshot_hash = hash
            return body(&m)
        }
    }
}

extension SnapshotChunk {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__SnapshotChunk>) -> R) -> R {
        var m = Gtl__Wire__SnapshotChunk()
        gtl__wire__snapshot_chunk__init(&m)
        m.offset = offset
        m.total_size = totalSize
        return withBinary(snapshotHash) { hash in
            withBinary(data) { bytes in
                m.snapshot_hash = hash
                m.data = bytes
                return body(&m)
            }
        }
    }
}

extension Heartbeat {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__Heartbeat>) -> R) -> R {
        var m = Gtl__Wire__Heartbeat()
        gtl__wire__heartbeat__init(&m)
        m.incarnation = incarnation
        m.sequence = sequence
        return body(&m)
    }
}

extension ErrorReport {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__Error>) -> R) -> R {
        var m = Gtl__Wire__Error()
        gtl__wire__error__init(&m)
        m.code = code
        m.task_id = taskID ?? 0
        m.has_task = taskID == nil ? 0 : 1
        return withCString(message) { text in
            m.message = text
            return body(&m)
        }
    }
}

extension JobAnnounce {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__JobAnnounce>) -> R) -> R {
        var m = Gtl__Wire__JobAnnounce()
        gtl__wire__job_announce__init(&m)
        return withCString(jobID) { id in
            withBinary(jobSpec) { spec in
                m.job_id = id
                m.job_spec = spec
                return body(&m)
            }
        }
    }
}

extension JobOver {
    func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__JobOver>) -> R) -> R {
        var m = Gtl__Wire__JobOver()
        gtl__wire__job_over__init(&m)
        m.success = success ? 1 : 0
        return withCString(jobID) { job in
            withCString(reason) { why in
                m.job_id = job
                m.reason = why
                return body(&m)
            }
        }
    }
}

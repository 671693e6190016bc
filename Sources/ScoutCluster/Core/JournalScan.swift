import ScoutWire

/// One result recovered from the journal.
public struct JournalEntry: Sendable, Equatable {
    /// The task the result answers (also inside `result`; the two must agree).
    public var taskID: UInt64
    /// The result as it was recorded.
    public var result: ScoutWire.ScoutResult
}

/// What `Journal.scan` recovered: the header, the results, and where the valid part ends.
public struct JournalScan: Sendable, Equatable {
    /// The header record, or nil if the journal is empty or its first record is unusable.
    public var header: JournalHeader?
    /// Results in journal order, first record per task id only.
    public var records: [JournalEntry]
    /// Bytes from the start that hold whole, valid records: truncate the file to this before
    /// appending, so a new record never follows garbage.
    public var validLength: Int
    /// Why scanning stopped before the end, naming the byte offset; nil if all bytes were valid.
    public var problem: String?
    /// Later records for an already recorded task, skipped (the coordinator never writes them).
    public var duplicatesSkipped: Int

    /// The task ids with a recorded result, to seed `CoordinatorCore` on `--resume`.
    public var completedTaskIDs: Set<UInt64> { Set(records.map(\.taskID)) }
}

extension Journal {
    /// Reads a journal's bytes up to the first record that is short, lacks the magic, fails
    /// its checksum or does not decode, which is what a crash mid-append leaves behind.
    /// `name` (e.g. "journal.bin") prefixes the problem line. A result record that decodes but
    /// belongs to another job, or a second header, is treated the same way: nothing after a
    /// record that cannot be trusted is trusted.
    public static func scan(_ bytes: [UInt8], name: String = "journal") -> JournalScan {
        var scan = JournalScan(header: nil, records: [], validLength: 0, problem: nil, duplicatesSkipped: 0)
        var seen: Set<UInt64> = []
        var offset = 0
        while offset < bytes.count {
            let fail = { (why: String) -> JournalScan in
                var s = scan
                s.problem = "\(name): record at byte \(offset): \(why); dropping the \(bytes.count - offset)-byte tail"
                return s
            }
            let remaining = bytes.count - offset
            guard remaining >= recordHeaderSize else {
                return fail("short record header (\(remaining) of \(recordHeaderSize) bytes)")
            }
            guard Array(bytes[offset ..< offset + 4]) == magic else { return fail("bad magic") }
            let length = Int(readU32(bytes, offset + 4))
            let crc = readU32(bytes, offset + 8)
            guard length <= maxPayload else { return fail("implausible payload length \(length)") }
            guard remaining - recordHeaderSize >= length else {
                return fail("short payload (\(remaining - recordHeaderSize) of \(length) bytes)")
            }
            let payload = bytes[offset + recordHeaderSize ..< offset + recordHeaderSize + length]
            guard CRC32C.checksum(payload) == crc else { return fail("checksum mismatch") }
            let isFirst = offset == 0
            switch decodePayload(Array(payload), isFirst: isFirst, header: scan.header) {
            case let .failure(error):
                return fail(error.why)
            case let .success(.header(header)):
                scan.header = header
            case let .success(.result(task, result)):
                if seen.insert(task).inserted {
                    scan.records.append(JournalEntry(taskID: task, result: result))
                } else {
                    scan.duplicatesSkipped += 1
                }
            }
            offset += recordHeaderSize + length
            scan.validLength = offset
        }
        return scan
    }

    private enum Payload { case header(JournalHeader), result(UInt64, ScoutWire.ScoutResult) }

    private struct PayloadError: Error { let why: String }

    private static func decodePayload(_ p: [UInt8], isFirst: Bool, header: JournalHeader?) -> Result<Payload, PayloadError> {
        guard let kind = p.first else { return .failure(PayloadError(why: "empty payload")) }
        switch kind {
        case headerKind:
            guard isFirst else { return .failure(PayloadError(why: "a second header record")) }
            guard p.count >= 9 else { return .failure(PayloadError(why: "header payload too short")) }
            let version = readU32(p, 1)
            guard version == formatVersion else {
                return .failure(PayloadError(why: "journal format version \(version), this build reads \(formatVersion)"))
            }
            let idLength = Int(readU32(p, 5))
            guard p.count == 9 + idLength + 64 else { return .failure(PayloadError(why: "header payload has the wrong size")) }
            guard let id = String(validating: p[9 ..< 9 + idLength], as: UTF8.self) else {
                return .failure(PayloadError(why: "job id is not UTF-8"))
            }
            let spec = Array(p[9 + idLength ..< 9 + idLength + 32])
            let snap = Array(p[9 + idLength + 32 ..< 9 + idLength + 64])
            return .success(.header(JournalHeader(jobID: id, jobSpecHash: spec, snapshotHash: snap)))
        case resultKind:
            guard let header else { return .failure(PayloadError(why: "a result record before the header")) }
            guard p.count >= 9 else { return .failure(PayloadError(why: "result payload too short")) }
            let task = readU64(p, 1)
            let message: WireMessage
            do throws(WireError) {
                message = try WireMessage.decode(Array(p[9...]))
            } catch {
                return .failure(PayloadError(why: "undecodable result: \(error)"))
            }
            guard case let .result(result) = message else {
                return .failure(PayloadError(why: "a \(message.kindName) frame where a result belongs"))
            }
            guard result.taskID == task else {
                return .failure(PayloadError(why: "record says task \(task) but its result is for task \(result.taskID)"))
            }
            guard result.jobID == header.jobID else {
                return .failure(PayloadError(why: "result of job '\(result.jobID)' in the journal of job '\(header.jobID)'"))
            }
            return .success(.result(task, result))
        default:
            return .failure(PayloadError(why: "unknown record kind \(kind)"))
        }
    }

    static func readU32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0 ..< 4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }

    static func readU64(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * $1) }
    }
}

import ScoutWire

/// The coordinator's append-only result journal, as bytes: encoding and scanning, no file I/O.
///
/// Every recorded result is appended before it is reduced, so a crashed coordinator resumes by
/// replaying the journal instead of re-running finished scouts. Layout, all integers
/// little-endian:
///
///     record  = magic "GTLJ" (4 bytes) | payload length (u32) | CRC-32C of payload (u32) | payload
///     payload = kind (u8) | body
///     header  (kind 1) = format version (u32) | job id length (u32) | job id (UTF-8)
///                        | SHA-256 of the job spec (32) | snapshot hash (32)
///     result  (kind 2) = task id (u64) | `WireMessage.result(...).encoded()`
///
/// The first record is the header, binding the journal to one job so that `--resume` refuses a
/// journal of another job. A crash mid-append leaves a torn tail, which `scan` detects and
/// reports so the shell can truncate it; the magic lets a reader notice it is not at a record.
public enum Journal {
    /// The four bytes every record starts with.
    public static let magic: [UInt8] = Array("GTLJ".utf8)
    /// Bytes before a record's payload.
    public static let recordHeaderSize = 12
    /// The layout version written in the header; a reader refuses other versions.
    public static let formatVersion: UInt32 = 1
    /// Payloads longer than this are treated as corruption rather than allocated.
    public static let maxPayload = Int(WireMessage.defaultMaxBytes) + 16

    static let headerKind: UInt8 = 1
    static let resultKind: UInt8 = 2

    /// The framed header record that starts a new journal.
    public static func headerRecord(_ header: JournalHeader) -> [UInt8] {
        var payload: [UInt8] = [headerKind]
        appendU32(formatVersion, to: &payload)
        let id = Array(header.jobID.utf8)
        appendU32(UInt32(id.count), to: &payload)
        payload += id
        payload += header.jobSpecHash
        payload += header.snapshotHash
        return frame(payload)
    }

    /// The framed record for one recorded result, to append after the header.
    public static func resultRecord(_ result: ScoutWire.ScoutResult) -> [UInt8] {
        resultRecord(taskID: result.taskID, envelope: WireMessage.result(result).encoded())
    }

    /// The framed record for a result from the envelope bytes it arrived in (already decoded and
    /// checked), so the coordinator journals a model-sized result without encoding it again;
    /// replay decodes the envelope, so any valid encoding of the result reads back the same.
    public static func resultRecord<C: Collection>(taskID: UInt64, envelope: C) -> [UInt8] where C.Element == UInt8 {
        var payload: [UInt8] = [resultKind]
        payload.reserveCapacity(9 + envelope.count)
        appendU64(taskID, to: &payload)
        payload += envelope
        return frame(payload)
    }

    /// Wraps a payload in magic, length and checksum.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out = magic
        out.reserveCapacity(recordHeaderSize + payload.count)
        appendU32(UInt32(payload.count), to: &out)
        appendU32(CRC32C.checksum(payload), to: &out)
        out += payload
        return out
    }

    static func appendU32(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0 ..< 4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    static func appendU64(_ v: UInt64, to out: inout [UInt8]) {
        for i in 0 ..< 8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}

/// What binds a journal to a job: resuming with a different job id, spec or base snapshot
/// would mix statistics of different experiments into one guide, so it must be refused.
public struct JournalHeader: Sendable, Equatable {
    /// The job's id.
    public var jobID: String
    /// SHA-256 of the serialized job spec.
    public var jobSpecHash: [UInt8]
    /// SHA-256 of the base model snapshot.
    public var snapshotHash: [UInt8]

    /// Binds a journal to a job id, the spec's hash and the snapshot's hash.
    public init(jobID: String, jobSpecHash: [UInt8], snapshotHash: [UInt8]) {
        self.jobID = jobID
        self.jobSpecHash = jobSpecHash
        self.snapshotHash = snapshotHash
    }

    /// The header for a job: hashes the spec so the journal need not store it.
    public init(jobID: String, jobSpec: [UInt8], snapshotHash: [UInt8]) {
        self.init(jobID: jobID, jobSpecHash: SHA256.hash(jobSpec), snapshotHash: snapshotHash)
    }

    /// Throws a message naming every difference if `self` (read from the journal `name`) does
    /// not belong to the job `expected`, so `--resume` with the wrong journal stops at once.
    public func check(against expected: JournalHeader, name: String = "journal") throws(ClusterError) {
        var differences: [String] = []
        if jobID != expected.jobID { differences.append("job id '\(jobID)' (expected '\(expected.jobID)')") }
        if jobSpecHash != expected.jobSpecHash {
            differences.append("job spec sha256 \(hexString(jobSpecHash)) (expected \(hexString(expected.jobSpecHash)))")
        }
        if snapshotHash != expected.snapshotHash {
            differences.append("snapshot \(hexString(snapshotHash)) (expected \(hexString(expected.snapshotHash)))")
        }
        guard differences.isEmpty else {
            throw ClusterError("\(name) belongs to another job: " + differences.joined(separator: "; ")
                               + "; refusing to resume (move it away to start afresh)")
        }
    }
}

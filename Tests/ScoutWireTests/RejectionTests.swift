@testable import ScoutWire
import XCTest

/// The decoder refuses, with a specific WireError, everything it does not fully understand.
final class RejectionTests: XCTestCase {
    private let task = WireMessage.task(TaskAssignment(
        jobID: "job", taskID: 5, attempt: 1, snapshotHash: fakeHash(1),
        snapshotSize: 4096, jobSpec: Array(#"{"a":1}"#.utf8)))

    func testGarbage() {
        assertRejects([UInt8](repeating: 0xFF, count: 16), as: .malformed(byteCount: 16))
        // Field 1 with wire type 7, which does not exist.
        assertRejects([0x0F, 0x01, 0x02], as: .malformed(byteCount: 3))
        // A length-delimited field claiming far more bytes than follow.
        assertRejects([0x08, 0x01, 0x12, 0x7F, 0x00], as: .malformed(byteCount: 5))
    }

    func testEveryTruncationIsRejected() {
        let bytes = task.encoded()
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try WireMessage.decode(Array(bytes.prefix(cut))), "prefix of \(cut) bytes")
        }
        // Cutting inside the body is a parse failure, not a quietly shorter message.
        assertRejects(Array(bytes.dropLast()), as: .malformed(byteCount: bytes.count - 1))
        assertRejects(Array(bytes.prefix(5)), as: .malformed(byteCount: 5))
    }

    func testWrongVersion() {
        var bytes = task.encoded()
        XCTAssertEqual(Array(bytes.prefix(2)), [0x08, 0x02])
        bytes[1] = 1
        assertRejects(bytes, as: .versionMismatch(received: 1, expected: 2))

        var body = ProtoBytes()
        body.field(1, varint: 1)
        assertRejects(ProtoBytes.envelope(version: nil, bodyField: 7, body: body),
                      as: .versionMismatch(received: 0, expected: 2))
    }

    func testEmptyEnvelope() {
        assertRejects([0x08, 0x02], as: .missingBody)
        assertRejects([], as: .versionMismatch(received: 0, expected: 2))
    }

    func testUnknownFieldOnTheEnvelope() throws {
        let valid = task.encoded()
        XCTAssertEqual(try WireMessage.decode(valid), task)
        // Tag 99, wire type varint (99 << 3 = 792 = 0x98 0x06), value 1.
        assertRejects(valid + [0x98, 0x06, 0x01], as: .unknownFields(message: "envelope", count: 1))
    }

    func testABodyKindFromTheFutureIsRejected() {
        var body = ProtoBytes()
        body.field(1, varint: 1)
        assertRejects(ProtoBytes.envelope(bodyField: 11, body: body),
                      as: .unknownFields(message: "envelope", count: 1))
    }

    func testUnknownFieldInsideABody() {
        var hello = ProtoBytes()
        hello.field(2, string: "w")
        hello.field(7, varint: 1)
        assertRejects(ProtoBytes.envelope(bodyField: 2, body: hello),
                      as: .unknownFields(message: "hello", count: 1))

        var stat = ProtoBytes()
        stat.field(1, string: "w")
        stat.field(3, string: "extra")
        var result = ProtoBytes()
        result.field(5, bytes: stat.bytes)
        assertRejects(ProtoBytes.envelope(bodyField: 6, body: result),
                      as: .unknownFields(message: "result.statistics[0]", count: 1))
    }

    func testBadHashLengths() {
        assertRejects(WireMessage.task(TaskAssignment(jobID: "j", taskID: 0, attempt: 0,
                                                      snapshotHash: Array(fakeHash(1).dropLast()),
                                                      snapshotSize: 0, jobSpec: [])).encoded(),
                      as: .badHashLength(field: "task.snapshot_hash", length: 31))
        assertRejects(WireMessage.hello(Hello(incarnation: 1, workerName: "w", threads: 1,
                                              cachedSnapshots: [fakeHash(1), fakeHash(2) + [0]],
                                              ready: true)).encoded(),
                      as: .badHashLength(field: "hello.cached_snapshots[1]", length: 33))
        assertRejects(WireMessage.snapshotRequest(SnapshotRequest(snapshotHash: [], offset: 0,
                                                                  credit: 1, chunkSize: 1)).encoded(),
                      as: .badHashLength(field: "snapshot_request.snapshot_hash", length: 0))
        assertRejects(WireMessage.snapshotChunk(SnapshotChunk(snapshotHash: [1, 2, 3], offset: 0,
                                                              totalSize: 1, data: [9])).encoded(),
                      as: .badHashLength(field: "snapshot_chunk.snapshot_hash", length: 3))
    }

    func testChunkPastTheEnd() {
        assertRejects(WireMessage.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(1), offset: 10,
                                                              totalSize: 14, data: [1, 2, 3, 4, 5])).encoded(),
                      as: .chunkOutOfBounds(offset: 10, length: 5, totalSize: 14))
        // offset + length overflowing UInt64 must not wrap around into "in bounds".
        assertRejects(WireMessage.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(1), offset: .max - 1,
                                                              totalSize: .max, data: [1, 2, 3])).encoded(),
                      as: .chunkOutOfBounds(offset: .max - 1, length: 3, totalSize: .max))
    }

    func testOversizedMessage() throws {
        let chunk = WireMessage.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(1), offset: 0,
                                                            totalSize: 1000, data: [UInt8](repeating: 1, count: 1000)))
        let bytes = chunk.encoded()
        assertRejects(bytes, as: .tooLarge(size: bytes.count, limit: bytes.count - 1), maxBytes: bytes.count - 1)
        XCTAssertEqual(try WireMessage.decode(bytes, maxBytes: bytes.count), chunk)
    }

    func testInvalidUTF8IsRejected() {
        var body = ProtoBytes()
        body.field(1, bytes: [0x6A, 0xFF, 0xFE])
        assertRejects(ProtoBytes.envelope(bodyField: 9, body: body),
                      as: .invalidField(field: "job_over.job_id", reason: "not valid UTF-8"))
    }

    func testErrorTaskIDWithoutHasTask() {
        var body = ProtoBytes()
        body.field(3, varint: 12)
        assertRejects(ProtoBytes.envelope(bodyField: 8, body: body),
                      as: .invalidField(field: "error.task_id", reason: "set to 12 without has_task"))
    }

    func testDescriptionsNameTheProblem() {
        XCTAssertEqual(WireError.badHashLength(field: "task.snapshot_hash", length: 31).description,
                       "task.snapshot_hash is 31 bytes, a SHA-256 hash must be 32")
        XCTAssertEqual(WireError.versionMismatch(received: 1, expected: 2).description,
                       "wire protocol version 1 received, this build speaks version 2")
        XCTAssertTrue(WireError.unknownFields(message: "hello", count: 2).description.hasPrefix("hello carries 2 unknown"))
    }
}

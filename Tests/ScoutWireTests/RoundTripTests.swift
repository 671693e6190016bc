@testable import ScoutWire
import XCTest

/// Every message kind survives encode -> decode unchanged, including edge values.
final class RoundTripTests: XCTestCase {
    private func roundTrip(_ message: WireMessage, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = message.encoded()
        XCTAssertEqual(Array(bytes.prefix(2)), [0x08, UInt8(wireProtocolVersion)],
                       "every frame starts with the protocol version", file: file, line: line)
        XCTAssertEqual(try WireMessage.decode(bytes), message, file: file, line: line)
    }

    func testHello() {
        roundTrip(.hello(Hello(incarnation: 0xDEAD_BEEF_0123_4567, workerName: "gpu-node-7 ✓",
                               threads: 16, cachedSnapshots: [fakeHash(1), fakeHash(2)], ready: true, capacity: 3)))
        roundTrip(.hello(Hello(incarnation: 0, workerName: "", threads: 0, cachedSnapshots: [], ready: false, capacity: 0)))
    }

    func testTaskAssignment() {
        let spec = Array(#"{"scouts": 64, "epochs": 3, "lr": 0.01}"#.utf8)
        roundTrip(.task(TaskAssignment(jobID: "job-2024-α", taskID: 41, attempt: 2,
                                       snapshotHash: fakeHash(9), snapshotSize: 123_456_789, jobSpec: spec)))
        roundTrip(.task(TaskAssignment(jobID: "j", taskID: .max, attempt: .max, snapshotHash: fakeHash(0),
                                       snapshotSize: .max, jobSpec: [])))
    }

    func testSnapshotRequest() {
        roundTrip(.snapshotRequest(SnapshotRequest(snapshotHash: fakeHash(3), offset: 1 << 40,
                                                   credit: 8, chunkSize: 1 << 20)))
    }

    func testAChunkEncodedInPlaceHasTheBytesOfTheValue() {
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let value = WireMessage.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(3), offset: 1000, totalSize: 9000,
                                                           data: Array(data[100..<4100])))
        var buffer: [UInt8] = [9, 9, 9]
        data.withUnsafeBytes { all in
            WireMessage.encodeSnapshotChunk(snapshotHash: fakeHash(3), offset: 1000, totalSize: 9000,
                                            data: UnsafeRawBufferPointer(rebasing: all[100..<4100]), into: &buffer)
        }
        XCTAssertEqual(buffer, value.encoded())
    }

    func testJobAnnounce() {
        roundTrip(.jobAnnounce(JobAnnounce(jobID: "job-7", jobSpec: Array("{\"seed\":1}".utf8))))
        roundTrip(.jobAnnounce(JobAnnounce(jobID: "", jobSpec: [])))
    }

    func testSnapshotChunk() {
        let data = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        roundTrip(.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(4), offset: 30_000,
                                               totalSize: 100_000, data: data)))
        // A chunk ending exactly at the end, and an empty chunk at the end, are in bounds.
        roundTrip(.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(4), offset: 99_990,
                                               totalSize: 100_000, data: Array(repeating: 7, count: 10))))
        roundTrip(.snapshotChunk(SnapshotChunk(snapshotHash: fakeHash(4), offset: 100_000,
                                               totalSize: 100_000, data: [])))
    }

    func testScoutResultWithAMillionFloats() {
        var rng = SystemRandomNumberGenerator()
        let big = (0..<1_000_000).map { _ in Float.random(in: -1e3...1e3, using: &rng) }
        let odd: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1]
        let result = ScoutResult(jobID: "job", taskID: 12, incarnation: 99, attempt: 1,
                                 statistics: [Statistic(name: "fc1.weight", values: big),
                                              Statistic(name: "fc1.bias", values: odd),
                                              Statistic(name: "empty", values: [])],
                                 finalLoss: 0.125, steps: 3000, trainSeconds: 12.5)
        let bytes = WireMessage.result(result).encoded()
        // Packed: 4 bytes per float plus a few bytes of framing, not 5+ per float.
        XCTAssertLessThan(bytes.count, 4_000_000 + 200)
        XCTAssertEqual(try WireMessage.decode(bytes), .result(result))
    }

    /// The encoder borrows each statistic's storage in a nested closure; thousands of
    /// parameter tensors must still encode and keep their order.
    func testThousandsOfStatistics() {
        let stats = (0..<5000).map { i in Statistic(name: "layer\(i).weight", values: [Float(i), -Float(i)]) }
        roundTrip(.result(ScoutResult(jobID: "j", taskID: 1, incarnation: 1, attempt: 0, statistics: stats,
                                      finalLoss: 0, steps: 0, trainSeconds: 0)))
    }

    func testNaNSurvivesBitExactly() throws {
        let nan = Float(bitPattern: 0x7FC0_1234)
        let result = ScoutResult(jobID: "j", taskID: 0, incarnation: 0, attempt: 0,
                                 statistics: [Statistic(name: "n", values: [nan, 1])],
                                 finalLoss: .nan, steps: 0, trainSeconds: 0)
        guard case .result(let back) = try WireMessage.decode(WireMessage.result(result).encoded()) else {
            return XCTFail("not a result")
        }
        XCTAssertEqual(back.statistics[0].values.map(\.bitPattern), [0x7FC0_1234, Float(1).bitPattern])
        XCTAssertTrue(back.finalLoss.isNaN)
    }

    func testHeartbeat() {
        roundTrip(.heartbeat(Heartbeat(incarnation: .max, sequence: 123_456)))
    }

    func testErrorReportKeepsTaskZeroDistinctFromNoTask() {
        roundTrip(.error(ErrorReport(code: 3, message: "out of memory", taskID: 0)))
        roundTrip(.error(ErrorReport(code: 3, message: "out of memory", taskID: nil)))
        roundTrip(.error(ErrorReport(code: 0, message: "", taskID: 77)))
    }

    func testJobOver() {
        roundTrip(.jobOver(JobOver(jobID: "job-1", reason: "completed", success: true)))
        roundTrip(.jobOver(JobOver(jobID: "job-2", reason: "cancelled by user", success: false)))
    }

    func testEncodeIntoReusesTheBufferAndMatchesEncoded() {
        let big = WireMessage.result(ScoutResult(
            jobID: "j", taskID: 1, incarnation: 2, attempt: 0,
            statistics: [Statistic(name: "w", values: [Float](repeating: 0.5, count: 250_000))],
            finalLoss: 1, steps: 1, trainSeconds: 1))
        let small = WireMessage.heartbeat(Heartbeat(incarnation: 1, sequence: 2))

        var buffer: [UInt8] = []
        big.encode(into: &buffer)
        XCTAssertEqual(buffer, big.encoded())
        let storage = buffer.withUnsafeBufferPointer { $0.baseAddress }

        small.encode(into: &buffer)
        XCTAssertEqual(buffer, small.encoded())
        big.encode(into: &buffer)
        XCTAssertEqual(buffer, big.encoded())
        XCTAssertEqual(buffer.withUnsafeBufferPointer { $0.baseAddress }, storage,
                       "re-encoding must reuse the buffer's storage, not reallocate")
    }
}

/// The exact bytes on the wire, pinned against a hand-written protobuf encoding, so that a
/// regenerated or swapped encoder cannot silently change the format peers rely on.
final class WireFormatTests: XCTestCase {
    func testHeartbeatBytes() {
        // 08 02: version 2; 3a 04: field 7 (heartbeat), 4 bytes; 08 01 10 02: incarnation 1, sequence 2.
        XCTAssertEqual(WireMessage.heartbeat(Heartbeat(incarnation: 1, sequence: 2)).encoded(),
                       [0x08, 0x02, 0x3A, 0x04, 0x08, 0x01, 0x10, 0x02])
    }

    func testStatisticValuesArePacked() {
        let result = ScoutResult(jobID: "", taskID: 0, incarnation: 0, attempt: 0,
                                 statistics: [Statistic(name: "w", values: [1, 2])],
                                 finalLoss: 0, steps: 0, trainSeconds: 0)
        var stat = ProtoBytes()
        stat.field(1, string: "w")
        let floats: [Float] = [1, 2]
        stat.field(2, bytes: floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        var body = ProtoBytes()
        body.field(5, bytes: stat.bytes)
        XCTAssertEqual(WireMessage.result(result).encoded(), ProtoBytes.envelope(bodyField: 6, body: body))
    }

    /// ScoutResult is packed in parts (head, each statistic, tail); the result must still be the
    /// one canonical encoding, fields in number order, with a multi-byte body length.
    func testFullScoutResultBytes() {
        let stats = [Statistic(name: "a", values: (0..<40).map(Float.init)),
                     Statistic(name: "bb", values: [-1.5]),
                     Statistic(name: "", values: [])]
        let result = ScoutResult(jobID: "job", taskID: 300, incarnation: 7, attempt: 2, statistics: stats,
                                 finalLoss: 0.25, steps: 1000, trainSeconds: 3.5)
        var body = ProtoBytes()
        body.field(1, string: "job")
        body.field(2, varint: 300)
        body.field(3, varint: 7)
        body.field(4, varint: 2)
        for stat in stats {
            var s = ProtoBytes()
            if !stat.name.isEmpty { s.field(1, string: stat.name) }
            if !stat.values.isEmpty {
                s.field(2, bytes: stat.values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            }
            body.field(5, bytes: s.bytes)
        }
        body.field(6, double: 0.25)
        body.field(7, varint: 1000)
        body.field(8, double: 3.5)
        XCTAssertGreaterThan(body.bytes.count, 127, "exercise a two-byte length varint")
        let expected = ProtoBytes.envelope(bodyField: 6, body: body)
        XCTAssertEqual(WireMessage.result(result).encoded(), expected)
        var reused: [UInt8] = [1, 2, 3]
        WireMessage.result(result).encode(into: &reused)
        XCTAssertEqual(reused, expected)
    }

    func testHandWrittenFrameDecodes() throws {
        var body = ProtoBytes()
        body.field(1, string: "job-9")
        body.field(2, string: "done")
        body.field(3, varint: 1)
        XCTAssertEqual(try WireMessage.decode(ProtoBytes.envelope(bodyField: 9, body: body)),
                       .jobOver(JobOver(jobID: "job-9", reason: "done", success: true)))
    }
}

import XCTest
import ScoutWire
@testable import ScoutCluster

final class JournalTests: XCTestCase {
    let header = JournalHeader(jobID: "job-1", jobSpec: Array("{}".utf8), snapshotHash: testSnapshotHash)

    func twoRecordJournal() -> [UInt8] {
        Journal.headerRecord(header) + Journal.resultRecord(result(task: 3, incarnation: 1))
            + Journal.resultRecord(result(task: 0, incarnation: 2, attempt: 2))
    }

    func testCRC32CCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // RFC 3720 (iSCSI), B.4: 32 bytes of zeros, of ones, ascending and descending.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0 ..< 32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0 ..< 32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    func testEightBytesAtATimeAgreesWithTheBytewiseDefinitionAtEveryLengthAndOffset() {
        func reference(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                crc ^= UInt32(b)
                for _ in 0 ..< 8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        var x: UInt32 = 12345
        let data = (0 ..< 300).map { _ -> UInt8 in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) }
        for start in 0 ..< 9 {
            for length in 0 ..< 70 {
                let slice = data[start ..< start + length]   // unaligned starts exercise the loads
                XCTAssertEqual(CRC32C.checksum(slice), reference(Array(slice)), "start \(start), length \(length)")
            }
        }
        XCTAssertEqual(CRC32C.checksum(data), reference(data))
    }

    func testAResultRecordFromTheReceivedEnvelopeEqualsOneFromTheDecodedResult() {
        let r = result(task: 7, incarnation: 3)
        XCTAssertEqual(Journal.resultRecord(taskID: 7, envelope: WireMessage.result(r).encoded()), Journal.resultRecord(r))
    }

    func testRoundTrip() {
        let bytes = twoRecordJournal()
        let scan = Journal.scan(bytes)
        XCTAssertNil(scan.problem)
        XCTAssertEqual(scan.header, header)
        XCTAssertEqual(scan.validLength, bytes.count)
        XCTAssertEqual(scan.records.map(\.taskID), [3, 0])
        XCTAssertEqual(scan.records.map(\.result), [result(task: 3, incarnation: 1), result(task: 0, incarnation: 2, attempt: 2)])
        XCTAssertEqual(scan.completedTaskIDs, [0, 3])
        XCTAssertEqual(Array(bytes.prefix(4)), Array("GTLJ".utf8))
        let empty = Journal.scan([])
        XCTAssertNil(empty.header); XCTAssertNil(empty.problem); XCTAssertEqual(empty.validLength, 0)
    }

    func testEveryTruncationYieldsTheValidPrefix() {
        let bytes = twoRecordJournal()
        let h = Journal.headerRecord(header).count
        let r1 = Journal.resultRecord(result(task: 3, incarnation: 1)).count
        for cut in 0 ..< bytes.count {
            let scan = Journal.scan(Array(bytes.prefix(cut)), name: "journal.bin")
            let expected = cut < h ? 0 : cut < h + r1 ? h : h + r1
            XCTAssertEqual(scan.validLength, expected, "cut at \(cut)")
            XCTAssertEqual(scan.records.count, cut < h + r1 ? 0 : 1, "cut at \(cut)")
            XCTAssertEqual(scan.header == nil, cut < h, "cut at \(cut)")
            if cut == expected {
                XCTAssertNil(scan.problem, "cut at a record boundary \(cut)")
            } else {
                XCTAssertEqual(scan.problem?.hasPrefix("journal.bin: record at byte \(expected): "), true, scan.problem ?? "nil")
                XCTAssertEqual(scan.problem?.hasSuffix("dropping the \(cut - expected)-byte tail"), true, scan.problem ?? "nil")
            }
        }
    }

    func testFlippedPayloadByteIsAChecksumMismatch() {
        var bytes = twoRecordJournal()
        let h = Journal.headerRecord(header).count
        bytes[h + Journal.recordHeaderSize + 5] ^= 0x40
        let scan = Journal.scan(bytes, name: "journal.bin")
        XCTAssertEqual(scan.validLength, h)
        XCTAssertEqual(scan.records.count, 0)
        XCTAssertEqual(scan.problem, "journal.bin: record at byte \(h): checksum mismatch; dropping the \(bytes.count - h)-byte tail")
        var badMagic = twoRecordJournal()
        badMagic[h] = UInt8(ascii: "X")
        XCTAssertEqual(Journal.scan(badMagic).problem?.contains("bad magic"), true)
    }

    func testUndecodablePayloadWithValidChecksumStopsTheScan() {
        let bytes = Journal.headerRecord(header) + Journal.frame([2, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF])
        let scan = Journal.scan(bytes)
        XCTAssertEqual(scan.validLength, Journal.headerRecord(header).count)
        XCTAssertEqual(scan.problem?.contains("undecodable result"), true, scan.problem ?? "nil")
        let headless = Journal.resultRecord(result(task: 1, incarnation: 1))
        XCTAssertEqual(Journal.scan(headless).validLength, 0)
        XCTAssertEqual(Journal.scan(headless).problem?.contains("before the header"), true)
    }

    func testDuplicateResultRecordsKeepTheFirst() {
        let bytes = Journal.headerRecord(header) + Journal.resultRecord(result(task: 1, incarnation: 1))
            + Journal.resultRecord(result(task: 1, incarnation: 2))
        let scan = Journal.scan(bytes)
        XCTAssertEqual(scan.records.map(\.result.incarnation), [1])
        XCTAssertEqual(scan.duplicatesSkipped, 1)
        XCTAssertNil(scan.problem)
    }

    func testHeaderMismatchIsRefusedNamingTheDifference() throws {
        let scanned = try XCTUnwrap(Journal.scan(twoRecordJournal()).header)
        XCTAssertNoThrow(try scanned.check(against: header))
        let other = JournalHeader(jobID: "job-2", jobSpec: Array("{\"lr\":1}".utf8), snapshotHash: testSnapshotHash)
        XCTAssertThrowsError(try scanned.check(against: other, name: "journal.bin")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("journal.bin belongs to another job: job id 'job-1' (expected 'job-2'); job spec sha256"), text)
            XCTAssertFalse(text.contains("snapshot"), text)
        }
    }
}

import Foundation
import XCTest
import GTL

final class DataGzipTests: XCTestCase {
    let text = Array((0..<5000).map { "row \($0): \($0 * 7 % 13)\n" }.joined().utf8)

    func testPlainDataPassesThroughUnchanged() throws {
        XCTAssertEqual(try Gzip.gunzipIfNeeded(text, source: "plain.txt"), text)
        XCTAssertEqual(try Gzip.gunzipIfNeeded([], source: "empty"), [])
        XCTAssertFalse(Gzip.isGzip(text))
    }

    func testRoundTripThroughZlib() throws {
        let compressed = DataFixtures.gzip(text)
        XCTAssertTrue(Gzip.isGzip(compressed))
        XCTAssertLessThan(compressed.count, text.count)
        XCTAssertEqual(try Gzip.gunzipIfNeeded(compressed, source: "t.gz"), text)
        XCTAssertEqual(try Gzip.gunzipIfNeeded(DataFixtures.gzip([]), source: "empty.gz"), [])
    }

    func testWrongSizeTrailerIsDetected() throws {
        var compressed = DataFixtures.gzip(text)
        let n = compressed.count
        compressed.replaceSubrange((n - 4)..<n, with: [1, 0, 0, 0])
        // The trailer's ISIZE is checked by zlib too, so a lying ISIZE is a data error, not silence.
        let error = expectDataError { try Gzip.gunzipIfNeeded(compressed, source: "lying.gz") }
        XCTAssertEqual(error?.file, "lying.gz")
    }

    func testConcatenatedMembersAreAllInflated() throws {
        // The size hint in the last trailer covers only the small last member, so the output
        // buffer has to grow well past its first guess.
        let small = Array("last member\n".utf8)
        let joined = DataFixtures.gzip(text) + DataFixtures.gzip(small) + [0, 0, 0, 0]
        XCTAssertEqual(try Gzip.gunzipIfNeeded(joined, source: "multi.gz"), text + small)
    }

    func testCorruptGzipIsAnErrorNamingTheFile() {
        var compressed = DataFixtures.gzip(text)
        for i in 20..<60 { compressed[i] ^= 0x5A }
        let error = expectDataError { try Gzip.gunzipIfNeeded(compressed, source: "broken.gz") }
        XCTAssertEqual(error?.file, "broken.gz")
        XCTAssertTrue(error?.description.hasPrefix("broken.gz: byte ") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.problem.contains("corrupt") ?? false, error?.problem ?? "")
    }

    func testTruncatedGzipIsAnError() {
        let compressed = DataFixtures.gzip(text)
        let error = expectDataError { try Gzip.gunzipIfNeeded(Array(compressed.prefix(compressed.count / 2)), source: "cut.gz") }
        XCTAssertEqual(error?.file, "cut.gz")
        XCTAssertTrue(error?.problem.contains("truncated") ?? false, error?.problem ?? "")
        // Losing only the 8-byte trailer (CRC and size) is truncation as well.
        XCTAssertNotNil(expectDataError { try Gzip.gunzipIfNeeded(Array(compressed.dropLast(8)), source: "cut.gz") })
    }

    func testTrailingGarbageIsAnError() {
        let error = expectDataError { try Gzip.gunzipIfNeeded(DataFixtures.gzip(text) + Array("junk".utf8), source: "j.gz") }
        XCTAssertTrue(error?.problem.contains("after the end") ?? false, error?.problem ?? "")
    }

    func testDataErrorDescriptionFormat() {
        XCTAssertEqual(DataError(file: "digits.csv", location: "line 12", problem: "expected 65 columns, found 64").description,
                       "digits.csv: line 12: expected 65 columns, found 64")
        XCTAssertEqual(DataError(file: "a.idx", problem: "no such file").description, "a.idx: no such file")
        XCTAssertEqual(DataError(file: "a.idx", problem: "x").localizedDescription, "a.idx: x")
    }
}

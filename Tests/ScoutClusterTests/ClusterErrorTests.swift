import XCTest
@testable import ScoutCluster

final class ClusterErrorTests: XCTestCase {
    func testDescriptionIsTheMessage() {
        XCTAssertEqual("\(ClusterError("journal.bin: bad checksum at byte 96"))", "journal.bin: bad checksum at byte 96")
    }
}

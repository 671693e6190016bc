import Foundation
import XCTest
@testable import ScoutCluster

/// `--server-key` accepts a key file or the key itself, and never mistakes one for the other.
final class WorkerSettingsTests: XCTestCase {
    func testAFortyCharacterPathIsReadAsAFileNotTakenForAKey() throws {
        let pair = try CurveKeyPair.generate()
        // A folder name chosen so that the whole path is exactly 40 characters of the Z85 alphabet.
        let base = FileManager.default.temporaryDirectory.path + "/"
        let name = "k" + String(repeating: "x", count: max(1, 40 - base.count - "/c.pub".count - 1))
        let dir = base + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try CurveKeyFiles.writeKeyPair(pair, directory: dir, name: "c", overwrite: true)
        XCTAssertEqual(paths.publicKeyPath.count, 40)
        XCTAssertTrue(Z85Key.isValid(paths.publicKeyPath), "the trap: the path itself is valid Z85")
        XCTAssertEqual(try WorkerSettings.resolveServerKey(paths.publicKeyPath), pair.publicKey)
        XCTAssertEqual(try WorkerSettings.resolveServerKey(pair.publicKey), pair.publicKey)
        XCTAssertThrowsError(try WorkerSettings.resolveServerKey("not-a-key")) { XCTAssert("\($0)".contains("--server-key")) }
    }
}

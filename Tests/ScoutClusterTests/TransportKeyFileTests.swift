import Foundation
import XCTest
@testable import ScoutCluster

final class TransportKeyFileTests: XCTestCase {
    private func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        return st.st_mode & 0o777
    }

    func testGeneratedKeysAreZ85AndPairsAreChecked() throws {
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        XCTAssertEqual(a.publicKey.utf8.count, 40)
        XCTAssertEqual(a.secretKey.utf8.count, 40)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(try CurveKeyPair(secretKey: a.secretKey), a)
        XCTAssertThrowsError(try CurveKeyPair(publicKey: b.publicKey, secretKey: a.secretKey))
        XCTAssertFalse("\(a)".contains(a.secretKey), "printing a pair must not leak the secret")
        let raw = try XCTUnwrap(Z85Key.decode(a.publicKey))
        XCTAssertEqual(raw.count, 32)
        XCTAssertEqual(Z85Key.encode(raw), a.publicKey)
        XCTAssertNil(Z85Key.decode(String(a.publicKey.dropLast())))
        XCTAssertNil(Z85Key.decode(String(a.publicKey.dropLast()) + "\""), "quote is outside the Z85 alphabet")
    }

    func testKeyFilesRoundTripWithModes() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pair = try CurveKeyPair.generate()
        let oldMask = umask(0o000)  // a permissive umask must not leak into the secret's mode
        defer { umask(oldMask) }
        let paths = try CurveKeyFiles.writeKeyPair(pair, directory: dir, name: "coordinator")
        XCTAssertEqual(paths.secretKeyPath, dir + "/coordinator.key")
        XCTAssertEqual(paths.publicKeyPath, dir + "/coordinator.pub")
        XCTAssertEqual(mode(paths.secretKeyPath), 0o600)
        XCTAssertEqual(mode(paths.publicKeyPath), 0o644)
        XCTAssertEqual(try CurveKeyFiles.readKeyPair(secretKeyFile: paths.secretKeyPath), pair)
        XCTAssertEqual(try CurveKeyFiles.readPublicKey(file: paths.publicKeyPath), pair.publicKey)

        // The directory works as an allow-list: it reads the .pub and never the .key.
        let list = try CurveAllowList.load(from: dir)
        XCTAssertEqual(list.count, 1)
        XCTAssertTrue(list.contains(z85: pair.publicKey))
        XCTAssertFalse(list.contains(z85: pair.secretKey))

        XCTAssertThrowsError(try CurveKeyFiles.writeKeyPair(try CurveKeyPair.generate(), directory: dir, name: "coordinator")) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        XCTAssertEqual(try CurveKeyFiles.readKeyPair(secretKeyFile: paths.secretKeyPath), pair, "refused overwrite left the key intact")
        let replacement = try CurveKeyPair.generate()
        try CurveKeyFiles.writeKeyPair(replacement, directory: dir, name: "coordinator", overwrite: true)
        XCTAssertEqual(try CurveKeyFiles.readKeyPair(secretKeyFile: paths.secretKeyPath), replacement)
        XCTAssertThrowsError(try CurveKeyFiles.writeKeyPair(pair, directory: dir, name: "../escape"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["coordinator.key", "coordinator.pub"], "no temp files left")
    }

    func testSecretKeyReadableByOthersIsRefused() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try CurveKeyFiles.writeKeyPair(try CurveKeyPair.generate(), directory: dir, name: "worker")
        for loose: mode_t in [0o644, 0o640, 0o604] {
            XCTAssertEqual(chmod(paths.secretKeyPath, loose), 0)
            XCTAssertThrowsError(try CurveKeyFiles.readKeyPair(secretKeyFile: paths.secretKeyPath)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(paths.secretKeyPath), text)
                XCTAssertTrue(text.contains("chmod 600"), text)
                XCTAssertTrue(text.contains(String(loose, radix: 8)), text)
            }
        }
        XCTAssertEqual(chmod(paths.secretKeyPath, 0o400), 0)
        XCTAssertNoThrow(try CurveKeyFiles.readKeyPair(secretKeyFile: paths.secretKeyPath), "owner-only read is fine")
    }

    func testAllowListParsesCommentsAndNamesTheMalformedLine() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        let good = dir + "/workers.txt"
        try "# workers\n\n\(a.publicKey)\n  \(b.publicKey)   # gpu-box-2\r\n".write(toFile: good, atomically: true, encoding: .utf8)
        let list = try CurveAllowList.load(from: good)
        XCTAssertEqual(list.count, 2)
        XCTAssertTrue(list.contains(z85: a.publicKey) && list.contains(z85: b.publicKey))

        let bad = dir + "/bad.txt"
        try "# workers\n\(a.publicKey)\n\n\(String(b.publicKey.prefix(39)))\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveAllowList.load(from: bad)) { error in
            XCTAssertTrue("\(error)".contains("\(bad) line 4"), "\(error)")
        }
        let trailing = dir + "/trailing.txt"
        try "\(a.publicKey) gpu-box-1\n".write(toFile: trailing, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveAllowList.load(from: trailing)) { XCTAssertTrue("\($0)".contains("line 1"), "\($0)") }

        let empty = dir + "/empty.txt"
        try "# nobody yet\n".write(toFile: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveAllowList.load(from: empty)) { XCTAssertTrue("\($0)".contains("no public keys"), "\($0)") }
        XCTAssertThrowsError(try CurveAllowList.load(from: dir + "/missing"))
    }

    func testAllowListDirectoryReadsEveryPubFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try (0..<3).map { _ in try CurveKeyPair.generate() }
        for (i, k) in keys.enumerated() { try CurveKeyFiles.writeKeyPair(k, directory: dir, name: "worker\(i)") }
        try "not a key\n".write(toFile: dir + "/README", atomically: true, encoding: .utf8)
        let list = try CurveAllowList.load(from: dir)
        XCTAssertEqual(list, try CurveAllowList(z85Keys: keys.map(\.publicKey)))
        try "garbage\n".write(toFile: dir + "/broken.pub", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveAllowList.load(from: dir)) { XCTAssertTrue("\($0)".contains("broken.pub line 1"), "\($0)") }
    }
}

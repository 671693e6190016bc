@testable import ScoutWire
import XCTest
import Foundation
import Synchronization

/// FIPS 180 test vectors, padding-boundary lengths and the incremental API.
final class SHA256Tests: XCTestCase {
    private func hex(_ s: String) -> String { hexString(SHA256.hash(Array(s.utf8))) }

    func testFIPSVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testOneMillionAs() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        XCTAssertEqual(hexString(SHA256.hash(million)), expected)
        // Fed in uneven pieces that straddle block boundaries in every way.
        var hasher = SHA256()
        var at = 0, step = 1
        while at < million.count {
            let end = min(at + step, million.count)
            million[at..<end].withUnsafeBytes { hasher.update($0) }
            at = end
            step = step % 200 + 37
        }
        XCTAssertEqual(hexString(hasher.finalize()), expected)
    }

    /// Lengths around the 55/56-byte padding split and block edges (digests from Python's hashlib).
    func testPaddingBoundaries() {
        let expected: [Int: String] = [
            55: "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59",
            56: "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562",
            57: "2fe741af801cc238602ac0ec6a7b0c3a8a87c7fc7d7f02a3fe03d1c12eac4d8f",
            63: "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488",
            64: "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108",
            65: "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781",
            119: "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6",
            120: "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c",
            1000: "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d",
        ]
        for (n, digest) in expected {
            let message = (0..<n).map { UInt8($0 % 251) }
            XCTAssertEqual(hexString(SHA256.hash(message)), digest, "length \(n)")
        }
    }

    func testEverySplitPointGivesTheSameDigest() {
        let message = (0..<200).map { UInt8($0 % 251) }
        let oneShot = SHA256.hash(message)
        for split in 0...message.count {
            var hasher = SHA256()
            hasher.update(Array(message[..<split]))
            hasher.update(Array(message[split...]))
            XCTAssertEqual(hasher.finalize(), oneShot, "split at \(split)")
        }
    }

    func testFinalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        XCTAssertEqual(hexString(hasher.finalize()), hex("ab"))
        hasher.update(Array("c".utf8))
        XCTAssertEqual(hexString(hasher.finalize()), hex("abc"))
        XCTAssertEqual(hasher.finalize().count, SHA256.digestSize)
    }

    func testACopyOfAPartlyFedHasherIsIndependent() {
        var a = SHA256()
        a.update(Array("ab".utf8))
        var b = a                       // shares the context until one of them is written
        b.update(Array("c".utf8))
        a.update(Array("x".utf8))
        XCTAssertEqual(hexString(b.finalize()), hex("abc"))
        XCTAssertEqual(hexString(a.finalize()), hex("abx"))
        let c = a
        XCTAssertEqual(c.finalize(), a.finalize())
    }

    func testHashingFromManyThreadsAtOnce() {
        let message = [UInt8](repeating: 7, count: 100_000), expected = SHA256.hash(message)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            var h = SHA256()
            h.update(Array(message[..<(i * 1000)]))
            h.update(Array(message[(i * 1000)...]))
            if h.finalize() != expected || SHA256.hash(message) != expected { failures.withLock { $0 += 1 } }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
    }

    func testHexString() {
        XCTAssertEqual(hexString([]), "")
        XCTAssertEqual(hexString([0x00, 0x0F, 0xA0, 0xFF]), "000fa0ff")
    }
}

@testable import ScoutWire
import XCTest

/// A hand-rolled protobuf writer, independent of protobuf-c, for crafting frames the encoder
/// would never produce (unknown fields, bad versions, malformed values) and for pinning the
/// exact bytes of the wire format.
struct ProtoBytes {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Wire type 0.
    mutating func field(_ number: UInt64, varint value: UInt64) {
        varint(number << 3 | 0)
        varint(value)
    }

    /// Wire type 1 (double).
    mutating func field(_ number: UInt64, double value: Double) {
        varint(number << 3 | 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Wire type 2.
    mutating func field(_ number: UInt64, bytes value: [UInt8]) {
        varint(number << 3 | 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func field(_ number: UInt64, string value: String) {
        field(number, bytes: Array(value.utf8))
    }

    /// An envelope with the given version (nil: field omitted) and body field number.
    static func envelope(version: UInt32? = wireProtocolVersion, bodyField: UInt64,
                         body: ProtoBytes) -> [UInt8] {
        var env = ProtoBytes()
        if let version { env.field(1, varint: UInt64(version)) }
        env.field(bodyField, bytes: body.bytes)
        return env.bytes
    }
}

/// Asserts that decoding `bytes` throws exactly `expected`.
func assertRejects(_ bytes: [UInt8], as expected: WireError, maxBytes: Int = WireMessage.defaultMaxBytes,
                   file: StaticString = #filePath, line: UInt = #line) {
    do {
        let message = try WireMessage.decode(bytes, maxBytes: maxBytes)
        XCTFail("decoded \(message) instead of rejecting with \(expected)", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, file: file, line: line)
    }
}

/// A deterministic, recognisable 32-byte hash stand-in.
func fakeHash(_ seed: UInt8) -> [UInt8] {
    (0..<32).map { seed &+ UInt8($0) &* 7 }
}

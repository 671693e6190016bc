import Foundation
import XCTest
@testable import GTLEngine

/// Safetensors files round-trip, have the layout PyTorch's reader expects, and every damaged
/// file gives an error naming the file and the problem instead of a crash.
final class SafetensorsTests: XCTestCase {
    private func tempURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).safetensors")
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let a = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, -6.5])
        let b = Tensor(shape: [1], storage: [Float.pi])
        let url = tempURL(); defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write([("w", a), ("b", b)], metadata: ["k": "v"], to: url)
        let f = try Safetensors.read(url)
        XCTAssertEqual(f.tensors["w"], a)
        XCTAssertEqual(f.tensors["b"], b)
        XCTAssertEqual(f.order, ["w", "b"])
        XCTAssertEqual(f.metadata, ["k": "v"])
    }

    func testByteLayoutMatchesTheFormat() throws {
        let bytes = try Safetensors.encode([("x", Tensor(shape: [2], storage: [1, 2]))])
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual((8 + n) % 8, 0, "data section aligned to 8 bytes")
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(header, #"{"x":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#)
        XCTAssertEqual(Array(bytes[(8 + n)...]), [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40])
    }

    private func assertRejected(_ bytes: [UInt8], mentioning: String, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.decode(bytes, source: "model.safetensors"), line: line) { error in
            let text = "\(error)"
            XCTAssert(text.contains("model.safetensors"), "names the file: \(text)", line: line)
            XCTAssert(text.contains(mentioning), "says '\(mentioning)': \(text)", line: line)
        }
    }

    private func file(header: String, data: Int) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out += $0 }
        return out + Array(header.utf8) + [UInt8](repeating: 0, count: data)
    }

    func testDamagedFilesGiveClearErrors() throws {
        let good = try Safetensors.encode([("w", Tensor(shape: [4], storage: [1, 2, 3, 4]))])
        assertRejected([1, 2, 3], mentioning: "8-byte")
        assertRejected(Array(good.dropLast(3)), mentioning: "truncated")
        assertRejected([255, 255, 255, 255, 0, 0, 0, 0] + good[8...], mentioning: "header length")
        var corrupt = good; corrupt[9] = UInt8(ascii: "#")
        assertRejected(corrupt, mentioning: "JSON")
        assertRejected(file(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4), mentioning: "F16")
        assertRejected(file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), mentioning: "shape")
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12),
                       mentioning: "overlap")
        assertRejected(file(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: 8), mentioning: "data_offsets")
    }

    func testLoadingIntoAMismatchedNetworkNamesTheTensor() throws {
        let spec = try NetworkSpec.parse("4: dense(3)")
        let net = try spec.makeNetwork(seed: 0)
        let url = tempURL(); defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write([("0.weight", Tensor(shape: [3, 5], repeating: 0)), ("0.bias", Tensor(shape: [3]))],
                              metadata: [Network.specMetadataKey: spec.description], to: url)
        XCTAssertThrowsError(try Network.load(from: url)) { XCTAssert("\($0)".contains("0.weight")) }
        XCTAssertThrowsError(try net.layout.flatten(["0.weight": Tensor(shape: [3, 4])], source: "g")) {
            XCTAssert("\($0)".contains("missing tensor '0.bias'"))
        }
        XCTAssertThrowsError(try Safetensors.read(URL(fileURLWithPath: "/nonexistent/x.safetensors"))) {
            XCTAssert("\($0)".contains("/nonexistent/x.safetensors"))
        }
    }
}

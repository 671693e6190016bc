import XCTest
import GTL

final class DataIDXTests: XCTestCase {
    /// Big-endian IDX header bytes.
    func header(_ magic: UInt32, _ dims: [Int]) -> [UInt8] {
        ([magic] + dims.map(UInt32.init)).flatMap { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
    }

    /// Three 2x3 images with pixel value (17 * (i * 6 + p)) % 256, labels 2, 0, 1.
    func pixels() -> [UInt8] { (0..<18).map { UInt8((17 * $0) % 256) } }
    func imageFile() -> [UInt8] { header(0x0803, [3, 2, 3]) + pixels() }
    func labelFile(_ labels: [UInt8] = [2, 0, 1]) -> [UInt8] { header(0x0801, [labels.count]) + labels }

    func checkRoundTrip(gzipped: Bool) throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let wrap = { (b: [UInt8]) in gzipped ? DataFixtures.gzip(b) : b }
        let images = try DataFixtures.write(wrap(imageFile()), "images-idx3-ubyte" + (gzipped ? ".gz" : ""), in: dir)
        let labels = try DataFixtures.write(wrap(labelFile()), "labels-idx1-ubyte" + (gzipped ? ".gz" : ""), in: dir)
        let d = try IDX.load(images: images, labels: labels, name: "tiny")
        XCTAssertEqual(d.name, "tiny")
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.featureShape, [1, 2, 3])
        XCTAssertEqual(d.labels, [2, 0, 1])
        XCTAssertEqual(d.classCount, 3)        // largest label + 1
        XCTAssertNil(d.classNames)
        XCTAssertEqual(d.features, pixels().map { Float($0) / 255 })
        XCTAssertEqual(d.features.max()!, 255.0 / 255, accuracy: 0)  // 17 * 15 = 255 appears
        XCTAssertTrue(d.features.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testRoundTripRaw() throws { try checkRoundTrip(gzipped: false) }
    func testRoundTripGzipped() throws { try checkRoundTrip(gzipped: true) }

    func testClassCountAndNamesFromCaller() throws {
        let d = try IDX.decode(imageBytes: imageFile(), labelBytes: labelFile(), imageSource: "i", labelSource: "l",
                               name: "tiny", classNames: ["x", "y", "z", "w"])
        XCTAssertEqual(d.classCount, 4)
        XCTAssertEqual(d.classNames?.last, "w")
        XCTAssertEqual(try IDX.decode(imageBytes: imageFile(), labelBytes: labelFile(), imageSource: "i", labelSource: "l",
                                      name: "tiny", classCount: 10).classCount, 10)
    }

    func testLabelOutsideGivenRange() {
        let error = expectDataError {
            try IDX.decode(imageBytes: imageFile(), labelBytes: labelFile([2, 0, 7]), imageSource: "img.idx",
                           labelSource: "lab.idx", name: "tiny", classCount: 5)
        }
        XCTAssertEqual(error?.file, "lab.idx")
        XCTAssertEqual(error?.location, "byte 10")
        XCTAssertTrue(error?.problem.contains("label 7") ?? false, error?.description ?? "")
    }

    func testBadMagicNamesTheFile() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        var bytes = imageFile()
        bytes[2] = 0x0D  // float data type instead of unsigned byte
        let images = try DataFixtures.write(bytes, "bad-images.idx", in: dir)
        let labels = try DataFixtures.write(labelFile(), "labels.idx", in: dir)
        let error = expectDataError { try IDX.load(images: images, labels: labels, name: "x") }
        XCTAssertEqual(error?.file, images.path)
        XCTAssertTrue(error?.description.contains("bad-images.idx: byte 0: bad magic number 0x00000d03") ?? false,
                      error?.description ?? "")
    }

    func testSwappedFilesAreDiagnosed() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let images = try DataFixtures.write(imageFile(), "images.idx", in: dir)
        let labels = try DataFixtures.write(labelFile(), "labels.idx", in: dir)
        let error = expectDataError { try IDX.load(images: labels, labels: images, name: "x") }
        XCTAssertTrue(error?.description.contains("labels.idx") ?? false)
        XCTAssertTrue(error?.problem.contains("swapped") ?? false, error?.description ?? "")
    }

    func testTruncatedFileNamesTheFile() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let images = try DataFixtures.write(Array(imageFile().dropLast(5)), "cut-images.idx.gz", in: dir)
        let labels = try DataFixtures.write(labelFile(), "labels.idx", in: dir)
        let error = expectDataError { try IDX.load(images: images, labels: labels, name: "x") }
        XCTAssertEqual(error?.file, images.path)
        XCTAssertTrue(error?.description.contains("cut-images.idx.gz") ?? false)
        XCTAssertTrue(error?.problem.contains("truncated") ?? false, error?.description ?? "")

        // Shorter than the header, and shorter than the magic number.
        let tiny = try DataFixtures.write(Array(imageFile().prefix(9)), "tiny.idx", in: dir)
        XCTAssertTrue(expectDataError { try IDX.load(images: tiny, labels: labels, name: "x") }?.problem.contains("truncated") ?? false)
        let three = try DataFixtures.write([0, 0, 8], "three.idx", in: dir)
        XCTAssertEqual(expectDataError { try IDX.load(images: three, labels: labels, name: "x") }?.file, three.path)
    }

    func testExtraBytesAreAnError() {
        let error = expectDataError {
            try IDX.decode(imageBytes: imageFile() + [1, 2], labelBytes: labelFile(), imageSource: "img", labelSource: "lab", name: "x")
        }
        XCTAssertEqual(error?.file, "img")
        XCTAssertEqual(error?.location, "byte 34")
    }

    func testCountMismatchNamesTheLabelsFile() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let images = try DataFixtures.write(imageFile(), "images.idx", in: dir)
        let labels = try DataFixtures.write(labelFile([1, 2, 3, 4]), "four-labels.idx", in: dir)
        let error = expectDataError { try IDX.load(images: images, labels: labels, name: "x") }
        XCTAssertEqual(error?.file, labels.path)
        XCTAssertTrue(error?.problem.contains("4 labels") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.problem.contains("3 images") ?? false, error?.description ?? "")
    }

    func testMissingFileAndCorruptGzip() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let labels = try DataFixtures.write(labelFile(), "labels.idx", in: dir)
        let missing = dir.appendingPathComponent("nope.idx")
        let error = expectDataError { try IDX.load(images: missing, labels: labels, name: "x") }
        XCTAssertEqual(error?.description, "\(missing.path): no such file")

        var gz = DataFixtures.gzip(imageFile())
        gz[gz.count - 6] ^= 0xFF  // damage the CRC
        let corrupt = try DataFixtures.write(gz, "corrupt.idx.gz", in: dir)
        let gzError = expectDataError { try IDX.load(images: corrupt, labels: labels, name: "x") }
        XCTAssertEqual(gzError?.file, corrupt.path)
        XCTAssertTrue(gzError?.problem.contains("corrupt gzip") ?? false, gzError?.description ?? "")
    }
}

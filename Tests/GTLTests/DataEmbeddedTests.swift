import XCTest
import GTL

final class DataEmbeddedTests: XCTestCase {
    func testDigitsLoads() throws {
        let d = try EmbeddedData.digits()
        XCTAssertEqual(d.name, "digits")
        XCTAssertEqual(d.count, 1797)
        XCTAssertEqual(d.featureShape, [1, 8, 8])
        XCTAssertEqual(d.featureCount, 64)
        XCTAssertEqual(d.features.count, 1797 * 64)
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(d.classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        XCTAssertEqual(d.features.min(), 0)
        XCTAssertEqual(d.features.max(), 1)  // 16/16: the brightest pixel value occurs
        let counts = d.classCounts()
        XCTAssertEqual(counts.reduce(0, +), 1797)
        XCTAssertTrue(counts.allSatisfy { $0 >= 170 && $0 <= 185 }, "\(counts)")  // scikit-learn: 174...183 per class
        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        XCTAssertEqual(d.labels[0], 0)
        XCTAssertEqual(Array(d.sample(at: 0).prefix(4)), [0, 0, 5.0 / 16, 13.0 / 16])
    }

    func testDigitsThroughDatasetSource() throws {
        XCTAssertEqual(try DatasetSource(spec: "digits"), .digits)
        XCTAssertEqual(try DatasetSource.load(spec: "digits").count, 1797)
    }
}

import XCTest
import GTL

final class DataCSVTests: XCTestCase {
    func parse(_ text: String, labelColumn: Int = -1, hasHeader: Bool = false, featureShape: [Int]? = nil,
               scale: Float = 1, classCount: Int? = nil) throws -> Dataset {
        try CSV.parse(Array(text.utf8), source: "t.csv", labelColumn: labelColumn, hasHeader: hasHeader,
                      featureShape: featureShape, scale: scale, classCount: classCount, name: "t")
    }

    func testBasicParse() throws {
        let d = try parse("1,2,3,0\n4,5,6,2\n")
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.featureShape, [3])
        XCTAssertEqual(d.features, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(d.labels, [0, 2])
        XCTAssertEqual(d.classCount, 3)
    }

    func testHeaderLabelColumnShapeScaleAndLineEndings() throws {
        let text = "\u{FEFF}label,a,b,c,d\r\n\r\n1, 8 ,16,0,4\r\n  \r\n0,2,2,2,2"  // BOM, CRLF, blank lines, no final newline
        let d = try parse(text, labelColumn: 0, hasHeader: true, featureShape: [1, 2, 2], scale: 1.0 / 16, classCount: 4)
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.featureShape, [1, 2, 2])
        XCTAssertEqual(d.labels, [1, 0])
        XCTAssertEqual(d.features, [0.5, 1, 0, 0.25, 0.125, 0.125, 0.125, 0.125])
        XCTAssertEqual(d.classCount, 4)
        XCTAssertEqual(try parse("1,9,0\n2,3,1\n", labelColumn: -2).labels, [9, 3])
    }

    func testNumberFormats() throws {
        let cells = ["0", "-0.5", "+3", ".25", "7.", "1e3", "2.5E-2", "-1.5e+1", "123456789012.5",
                     "0.1", "3.14159265358979323846264", "1e-50", "12345678901234567890123", " 42\t"]
        let d = try parse(cells.joined(separator: ",") + ",0\n")
        let expected: [Float] = [0, -0.5, 3, 0.25, 7, 1000, 0.025, -15, 123456789012.5,
                                 0.1, 3.14159265358979323846264, 0 /* 1e-50 underflows */,
                                 Float("12345678901234567890123")!, 42]
        XCTAssertEqual(d.features, expected)
        XCTAssertEqual(try parse("1,2.0\n").labels, [2])  // an integral float is a valid label
    }

    func testRaggedRowNamesFileAndLine() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let url = try DataFixtures.write(Array("1,2,3,0\n4,5,6,1\n\n7,8,1\n".utf8), "ragged.csv", in: dir)
        let error = expectDataError { try CSV.load(url: url) }
        XCTAssertEqual(error?.file, url.path)
        XCTAssertEqual(error?.location, "line 4")
        XCTAssertEqual(error?.description, "\(url.path): line 4: expected 4 columns, found 3")
        // Too many columns, and a header that disagrees with the rows.
        XCTAssertEqual(expectDataError { try parse("1,2\n3,4,5\n") }?.problem, "expected 2 columns, found 3")
        XCTAssertEqual(expectDataError { try parse("a,b,c\n1,2\n", hasHeader: true) }?.location, "line 2")
    }

    func testNonNumericCellNamesLineColumnAndText() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let url = try DataFixtures.write(DataFixtures.gzip(Array("1,2,3\n4,n/a,5\n".utf8)), "values.csv.gz", in: dir)
        let error = expectDataError { try CSV.load(url: url) }
        XCTAssertEqual(error?.description, "\(url.path): line 2, column 2: expected a number, found \"n/a\"")
        for bad in ["", "nan", "inf", "1e", "--1", "1.2.3", "0x10", "1,5"] {
            let text = bad == "1,5" ? "\"1,5\",0\n" : "\(bad),0\n"
            XCTAssertNotNil(expectDataError { try parse("1,0\n" + text) }, "accepted \(bad)")
        }
        XCTAssertTrue(expectDataError { try parse("1e400,0\n") }?.problem.contains("out of Float range") ?? false)
    }

    func testBadLabels() throws {
        for label in ["-1", "1.5", "cat", "3e10"] {
            let error = expectDataError { try parse("1,0\n2,\(label)\n") }
            XCTAssertEqual(error?.location, "line 2, column 2", label)
            XCTAssertEqual(error?.problem, "label \"\(label)\" is not a non-negative integer")
        }
        let dir = try DataFixtures.temporaryDirectory(self)
        let url = try DataFixtures.write(Array("1,0\n2,1\n3,9\n".utf8), "labels.csv", in: dir)
        let error = expectDataError { try CSV.load(url: url, classCount: 5) }
        XCTAssertEqual(error?.description, "\(url.path): line 3, column 2: label 9 is outside 0..<5")
    }

    func testShapeAndStructureErrors() {
        XCTAssertNotNil(expectDataError { try parse("1,2,3,0\n", featureShape: [2, 2]) })
        XCTAssertNotNil(expectDataError { try parse("1,2,0\n", labelColumn: 3) })
        XCTAssertNotNil(expectDataError { try parse("1,2,0\n", labelColumn: -4) })
        XCTAssertEqual(expectDataError { try parse("") }?.problem, "file is empty")
        XCTAssertEqual(expectDataError { try parse("\n \n") }?.problem, "no data rows")
        XCTAssertEqual(expectDataError { try parse("a,b\n", hasHeader: true) }?.problem, "no data rows after the header")
        XCTAssertNotNil(expectDataError { try parse("1\n2\n") })  // no feature column
    }

    func testGzippedFileAndDefaultName() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let url = try DataFixtures.write(DataFixtures.gzip(Array("0.5,1\n0.25,0\n".utf8)), "pairs.csv.gz", in: dir)
        let d = try CSV.load(url: url)
        XCTAssertEqual(d.name, "pairs")
        XCTAssertEqual(d.features, [0.5, 0.25])
        XCTAssertEqual(try CSV.load(url: url, name: "other").name, "other")
    }

    func testCorruptGzipCSV() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        var gz = DataFixtures.gzip(Array(String(repeating: "1,2,3,4\n", count: 100).utf8))
        gz[gz.count / 2] ^= 0xFF
        gz[gz.count / 2 + 1] ^= 0xFF
        let url = try DataFixtures.write(gz, "damaged.csv.gz", in: dir)
        let error = expectDataError { try CSV.load(url: url) }
        XCTAssertEqual(error?.file, url.path)
    }
}

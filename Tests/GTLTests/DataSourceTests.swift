import XCTest
import GTL

final class DataSourceTests: XCTestCase {
    func testSpecParsing() throws {
        let dir = URL(fileURLWithPath: "/somewhere")
        XCTAssertEqual(try DatasetSource(spec: "fashion-mnist", fashionMNISTDirectory: dir),
                       .fashionMNIST(directory: dir, test: false))
        XCTAssertEqual(try DatasetSource(spec: "fashion-mnist:test", fashionMNISTDirectory: dir),
                       .fashionMNIST(directory: dir, test: true))
        XCTAssertEqual(try DatasetSource(spec: "idx:/a/img.gz,/b/lab.gz"),
                       .idx(images: URL(fileURLWithPath: "/a/img.gz"), labels: URL(fileURLWithPath: "/b/lab.gz")))
        XCTAssertEqual(try DatasetSource(spec: "csv:/data/x.csv"), .csv(URL(fileURLWithPath: "/data/x.csv")))
    }

    func testBadSpecsListAcceptedForms() {
        for spec in ["mnist", "", "idx:/only/one", "idx:,b", "csv:"] {
            let error = expectDataError { try DatasetSource(spec: spec) }
            XCTAssertTrue(error?.file.contains("\"\(spec)\"") ?? false, spec)
        }
        let error = expectDataError { try DatasetSource.load(spec: "cifar") }
        XCTAssertTrue(error?.description.contains(DatasetSource.acceptedForms) ?? false, error?.description ?? "")
    }

    func testMissingFashionMNISTPointsToFetchScript() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let error = expectDataError { try DatasetSource(spec: "fashion-mnist", fashionMNISTDirectory: dir).load() }
        XCTAssertTrue(error?.file.hasSuffix("train-images-idx3-ubyte.gz") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.problem.contains("scripts/fetch-data.sh") ?? false, error?.description ?? "")
    }

    func testFashionMNISTLayoutLoadsWithClassNames() throws {
        // A tiny stand-in with Debian's file names, to check the resolver's paths and metadata.
        let dir = try DataFixtures.temporaryDirectory(self)
        let head = { (magic: UInt32, dims: [Int]) in
            ([magic] + dims.map(UInt32.init)).flatMap { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        }
        _ = try DataFixtures.write(DataFixtures.gzip(head(0x0803, [2, 28, 28]) + [UInt8](repeating: 255, count: 2 * 784)),
                          "t10k-images-idx3-ubyte.gz", in: dir)
        _ = try DataFixtures.write(DataFixtures.gzip(head(0x0801, [2]) + [9, 7]), "t10k-labels-idx1-ubyte.gz", in: dir)
        let d = try DatasetSource(spec: "fashion-mnist:test", fashionMNISTDirectory: dir).load()
        XCTAssertEqual(d.name, "fashion-mnist-test")
        XCTAssertEqual(d.featureShape, [1, 28, 28])
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(d.classNames?[9], "Ankle boot")
        XCTAssertEqual(d.labels, [9, 7])
        XCTAssertEqual(d.features.min(), 1)
    }

    func testCSVSpecLoads() throws {
        let dir = try DataFixtures.temporaryDirectory(self)
        let url = try DataFixtures.write(Array("1,2,1\n3,4,0\n".utf8), "two.csv", in: dir)
        let d = try DatasetSource.load(spec: "csv:" + url.path)
        XCTAssertEqual(d.labels, [1, 0])
        XCTAssertEqual(d.name, "two")
    }

    func testInstalledFashionMNISTTestSplit() throws {
        let dir = DatasetSource.defaultFashionMNISTDirectory
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("t10k-images-idx3-ubyte.gz").path) else {
            throw XCTSkip("Fashion-MNIST not installed (scripts/fetch-data.sh)")
        }
        let d = try DatasetSource.load(spec: "fashion-mnist:test")
        XCTAssertEqual(d.count, 10_000)
        XCTAssertEqual(d.featureShape, [1, 28, 28])
        XCTAssertEqual(d.classCounts(), [Int](repeating: 1000, count: 10))
        XCTAssertEqual(d.features.min(), 0)
        XCTAssertEqual(d.features.max(), 1)
    }
}

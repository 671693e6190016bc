import XCTest
import GTL

final class DataDatasetTests: XCTestCase {
    /// Six samples of shape [2]; sample i has features [10i, 10i + 1] and label i % 3.
    func makeSet(names: [String]? = ["a", "b", "c"]) throws -> Dataset {
        var features: [Float] = []
        for i in 0..<6 { features += [Float(i * 10), Float(i * 10 + 1)] }
        return try Dataset(name: "toy", featureShape: [2], features: features,
                           labels: (0..<6).map { Int32($0 % 3) }, classCount: 3, classNames: names)
    }

    func testCountsAndSamples() throws {
        let d = try makeSet()
        XCTAssertEqual(d.count, 6)
        XCTAssertEqual(d.featureCount, 2)
        XCTAssertEqual(Array(d.sample(at: 4)), [40, 41])
        XCTAssertEqual(d.classCounts(), [2, 2, 2])
    }

    func testInitRejectsBrokenInvariants() {
        let e1 = expectDataError { try Dataset(name: "bad", featureShape: [2], features: [1, 2, 3], labels: [0, 1], classCount: 2) }
        XCTAssertEqual(e1?.file, "bad")
        XCTAssertNotNil(expectDataError { try Dataset(name: "bad", featureShape: [2], features: [1, 2], labels: [2], classCount: 2) })
        XCTAssertNotNil(expectDataError { try Dataset(name: "bad", featureShape: [2], features: [1, 2], labels: [-1], classCount: 2) })
        XCTAssertNotNil(expectDataError { try Dataset(name: "bad", featureShape: [0], features: [], labels: [], classCount: 2) })
        XCTAssertNotNil(expectDataError { try Dataset(name: "bad", featureShape: [], features: [], labels: [], classCount: 2) })
        XCTAssertNotNil(expectDataError { try Dataset(name: "bad", featureShape: [1], features: [1], labels: [0], classCount: 0) })
        XCTAssertNotNil(expectDataError {
            try Dataset(name: "bad", featureShape: [1], features: [1], labels: [0], classCount: 2, classNames: ["x"])
        })
        XCTAssertNoThrow(try Dataset(name: "empty", featureShape: [3], features: [], labels: [], classCount: 2))
    }

    func testSubsetKeepsOrderRepeatsAndMetadata() throws {
        let d = try makeSet()
        let s = d.subset([5, 0, 5])
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s.features, [50, 51, 0, 1, 50, 51])
        XCTAssertEqual(s.labels, [2, 0, 2])
        XCTAssertEqual(s.classCount, 3)
        XCTAssertEqual(s.classNames, ["a", "b", "c"])
        XCTAssertEqual(s.featureShape, [2])
        XCTAssertEqual(d.subset([]).count, 0)
        XCTAssertEqual(d.subset([]).features, [])
    }

    func testIndicesOfClassesAreAscending() throws {
        let d = try makeSet()
        XCTAssertEqual(d.indices(ofClasses: [2, 0]), [0, 2, 3, 5])
        XCTAssertEqual(d.indices(ofClasses: [1]), [1, 4])
        XCTAssertEqual(d.indices(ofClasses: [7]), [])
    }

    func testRelabeledKeepsOnlyMappedClasses() throws {
        let d = try makeSet()
        let r = d.relabeled([2: 0, 0: 1], classCount: 2)
        XCTAssertEqual(r.count, 4)
        XCTAssertEqual(r.labels, [1, 0, 1, 0])          // samples 0, 2, 3, 5 in original order
        XCTAssertEqual(r.features, [0, 1, 20, 21, 30, 31, 50, 51])
        XCTAssertEqual(r.classCount, 2)
        XCTAssertEqual(r.classNames, ["c", "a"])
        XCTAssertEqual(r.classCounts(), [2, 2])
    }

    func testRelabeledWithFixedWiderHeadAndMergedClasses() throws {
        let d = try makeSet()
        // One class into a head of width 5: names cannot be carried (classes 1...4 have no source).
        let wide = d.relabeled([1: 3], classCount: 5)
        XCTAssertEqual(wide.labels, [3, 3])
        XCTAssertEqual(wide.classCount, 5)
        XCTAssertNil(wide.classNames)
        // Merging two classes into one also drops the names.
        let merged = d.relabeled([0: 0, 1: 0, 2: 1], classCount: 2)
        XCTAssertEqual(merged.labels, [0, 0, 1, 0, 0, 1])
        XCTAssertNil(merged.classNames)
    }

    func testReshapedValidatesProduct() throws {
        let d = try makeSet()
        let r = try d.reshaped(featureShape: [1, 2, 1])
        XCTAssertEqual(r.featureShape, [1, 2, 1])
        XCTAssertEqual(r.features, d.features)
        let error = expectDataError { try d.reshaped(featureShape: [3]) }
        XCTAssertEqual(error?.file, "toy")
        XCTAssertNotNil(expectDataError { try d.reshaped(featureShape: [2, 0]) })
    }
}

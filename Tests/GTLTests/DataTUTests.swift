import Foundation
import XCTest
import GTLEngine
@testable import GTL

/// The TU graph loader: a hand-made set with known adjacency, features and labels; malformed files
/// reported with file and line; the `tu:` spec; and the real MUTAG set when it is installed.
final class DataTUTests: XCTestCase {
    /// Three graphs: a path 1-2-3 (label 5), an edge 4-5 (label -2), a lone node 6 (label 5).
    private let toy: [String: String] = [
        "A": "1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n",
        "graph_indicator": "1\n1\n1\n2\n2\n3\n",
        "graph_labels": "5\n-2\n5\n",
        "node_labels": "7\n3\n7\n3\n9\n3\n",
    ]

    private func write(_ files: [String: String], name: String = "TOY") throws -> URL {
        let dir = try DataFixtures.temporaryDirectory(self)
        for (suffix, text) in files { _ = try DataFixtures.write(Array(text.utf8), "\(name)_\(suffix).txt", in: dir) }
        return dir
    }

    func testToySetLoadsAdjacencyFeaturesAndLabels() throws {
        let data = try TUDataset.load(directory: try write(toy), name: "TOY")
        XCTAssertEqual(data.name, "TOY")
        XCTAssertEqual(data.featureShape, [3, 6])   // N = 3 nodes, F = 3 one-hot node labels (3, 7, 9)
        XCTAssertEqual(data.labels, [1, 0, 1])
        XCTAssertEqual(data.classCount, 2)
        XCTAssertEqual(data.classNames, ["-2", "5"])
        let r6 = 1 / Float(6).squareRoot()
        let expected: [[Float]] = [
            [0.5, r6, 0, 0, 1, 0, r6, 1.0 / 3, r6, 1, 0, 0, 0, r6, 0.5, 0, 1, 0],
            [0.5, 0.5, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ]
        for g in 0..<3 {
            for (a, b) in zip(data.sample(at: g), expected[g]) { XCTAssertEqual(a, b, accuracy: 1e-6, "graph \(g + 1)") }
        }
    }

    func testAttributesFollowOneHotLabelsAndMaxNodesPads() throws {
        var files = toy
        files["node_attributes"] = "0.5, -1\n1, 2\n3, 4\n5, 6\n7, 8\n9, 1e1\n"
        let data = try TUDataset.load(directory: try write(files), name: "TOY", maxNodes: 5)
        XCTAssertEqual(data.featureShape, [5, 10])
        let lone = Array(data.sample(at: 2))
        XCTAssertEqual(Array(lone[0..<10]), [1, 0, 0, 0, 0, 1, 0, 0, 9, 10])
        XCTAssertTrue(lone[10...].allSatisfy { $0 == 0 }, "padding nodes are zero")
        let tooSmall = expectDataError { try TUDataset.load(directory: try write(files), name: "TOY", maxNodes: 2) }
        XCTAssertEqual(tooSmall?.problem, "graph 1 has 3 nodes, more than the limit of 2")
    }

    func testWithoutNodeLabelsEveryNodeGetsFeatureOne() throws {
        var files = toy
        files["node_labels"] = nil
        let data = try TUDataset.load(directory: try write(files), name: "TOY")
        XCTAssertEqual(data.featureShape, [3, 4])
        XCTAssertEqual(Array(data.sample(at: 1)), [0.5, 0.5, 0, 1, 0.5, 0.5, 0, 1, 0, 0, 0, 0])
    }

    func testMalformedFilesNameFileAndLine() throws {
        let cases: [(suffix: String, text: String, file: String, location: String?, problem: String)] = [
            ("A", "1, 2\n2 1\n", "TOY_A.txt", "line 2", "expected 2 comma-separated values, found 1"),
            ("A", "1, 2\n2, 7\n", "TOY_A.txt", "line 2", "edge refers to node 7, but TOY_graph_indicator.txt lists 6 nodes"),
            ("A", "3, 4\n", "TOY_A.txt", "line 1", "edge joins node 3 of graph 1 to node 4 of graph 2"),
            ("graph_indicator", "1\n1\n1\n2\n4\n3\n", "TOY_graph_indicator.txt", "line 5",
             "graph id 4 outside 1...3 (TOY_graph_labels.txt lists 3 graphs)"),
            ("graph_indicator", "1\n1\n1\n1\n1\n3\n", "TOY_graph_labels.txt", "line 2", "graph 2 has no nodes in TOY_graph_indicator.txt"),
            ("graph_labels", "5\nactive\n5\n", "TOY_graph_labels.txt", "line 2", "expected an integer, found \"active\""),
            ("node_labels", "7\n3\n7\n3\n9\n", "TOY_node_labels.txt", nil,
             "has 5 lines, but TOY_graph_indicator.txt lists 6 nodes"),
            ("graph_indicator", "1\n1\n\n1\n2\n2\n3\n", "TOY_graph_indicator.txt", "line 3", "empty line (lines are numbered items)"),
            ("node_attributes", "1\n2\n3\nnan\n5\n6\n", "TOY_node_attributes.txt", "line 4", "expected a number, found \"nan\""),
        ]
        for c in cases {
            var files = toy
            files[c.suffix] = c.text
            let dir = try write(files)
            guard let error = expectDataError({ try TUDataset.load(directory: dir, name: "TOY") }) else { continue }
            XCTAssertEqual(error.file, dir.appendingPathComponent(c.file).path, c.problem)
            XCTAssertEqual(error.location, c.location, c.problem)
            XCTAssertEqual(error.problem, c.problem)
        }
        var files = toy
        files["A"] = nil
        let dir = try write(files)
        XCTAssertEqual(expectDataError { try TUDataset.load(directory: dir, name: "TOY") }?.problem, "no such file")
    }

    func testSpecParsesAndLoads() throws {
        let dir = try write(toy)
        let source = try DatasetSource(spec: "tu:\(dir.path)/TOY")
        guard case let .tu(directory, name) = source else { return XCTFail("\(source)") }
        XCTAssertEqual(directory.standardizedFileURL.path, dir.standardizedFileURL.path)
        XCTAssertEqual(name, "TOY")
        XCTAssertEqual(try source.load().count, 3)
        XCTAssertNotNil(expectDataError { try DatasetSource(spec: "tu:") })
        XCTAssertNotNil(expectDataError { try DatasetSource(spec: "tu:/some/dir/") })
        let missing = expectDataError { try DatasetSource.load(spec: "tu:\(dir.path)/NOPE") }
        XCTAssertTrue(missing?.problem.contains("scripts/fetch-data.sh") ?? false, "\(String(describing: missing))")
    }

    /// The real MUTAG set (installed by `scripts/fetch-data.sh`, or pointed to by GTL_TU_DIR): known
    /// counts, and a two-layer GCN must fit its training graphs above the 66.5 % majority rate.
    func testInstalledMUTAGLoadsAndIsLearnable() throws {
        let root = ProcessInfo.processInfo.environment["GTL_TU_DIR"] ?? "/usr/local/share/gtl/tu"
        let dir = URL(fileURLWithPath: root).appendingPathComponent("MUTAG")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("MUTAG_A.txt").path) else {
            throw XCTSkip("MUTAG not installed in \(dir.path); run scripts/fetch-data.sh tu")
        }
        let start = Date()
        let data = try TUDataset.load(directory: dir, name: "MUTAG")
        print("MUTAG load: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(data.count, 188)
        XCTAssertEqual(data.classCount, 2)
        XCTAssertEqual(data.classNames, ["-1", "1"])
        XCTAssertEqual(data.classCounts(), [63, 125])
        XCTAssertEqual(data.featureShape, [28, 35])   // at most 28 atoms, 7 atom types
        var realNodes = 0, edgeEntries = 0
        for g in 0..<data.count {
            let s = Array(data.sample(at: g))
            for i in 0..<28 {
                if s[i * 35 + i] > 0 { realNodes += 1 }
                for j in 0..<28 where j != i && s[i * 35 + j] != 0 { edgeEntries += 1 }
            }
        }
        XCTAssertEqual(realNodes, 3371)
        XCTAssertEqual(edgeEntries, 7442, "MUTAG_A.txt lists each undirected edge in both directions")

        var net = try NetworkSpec.parse("28x35: graphconv(32,relu) graphconv(32,relu) readout(sum) dense(2)").makeNetwork(seed: 1)
        let task = Task(data, indices: Array(0..<data.count), mapping: [0: 0, 1: 1])
        var rng = RandomGenerator(seed: 2)
        Trainer.train(&net, on: task, settings: TrainSettings(steps: 300, batchSize: 32, optimizer: .init(.adam, learningRate: 0.01)),
                      rng: &rng)
        let accuracy = Trainer.accuracy(&net, on: task, classes: 2)
        print("MUTAG GCN training accuracy after 300 steps: \(accuracy)")
        XCTAssertGreaterThan(accuracy, 0.78)
    }

    /// Cuneiform (installed alongside MUTAG): two node-label columns and three attributes per node.
    func testInstalledCuneiformLoads() throws {
        let root = ProcessInfo.processInfo.environment["GTL_TU_DIR"] ?? "/usr/local/share/gtl/tu"
        let dir = URL(fileURLWithPath: root).appendingPathComponent("Cuneiform")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("Cuneiform_A.txt").path) else {
            throw XCTSkip("Cuneiform not installed in \(dir.path); run scripts/fetch-data.sh tu")
        }
        let data = try TUDataset.load(directory: dir, name: "Cuneiform")
        print("Cuneiform: \(data.count) graphs, \(data.classCount) classes, sample shape \(data.featureShape)")
        XCTAssertEqual(data.count, 267)
        XCTAssertEqual(data.classCount, 30)
        let n = data.featureShape[0]
        var realNodes = 0
        for g in 0..<data.count { for i in 0..<n where data.features[g * data.featureCount + i * data.featureShape[1] + i] > 0 { realNodes += 1 } }
        XCTAssertEqual(realNodes, 5680)
    }
}

import Foundation
import GTLEngine

/// Loader for graph-classification sets in the TU Dortmund text format (MUTAG, PROTEINS, Cuneiform…),
/// the common currency of graph-kernel and GNN benchmarks, so GTL can be studied on GNNs.
///
/// A set `NAME` in folder `DIR` is a group of comma-separated files, one line per item, ids 1-based:
/// `NAME_A.txt` (edges `i, j`), `NAME_graph_indicator.txt` (graph id of node `i`),
/// `NAME_graph_labels.txt` (class of graph `g`), and optionally `NAME_node_labels.txt` (one or more
/// integer columns, each turned into a one-hot block over its sorted distinct values) and
/// `NAME_node_attributes.txt` (real columns, appended after the one-hot blocks). Without either,
/// every node gets the single feature 1, so a GCN still sees the structure. Edge labels and
/// attributes are not used.
///
/// Each graph becomes one packed sample (`GraphPacking`) of shape `[N, N + F]`, `N` the largest
/// graph (or `maxNodes`); edges are made undirected and binary. Graph labels are remapped to
/// `0..<classes` in ascending order of the original values, whose text becomes the class names
/// (MUTAG's `-1`, `1` become classes 0, 1 named "-1", "1"). Every problem is a `DataError` naming
/// the file and line.
public enum TUDataset {
    /// Loads set `name` from `directory`. `maxNodes` fixes `N` (e.g. to match another split's model);
    /// a graph larger than it is an error. Throws `DataError` for missing or malformed files.
    public static func load(directory: URL, name: String, maxNodes: Int? = nil) throws -> Dataset {
        func url(_ suffix: String) -> URL { directory.appendingPathComponent("\(name)_\(suffix).txt") }
        let indicatorFile = try TUFile(url("graph_indicator"))
        let labelFile = try TUFile(url("graph_labels"))
        let edgeFile = try TUFile(url("A"))

        let graphLabels = try labelFile.lines.map { try labelFile.integers($0, count: 1)[0] }
        let graphCount = graphLabels.count
        guard graphCount > 0 else { throw DataError(file: labelFile.path, problem: "no graphs listed") }

        // Node i (0-based) belongs to graph graphOf[i] and sits in slot localIndex[i] of it.
        var graphOf: [Int] = [], localIndex: [Int] = []
        var sizes = [Int](repeating: 0, count: graphCount)
        for line in indicatorFile.lines {
            let g = try indicatorFile.integers(line, count: 1)[0]
            guard g >= 1 && g <= graphCount else {
                throw indicatorFile.error(line, "graph id \(g) outside 1...\(graphCount) (\(labelFile.name) lists \(graphCount) graphs)")
            }
            graphOf.append(g - 1)
            localIndex.append(sizes[g - 1])
            sizes[g - 1] += 1
        }
        let nodeCount = graphOf.count
        if let empty = sizes.firstIndex(of: 0) {
            throw DataError(file: labelFile.path, location: "line \(labelFile.lines[empty].number)",
                            problem: "graph \(empty + 1) has no nodes in \(indicatorFile.name)")
        }
        let largest = sizes.max()!
        let n = maxNodes ?? largest
        if let big = sizes.firstIndex(where: { $0 > n }) {
            throw DataError(file: indicatorFile.path, problem: "graph \(big + 1) has \(sizes[big]) nodes, more than the limit of \(n)")
        }

        var edges = [[(Int, Int)]](repeating: [], count: graphCount)
        for line in edgeFile.lines {
            let ends = try edgeFile.integers(line, count: 2)
            for e in ends where e < 1 || e > nodeCount {
                throw edgeFile.error(line, "edge refers to node \(e), but \(indicatorFile.name) lists \(nodeCount) nodes")
            }
            let a = ends[0] - 1, b = ends[1] - 1
            guard graphOf[a] == graphOf[b] else {
                throw edgeFile.error(line, "edge joins node \(a + 1) of graph \(graphOf[a] + 1) to node \(b + 1) of graph \(graphOf[b] + 1)")
            }
            edges[graphOf[a]].append((localIndex[a], localIndex[b]))
        }

        let nodeFeatures = try features(labels: TUFile(optional: url("node_labels")), attributes: TUFile(optional: url("node_attributes")),
                                        nodeCount: nodeCount, indicator: indicatorFile)
        let f = nodeFeatures.width
        let width = GraphPacking.sampleWidth(maxNodes: n, featureCount: f)
        var nodesOfGraph = [[Int]](repeating: [], count: graphCount)
        for i in 0..<nodeCount { nodesOfGraph[graphOf[i]].append(i) }
        var packed = [Float](repeating: 0, count: graphCount * width)
        packed.withUnsafeMutableBufferPointer { out in
            for g in 0..<graphCount {
                let h = nodesOfGraph[g].flatMap { nodeFeatures.values[($0 * f)..<(($0 + 1) * f)] }
                h.withUnsafeBufferPointer {
                    GraphPacking.pack(nodeCount: sizes[g], edges: edges[g], features: $0, featureCount: f, maxNodes: n,
                                      into: UnsafeMutableBufferPointer(rebasing: out[(g * width)..<((g + 1) * width)]))
                }
            }
        }

        let classValues = Array(Set(graphLabels)).sorted()
        let classOf = Dictionary(uniqueKeysWithValues: classValues.enumerated().map { ($1, Int32($0)) })
        return try Dataset(name: name, featureShape: [n, n + f], features: packed, labels: graphLabels.map { classOf[$0]! },
                           classCount: classValues.count, classNames: classValues.map(String.init))
    }

    /// Loads from a `DIR/NAME` prefix (the form of the `tu:` data set spec).
    public static func load(prefix: URL, maxNodes: Int? = nil) throws -> Dataset {
        try load(directory: prefix.deletingLastPathComponent(), name: prefix.lastPathComponent, maxNodes: maxNodes)
    }

    /// Node features, `nodeCount × width`: one-hot node labels per column, then node attributes.
    private static func features(labels: TUFile?, attributes: TUFile?, nodeCount: Int,
                                 indicator: TUFile) throws -> (values: [Float], width: Int) {
        var columns: [[Float]] = []   // one entry per feature, nodeCount values each
        for file in [labels, attributes].compactMap({ $0 }) {
            guard file.lines.count == nodeCount else {
                throw DataError(file: file.path, problem: "has \(file.lines.count) lines, but \(indicator.name) lists \(nodeCount) nodes")
            }
            let width = file.lines[0].fields.count
            if file === labels {
                let rows = try file.lines.map { try file.integers($0, count: width) }
                for c in 0..<width {
                    let values = Array(Set(rows.map { $0[c] })).sorted()
                    let position = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
                    for v in values.indices { columns.append(rows.map { position[$0[c]] == v ? 1 : 0 }) }
                }
            } else {
                let rows = try file.lines.map { try file.reals($0, count: width) }
                for c in 0..<width { columns.append(rows.map { $0[c] }) }
            }
        }
        if columns.isEmpty { columns = [[Float](repeating: 1, count: nodeCount)] }
        var values = [Float](repeating: 0, count: nodeCount * columns.count)
        for (c, column) in columns.enumerated() { for i in 0..<nodeCount { values[i * columns.count + c] = column[i] } }
        return (values, columns.count)
    }
}

/// One TU text file split into numbered, comma-separated lines, with typed field access that
/// reports the file and line. A class only so `features` can tell its two optional files apart.
final class TUFile {
    /// One non-blank line: its 1-based number and trimmed fields.
    struct Line { var number: Int; var fields: [Substring] }
    let path: String
    let name: String
    let lines: [Line]

    /// Reads `url`; blank lines are allowed only at the end (elsewhere they would shift every id).
    init(_ url: URL) throws {
        path = url.path
        name = url.lastPathComponent
        let text = String(decoding: try readFileBytes(url, source: url.path), as: UTF8.self)
        var raw = text.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = raw.last, last.allSatisfy(\.isWhitespace) { raw.removeLast() }
        var lines: [Line] = []
        lines.reserveCapacity(raw.count)
        for (i, line) in raw.enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else {
                throw DataError(file: url.path, location: "line \(i + 1)", problem: "empty line (lines are numbered items)")
            }
            lines.append(Line(number: i + 1, fields: line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines)[...] }))
        }
        self.lines = lines
    }

    /// Reads `url` if it exists: the optional files of the format.
    convenience init?(optional url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        try self.init(url)
    }

    func error(_ line: Line, _ problem: String) -> DataError {
        DataError(file: path, location: "line \(line.number)", problem: problem)
    }

    /// Exactly `count` integer fields.
    func integers(_ line: Line, count: Int) throws -> [Int] {
        guard line.fields.count == count else { throw error(line, "expected \(count) comma-separated values, found \(line.fields.count)") }
        return try line.fields.map {
            guard let v = Int($0) else { throw error(line, "expected an integer, found \"\($0)\"") }
            return v
        }
    }

    /// Exactly `count` finite real fields.
    func reals(_ line: Line, count: Int) throws -> [Float] {
        guard line.fields.count == count else { throw error(line, "expected \(count) comma-separated values, found \(line.fields.count)") }
        return try line.fields.map {
            guard let v = Float($0), v.isFinite else { throw error(line, "expected a number, found \"\($0)\"") }
            return v
        }
    }
}

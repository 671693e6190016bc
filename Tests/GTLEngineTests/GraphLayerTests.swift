import Foundation
import XCTest
@testable import GTLEngine

/// Graph layers on packed graphs: finite-difference gradients, a hand-computed forward pass,
/// padding and permutation invariance, and the architecture grammar.
final class GraphLayerTests: XCTestCase {
    /// A random graph: node count, undirected edges and Gaussian features.
    private struct Graph {
        var nodes: Int
        var edges: [(Int, Int)]
        var features: [Float]
    }

    private func randomGraphs(_ count: Int, nodes: ClosedRange<Int>, features: Int, seed: UInt64) -> [Graph] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            let n = nodes.lowerBound + rng.nextInt(below: nodes.count)
            var edges: [(Int, Int)] = []
            for a in 0..<n { for b in (a + 1)..<max(a + 1, n) where rng.nextUniform() < 0.4 { edges.append((a, b)) } }
            return Graph(nodes: n, edges: edges, features: (0..<(n * features)).map { _ in rng.nextGaussian() })
        }
    }

    /// Packs `graphs` with `maxNodes` slots; `permute` renumbers node `i` as `-i mod n`.
    private func pack(_ graphs: [Graph], maxNodes: Int, features: Int, permute: Bool = false) -> [Float] {
        graphs.flatMap { g -> [Float] in
            guard permute else {
                return GraphPacking.pack(nodeCount: g.nodes, edges: g.edges, features: g.features,
                                         featureCount: features, maxNodes: maxNodes)
            }
            let p = (0..<g.nodes).map { (g.nodes - $0) % g.nodes }   // i -> -i mod n, a permutation
            var f = [Float](repeating: 0, count: g.features.count)
            for i in 0..<g.nodes { for j in 0..<features { f[p[i] * features + j] = g.features[i * features + j] } }
            return GraphPacking.pack(nodeCount: g.nodes, edges: g.edges.map { (p[$0.0], p[$0.1]) }, features: f,
                                     featureCount: features, maxNodes: maxNodes)
        }
    }

    /// Central differences of the loss against the analytic gradient of every sampled parameter;
    /// returns the largest absolute difference seen.
    @discardableResult
    private func check(_ layers: [any Layer], input x: [Float], inputShape: [Int], batch: Int, eps: Float = 1e-2,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        var net = try Network(inputShape: inputShape, layers: layers, seed: 7)
        let labels = (0..<batch).map { Int32($0 % net.outputWidth) }
        func evaluate(_ n: inout Network) -> Float {
            x.withUnsafeBufferPointer { xb in
                labels.withUnsafeBufferPointer { n.computeGradients(xb, targets: .classes($0), batch: batch, loss: SoftmaxCrossEntropy()) }
            }
        }
        return try assertGradientsMatchFiniteDifferences(&net, eps: eps, evaluate: evaluate, file: file, line: line)
    }

    func testGraphConvAndReadoutGradients() throws {
        let graphs = randomGraphs(3, nodes: 2...5, features: 3, seed: 1)
        let x = pack(graphs, maxNodes: 6, features: 3)
        var worst: Float = 0
        // The first graphconv's parameter gradient checks the input gradient of the layer after it.
        for act in [Activation.Kind.tanh, .sigmoid, nil] {
            for kind in GraphReadout.Kind.allCases {
                worst = max(worst, try check([GraphConv(outputs: 4, activation: .tanh), GraphConv(outputs: 5, activation: act),
                                              GraphReadout(kind), Dense(outputs: 3)], input: x, inputShape: [6, 9], batch: 3))
            }
        }
        // ReLU has kinks: with 1e-3 a bias step crosses one here (the error grows with the step), 3e-4 does not.
        worst = max(worst, try check([GraphConv(outputs: 4, activation: .relu), GraphConv(outputs: 5, activation: .relu),
                                      GraphReadout(.sum), Dense(outputs: 3)], input: x, inputShape: [6, 9], batch: 3, eps: 3e-4))
        print("graph gradient check: largest |analytic - numeric| = \(worst)")
    }

    func testForwardMatchesHandComputedPathGraph() throws {
        // Path 0 - 1 - 2 with one padding slot; degrees with self-loops are 2, 3, 2.
        let x = GraphPacking.pack(nodeCount: 3, edges: [(0, 1), (2, 1), (1, 1)], features: [1, 2, 3], featureCount: 1, maxNodes: 4)
        let r6: Float = 1 / 6.0.squareRoot().float
        let adjacency: [[Float]] = [[0.5, r6, 0, 0], [r6, 1.0 / 3, r6, 0], [0, r6, 0.5, 0], [0, 0, 0, 0]]
        for i in 0..<4 {
            for j in 0..<4 { XCTAssertEqual(x[i * 5 + j], adjacency[i][j], accuracy: 1e-6, "Â[\(i), \(j)]") }
            XCTAssertEqual(x[i * 5 + 4], i < 3 ? Float(i + 1) : 0)
        }
        var net = try Network(inputShape: [4, 5], layers: [GraphConv(outputs: 2)], seed: 1)
        try net.setParameters([1, -1, 0.5, 0.25])   // W = [[1], [-1]], b = [0.5, 0.25]
        let y = net.predict(x, batch: 1)
        let ah: [Float] = [0.5 + 2 * r6, r6 + 2.0 / 3 + 3 * r6, 2 * r6 + 1.5]   // Â H
        XCTAssertEqual(y.count, 4 * 6)
        for i in 0..<4 {
            for j in 0..<4 { XCTAssertEqual(y[i * 6 + j], x[i * 5 + j], "Â passes through") }
            XCTAssertEqual(y[i * 6 + 4], i < 3 ? ah[i] + 0.5 : 0, accuracy: 1e-5)
            XCTAssertEqual(y[i * 6 + 5], i < 3 ? -ah[i] + 0.25 : 0, accuracy: 1e-5)
        }
        var sigmoid = try Network(inputShape: [4, 5], layers: [GraphConv(outputs: 2, activation: .sigmoid), GraphReadout(.mean)], seed: 1)
        try sigmoid.setParameters([1, -1, 0.5, 0.25])
        let pooled = sigmoid.predict(x, batch: 1)
        let expected = [0, 1].map { c in ah.map { 1 / (1 + exp(-(c == 0 ? $0 + 0.5 : -$0 + 0.25))) }.reduce(0, +) / 3 }
        XCTAssertEqual(pooled[0], expected[0], accuracy: 1e-5)
        XCTAssertEqual(pooled[1], expected[1], accuracy: 1e-5)
        var summed = try Network(inputShape: [4, 5], layers: [GraphReadout(.sum)], seed: 1)
        XCTAssertEqual(summed.predict(x, batch: 1), [6])
    }

    func testPaddingChangesNeitherOutputsNorGradients() throws {
        let graphs = randomGraphs(4, nodes: 1...5, features: 3, seed: 2)
        let labels: [Int32] = [0, 1, 1, 0]
        var results: [(y: [Float], g: [Float])] = []
        for maxNodes in [5, 6, 11] {
            // Sigmoid would put 0.5 on padding nodes if the layer let it; mean readout would count them.
            var net = try Network(inputShape: [maxNodes, maxNodes + 3],
                                  layers: [GraphConv(outputs: 4, activation: .sigmoid), GraphConv(outputs: 3, activation: .tanh),
                                           GraphReadout(.mean), Dense(outputs: 2)], seed: 3)
            let x = pack(graphs, maxNodes: maxNodes, features: 3)
            let y = net.predict(x, batch: 4)
            x.withUnsafeBufferPointer { xb in
                labels.withUnsafeBufferPointer { _ = net.computeGradients(xb, targets: .classes($0), batch: 4, loss: SoftmaxCrossEntropy()) }
            }
            results.append((y, net.gradients))
            // Padding rows of a graphconv output stay exactly zero (sigmoid(bias) would leak otherwise).
            var conv = try Network(inputShape: [maxNodes, maxNodes + 3], layers: [GraphConv(outputs: 4, activation: .sigmoid)], seed: 3)
            let h = conv.predict(x, batch: 4)
            for (g, graph) in graphs.enumerated() {
                for i in graph.nodes..<maxNodes {
                    let row = (g * maxNodes + i) * (maxNodes + 4)
                    XCTAssertEqual(Array(h[row..<(row + maxNodes + 4)]), [Float](repeating: 0, count: maxNodes + 4), "graph \(g), slot \(i)")
                }
            }
        }
        for r in results.dropFirst() {
            for (a, b) in zip(results[0].y, r.y) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            XCTAssertEqual(results[0].g.count, r.g.count)
            for (a, b) in zip(results[0].g, r.g) { XCTAssertEqual(a, b, accuracy: 1e-6 + 1e-5 * abs(a)) }
        }
    }

    func testNodeOrderDoesNotChangeTheGraphOutput() throws {
        let graphs = randomGraphs(5, nodes: 3...7, features: 2, seed: 4)
        for kind in GraphReadout.Kind.allCases {
            var net = try Network(inputShape: [7, 9], layers: [GraphConv(outputs: 6, activation: .relu), GraphConv(outputs: 4),
                                                               GraphReadout(kind), Dense(outputs: 3)], seed: 5)
            let plain = pack(graphs, maxNodes: 7, features: 2)
            let permuted = pack(graphs, maxNodes: 7, features: 2, permute: true)
            XCTAssertNotEqual(plain, permuted, "the permutation must actually move nodes")
            for (a, b) in zip(net.predict(plain, batch: 5), net.predict(permuted, batch: 5)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }

    func testGraphGrammarRoundTripsAndRejectsNonsense() throws {
        let text = "6x9: graphconv(8,relu) graphconv(4) readout(mean) dense(2)"
        let spec = try NetworkSpec.parse(text)
        XCTAssertEqual(spec.description, text)
        XCTAssertEqual(spec.layers, [.graphConv(outputs: 8, activation: .relu), .graphConv(outputs: 4, activation: nil),
                                     .readout(.mean), .dense(outputs: 2)])
        XCTAssertEqual(try NetworkSpec.parse("4x6: GCN(3,Sigmoid) readout(SUM)").description, "4x6: graphconv(3,sigmoid) readout(sum)")
        let net = try spec.makeNetwork(seed: 1)
        XCTAssertEqual(net.layout.specs.map(\.name), ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"])
        XCTAssertEqual(net.layout.specs.map(\.shape), [[8, 3], [8], [4, 8], [4], [2, 4], [2]])
        XCTAssertEqual(net.layerDescriptions, ["graphconv(8,relu)", "graphconv(4)", "readout(mean)", "dense(2)"])
        let decoded = try JSONDecoder().decode(NetworkSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(decoded, spec)
        for bad in ["6x9: graphconv(0)", "6x9: graphconv(8,gelu)", "6x9: graphconv()", "6x9: readout(max)", "6x9: readout"] {
            XCTAssertThrowsError(try NetworkSpec.parse(bad), bad)
        }
        XCTAssertThrowsError(try NetworkSpec.parse("64: graphconv(8) readout(sum)").makeNetwork(seed: 1)) {
            XCTAssertTrue("\($0)".contains("[N, N + F]"), "\($0)")
        }
        XCTAssertThrowsError(try NetworkSpec.parse("6x6: readout(sum)").makeNetwork(seed: 1))
    }
}

private extension Double {
    var float: Float { Float(self) }
}

#if canImport(Glibc)
import Glibc
#endif

/// The packed per-sample form of a graph that `GraphConv` and `GraphReadout` read.
///
/// A sample is one padded graph of at most `maxNodes` nodes stored as a `[maxNodes, maxNodes + F]`
/// row-major matrix: row `i` holds node `i`'s row of the GCN-normalised adjacency
/// `Â = D^-1/2 (A + I) D^-1/2` followed by its `F` features. Padding nodes have all-zero rows and
/// columns, so `Â[i, i] > 0` exactly for real nodes and marks them without a separate mask.
///
/// Why this form: the `Layer` contract hands layers one fixed-shape buffer per sample, so the
/// structure must travel inside the sample. Dense padding wastes memory for big graphs, but the
/// graph-classification sets this project studies (TU sets such as MUTAG, at most a few dozen
/// nodes) are tiny, and a dense `Â` turns propagation into one BLAS product per graph. Normalising
/// once at load time keeps the layers free of degree bookkeeping.
public enum GraphPacking {
    /// Elements of one packed sample with `maxNodes` nodes and `featureCount` features per node.
    public static func sampleWidth(maxNodes: Int, featureCount: Int) -> Int { maxNodes * (maxNodes + featureCount) }

    /// Writes one graph into `out` (`sampleWidth` values, overwritten entirely).
    ///
    /// - Parameters:
    ///   - nodeCount: real nodes, `1...maxNodes`.
    ///   - edges: node index pairs in `0..<nodeCount`; treated as undirected (both directions set)
    ///     and binary (duplicates count once). Self-loops are ignored because `+ I` already adds one,
    ///     as PyTorch Geometric's `gcn_norm` does.
    ///   - features: `nodeCount × featureCount` values, node after node.
    public static func pack(nodeCount: Int, edges: [(Int, Int)], features: UnsafeBufferPointer<Float>,
                            featureCount: Int, maxNodes: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(nodeCount >= 1 && nodeCount <= maxNodes, "graph has \(nodeCount) nodes, limit is 1...\(maxNodes)")
        precondition(features.count == nodeCount * featureCount, "need \(nodeCount * featureCount) feature values")
        let row = maxNodes + featureCount
        precondition(out.count == maxNodes * row, "output holds \(out.count) values, need \(maxNodes * row)")
        out.initialize(repeating: 0)
        let o = out.baseAddress!
        for i in 0..<nodeCount { o[i * row + i] = 1 }
        for (a, b) in edges where a != b {
            precondition(a >= 0 && a < nodeCount && b >= 0 && b < nodeCount, "edge (\(a), \(b)) outside 0..<\(nodeCount)")
            o[a * row + b] = 1
            o[b * row + a] = 1
        }
        // Degrees of A + I, then Â_ij = 1 / sqrt(d_i d_j) computed in Double so that e.g. 1/2 is exact.
        var degree = [Double](repeating: 0, count: nodeCount)
        for i in 0..<nodeCount { for j in 0..<nodeCount { degree[i] += Double(o[i * row + j]) } }
        for i in 0..<nodeCount {
            for j in 0..<nodeCount where o[i * row + j] != 0 { o[i * row + j] = Float(1 / (degree[i] * degree[j]).squareRoot()) }
            for f in 0..<featureCount { o[i * row + maxNodes + f] = features[i * featureCount + f] }
        }
    }

    /// Array convenience for `pack(…, into:)`, used by tests and small callers.
    public static func pack(nodeCount: Int, edges: [(Int, Int)], features: [Float], featureCount: Int,
                            maxNodes: Int) -> [Float] {
        var out = [Float](repeating: 0, count: sampleWidth(maxNodes: maxNodes, featureCount: featureCount))
        features.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer {
                pack(nodeCount: nodeCount, edges: edges, features: f, featureCount: featureCount, maxNodes: maxNodes, into: $0)
            }
        }
        return out
    }

    /// Checks a per-sample shape for a graph layer and returns `(maxNodes, featureCount)`; the error
    /// names `layer` and explains the packed form, since a wrong shape is the usual misuse.
    static func dimensions(of shape: [Int], layer: String) throws -> (nodes: Int, features: Int) {
        guard shape.count == 2, shape[0] > 0, shape[1] > shape[0] else {
            throw EngineError("\(layer) needs packed graphs of shape [N, N + F] with F >= 1 "
                              + "(normalised adjacency then node features), got \(shape)")
        }
        return (shape[0], shape[1] - shape[0])
    }
}

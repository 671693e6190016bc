/// A serialisable description of one layer, so architectures travel in files, job specs and flags.
public enum LayerSpec: Sendable, Equatable, Codable {
    case dense(outputs: Int)
    case conv2d(channels: Int, kernel: Int, stride: Int, padding: Int)
    case maxPool(size: Int, stride: Int)
    case avgPool(size: Int, stride: Int)
    case flatten
    case relu, tanh, sigmoid
    case dropout(rate: Float)
    /// A GCN layer on packed graphs with an optional built-in activation (`graphconv(32,relu)`).
    case graphConv(outputs: Int, activation: Activation.Kind?)
    /// Pools packed graphs into one vector per graph (`readout(sum)`, `readout(mean)`).
    case readout(GraphReadout.Kind)

    /// The layer this spec describes.
    public func makeLayer() -> any Layer {
        switch self {
        case .dense(let n): return Dense(outputs: n)
        case .conv2d(let c, let k, let s, let p): return Conv2D(outChannels: c, kernel: k, stride: s, padding: p)
        case .maxPool(let k, let s): return Pool2D(.max, size: k, stride: s)
        case .avgPool(let k, let s): return Pool2D(.average, size: k, stride: s)
        case .flatten: return Flatten()
        case .relu: return Activation(.relu)
        case .tanh: return Activation(.tanh)
        case .sigmoid: return Activation(.sigmoid)
        case .dropout(let r): return Dropout(rate: r)
        case .graphConv(let n, let a): return GraphConv(outputs: n, activation: a)
        case .readout(let k): return GraphReadout(k)
        }
    }

    /// The compact text form, e.g. `conv2d(8,3,1,1)`; `NetworkSpec.parse` reads it back.
    public var text: String {
        switch self {
        case .dense(let n): return "dense(\(n))"
        case .conv2d(let c, let k, let s, let p): return "conv2d(\(c),\(k),\(s),\(p))"
        case .maxPool(let k, let s): return "maxpool(\(k),\(s))"
        case .avgPool(let k, let s): return "avgpool(\(k),\(s))"
        case .flatten: return "flatten"
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .dropout(let r): return "dropout(\(r))"
        case .graphConv(let n, let a): return a.map { "graphconv(\(n),\($0.rawValue))" } ?? "graphconv(\(n))"
        case .readout(let k): return "readout(\(k.rawValue))"
        }
    }
}

/// An architecture: per-sample input shape and the layers in order.
///
/// Its text form (`"1x8x8: conv2d(8,3,1,1) relu maxpool(2,2) flatten dense(10)"`) is what flags
/// accept and what safetensors files carry in their metadata, so a saved model can be rebuilt.
public struct NetworkSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Per-sample input shape.
    public var inputShape: [Int]
    /// The layers, input to output.
    public var layers: [LayerSpec]

    /// An architecture from its parts.
    public init(inputShape: [Int], layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// The text form, e.g. `64: dense(32) relu dense(10)`.
    public var description: String {
        inputShape.map(String.init).joined(separator: "x") + ": " + layers.map(\.text).joined(separator: " ")
    }

    /// Builds the network with parameters initialised from `seed`.
    public func makeNetwork(seed: UInt64) throws -> Network {
        try Network(inputShape: inputShape, layers: layers.map { $0.makeLayer() }, seed: seed)
    }

    /// Parses the text form; the error names the offending token.
    public static func parse(_ text: String) throws -> NetworkSpec {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else {
            throw EngineError("architecture '\(text)': expected 'SHAPE: LAYERS', e.g. '64: dense(32) relu dense(10)'")
        }
        let shape = parts[0].split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !shape.isEmpty, shape.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw EngineError("architecture '\(text)': bad input shape '\(parts[0])' (use e.g. 64 or 1x28x28)")
        }
        var layers: [LayerSpec] = []
        for token in parts[1].split(separator: " ") where !token.isEmpty {
            layers.append(try parseLayer(String(token)))
        }
        guard !layers.isEmpty else { throw EngineError("architecture '\(text)': no layers") }
        return NetworkSpec(inputShape: shape.map { $0! }, layers: layers)
    }

    private static func parseLayer(_ token: String) throws -> LayerSpec {
        let name: String, args: [String]
        if let open = token.firstIndex(of: "("), token.hasSuffix(")") {
            name = String(token[..<open]).lowercased()
            args = token[token.index(after: open)..<token.index(before: token.endIndex)]
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else {
            name = token.lowercased()
            args = []
        }
        func ints(_ n: ClosedRange<Int>) throws -> [Int] {
            let v = args.compactMap { Int($0) }
            guard v.count == args.count, n.contains(v.count), v.allSatisfy({ $0 >= 0 }) else {
                throw EngineError("layer '\(token)': expected \(n.lowerBound)...\(n.upperBound) non-negative integers")
            }
            return v
        }
        switch name {
        case "dense", "linear": return .dense(outputs: try ints(1...1)[0])
        case "conv2d", "conv":
            let v = try ints(2...4)
            return .conv2d(channels: v[0], kernel: v[1], stride: v.count > 2 ? v[2] : 1, padding: v.count > 3 ? v[3] : 0)
        case "maxpool", "avgpool":
            let v = try ints(1...2)
            let s = v.count > 1 ? v[1] : v[0]
            return name == "maxpool" ? .maxPool(size: v[0], stride: s) : .avgPool(size: v[0], stride: s)
        case "flatten": return .flatten
        case "relu": return .relu
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "graphconv", "gcn":
            guard (1...2).contains(args.count), let n = Int(args[0]), n > 0 else {
                throw EngineError("layer '\(token)': expected graphconv(OUTPUTS) or graphconv(OUTPUTS,relu|tanh|sigmoid)")
            }
            guard args.count == 2 else { return .graphConv(outputs: n, activation: nil) }
            guard let kind = Activation.Kind(rawValue: args[1].lowercased()) else {
                throw EngineError("layer '\(token)': unknown activation '\(args[1])' (use relu, tanh or sigmoid)")
            }
            return .graphConv(outputs: n, activation: kind)
        case "readout":
            guard args.count == 1, let kind = GraphReadout.Kind(rawValue: args[0].lowercased()) else {
                throw EngineError("layer '\(token)': expected readout(sum) or readout(mean)")
            }
            return .readout(kind)
        case "dropout":
            guard args.count == 1, let r = Float(args[0]) else { throw EngineError("layer '\(token)': expected dropout(RATE)") }
            return .dropout(rate: r)
        default:
            throw EngineError("unknown layer '\(token)' (known: dense, conv2d, maxpool, avgpool, flatten, relu, tanh, sigmoid, dropout, graphconv, readout)")
        }
    }
}

import Foundation

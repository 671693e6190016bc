/// Name, shape and place of one parameter tensor inside a network's flat parameter buffer.
public struct ParameterSpec: Sendable, Equatable, Codable {
    /// Stable address such as `0.weight` or `3.bias`: layer index, then the layer's local name.
    /// Guide values, snapshots and safetensors exports are keyed by it.
    public let name: String
    /// Tensor shape, PyTorch's conventions (`[out, in]` for dense weights, `[out, in, kh, kw]` for conv).
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
    /// Number of elements.
    public var count: Int { shape.elementCount }
    /// The elements' index range in the flat buffer.
    public var range: Range<Int> { offset..<(offset + count) }

    /// Describes one parameter tensor at `offset`.
    public init(name: String, shape: [Int], offset: Int) {
        self.name = name
        self.shape = shape
        self.offset = offset
    }
}

/// The ordered list of a network's parameter tensors and where each lives in one flat buffer.
///
/// Keeping every parameter in a single contiguous array makes the things GTL does to all of
/// them — optimiser updates with per-parameter multipliers, displacement statistics, snapshots on
/// the wire — single vectorised loops or single memcpys, independent of the architecture.
public struct ParameterLayout: Sendable, Equatable, Codable {
    /// The tensors in buffer order.
    public let specs: [ParameterSpec]
    /// Total number of scalar parameters.
    public let totalCount: Int

    /// Lays out tensors of the given names and shapes back to back, in order.
    public init(_ entries: [(name: String, shape: [Int])]) {
        var specs: [ParameterSpec] = []
        var offset = 0
        for entry in entries {
            specs.append(ParameterSpec(name: entry.name, shape: entry.shape, offset: offset))
            offset += entry.shape.elementCount
        }
        self.specs = specs
        self.totalCount = offset
    }

    /// The spec for `name`, if the network has such a parameter.
    public func spec(named name: String) -> ParameterSpec? {
        specs.first { $0.name == name }
    }

    /// Splits a flat buffer into named tensors (copies), e.g. to export guide values.
    public func tensors(from flat: [Float]) -> [(name: String, tensor: Tensor)] {
        precondition(flat.count == totalCount, "flat buffer has \(flat.count) values, layout needs \(totalCount)")
        return specs.map { ($0.name, Tensor(shape: $0.shape, storage: Array(flat[$0.range]))) }
    }

    /// Assembles a flat buffer from named tensors, checking that every parameter is present with
    /// the right shape; `source` names the origin (a file) in errors.
    public func flatten(_ tensors: [String: Tensor], source: String) throws -> [Float] {
        var flat = [Float](repeating: 0, count: totalCount)
        for spec in specs {
            guard let t = tensors[spec.name] else {
                throw EngineError("\(source): missing tensor '\(spec.name)' (expected shape \(spec.shape))")
            }
            guard t.shape == spec.shape else {
                throw EngineError("\(source): tensor '\(spec.name)' has shape \(t.shape), expected \(spec.shape)")
            }
            flat.replaceSubrange(spec.range, with: t.storage)
        }
        let extra = Set(tensors.keys).subtracting(specs.map(\.name))
        if !extra.isEmpty {
            throw EngineError("\(source): unexpected tensors \(extra.sorted()) for this network")
        }
        return flat
    }
}

/// An error of the engine with a message that names the thing and the problem.
public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, including the file or tensor concerned.
    public let description: String
    /// Wraps a message.
    public init(_ description: String) { self.description = description }
}

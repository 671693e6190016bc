import Foundation

/// The safetensors format (the PyTorch ecosystem's): an 8-byte little-endian header length, a
/// JSON header mapping tensor names to dtype, shape and byte offsets (plus optional string
/// `__metadata__`), then the raw little-endian data. `gtl` writes and reads F32 tensors, so a
/// PyTorch user can `safetensors.torch.load_file` our models and guide values directly.
public enum Safetensors {
    /// The largest header `read` accepts; real headers are kilobytes.
    public static let maxHeaderBytes = 100 << 20

    /// Encodes tensors, in the given order, with string metadata.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            guard header[name] == nil, name != "__metadata__" else { throw EngineError("duplicate or reserved tensor name '\(name)'") }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + json.count) % 8 != 0 { json.append(0x20) }   // pad so the data start is aligned
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for (_, t) in tensors { t.storage.withUnsafeBytes { out.append(contentsOf: $0) } }   // x86/ARM are little-endian
        return out
    }

    /// Writes tensors atomically to `url`.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }

    /// A decoded file: tensors by name, their order in the file, and the metadata.
    public struct File: Sendable {
        /// The tensors by name.
        public var tensors: [String: Tensor]
        /// Tensor names in data order.
        public var order: [String]
        /// The `__metadata__` strings.
        public var metadata: [String: String]
    }

    /// Reads and validates a file; every problem is an `EngineError` naming the file.
    public static func read(_ url: URL) throws -> File {
        try decode(try AtomicFile.read(url), source: url.path)
    }

    /// Decodes and validates bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> File {
        func fail(_ problem: String) -> EngineError { EngineError("\(source): not a valid safetensors file: \(problem)") }
        guard bytes.count >= 8 else { throw fail("only \(bytes.count) bytes, shorter than the 8-byte header length") }
        let n = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maxHeaderBytes) else { throw fail("header length \(n) is implausible") }
        guard 8 + Int(n) <= bytes.count else { throw fail("header length \(n) exceeds the file size \(bytes.count) (truncated?)") }
        let headerBytes = Data(bytes[8..<(8 + Int(n))])
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + Int(n), dataCount = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let e = value as? [String: Any], let dtype = e["dtype"] as? String,
                  let shapeAny = e["shape"] as? [Any], let offsAny = e["data_offsets"] as? [Any] else {
                throw fail("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw fail("tensor '\(name)' has dtype \(dtype); gtl reads F32 only") }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offs = offsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has a bad shape") }
            guard offs.count == 2, offs[0] >= 0, offs[0] <= offs[1] else { throw fail("tensor '\(name)' has bad data_offsets") }
            guard offs[1] <= dataCount else {
                throw fail("tensor '\(name)' ends at byte \(offs[1]) of a \(dataCount)-byte data section (truncated?)")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow)
            }
            guard !overflow, offs[1] - offs[0] == 4 * count else {
                throw fail("tensor '\(name)' shape \(shape) does not match its \(offs[1] - offs[0]) bytes")
            }
            entries.append((name, shape, offs[0], offs[1]))
        }
        entries.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for e in entries {
                var values = [Float](repeating: 0, count: (e.end - e.begin) / 4)
                values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])) }
                tensors[e.name] = Tensor(shape: e.shape, storage: values)
            }
        }
        return File(tensors: tensors, order: entries.map(\.name), metadata: metadata)
    }
}

extension Network {
    /// Metadata key holding the architecture's text form, so `load` can rebuild the network.
    public static let specMetadataKey = "gtl.architecture"

    /// Saves the parameters as safetensors with the architecture in the metadata (atomic write).
    public func save(to url: URL, spec: NetworkSpec, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta[Network.specMetadataKey] = spec.description
        try Safetensors.write(namedParameters, metadata: meta, to: url)
    }

    /// Loads a network saved by `save`: rebuilds it from the recorded architecture, then checks
    /// that every tensor is present with the expected shape.
    public static func load(from url: URL) throws -> (network: Network, spec: NetworkSpec, metadata: [String: String]) {
        let file = try Safetensors.read(url)
        guard let text = file.metadata[specMetadataKey] else {
            throw EngineError("\(url.path): no '\(specMetadataKey)' in the metadata; not a gtl model file")
        }
        let spec = try NetworkSpec.parse(text)
        var network = try spec.makeNetwork(seed: 0)
        try network.setParameters(try network.layout.flatten(file.tensors, source: url.path))
        return (network, spec, file.metadata)
    }
}

import Foundation

/// The CURVE public keys of the workers a coordinator accepts; the ZAP handler's whole policy.
/// A value type so it can be loaded once and handed to the authenticator thread.
public struct CurveAllowList: Sendable, Equatable {
    /// Allowed public keys as raw 32-byte values (comparison on bytes, not text).
    public private(set) var rawKeys: Set<[UInt8]>

    /// Builds a list from Z85 keys, rejecting any malformed one.
    public init(z85Keys: some Sequence<String>) throws {
        rawKeys = []
        for key in z85Keys {
            guard let raw = Z85Key.decode(key) else {
                throw ClusterError("allow-list: \(quoted(key)) is not a 40-character Z85 CURVE public key")
            }
            rawKeys.insert(raw)
        }
    }

    /// Number of distinct keys.
    public var count: Int { rawKeys.count }

    /// Whether a 32-byte public key (as libzmq passes it to ZAP) is allowed.
    public func contains(rawKey: [UInt8]) -> Bool { rawKeys.contains(rawKey) }

    /// Whether a Z85 public key is allowed.
    public func contains(z85: String) -> Bool { Z85Key.decode(z85).map(contains(rawKey:)) ?? false }

    /// Loads an allow-list from a file, or from every `*.pub` file in a directory (so a
    /// directory of worker key files works as-is, and `*.key` secrets beside them are never
    /// read). Files hold one Z85 key per line; blank lines and lines starting with `#` are
    /// ignored, and a key may be followed by whitespace and a `# comment`. A malformed line is an
    /// error naming file and line; an empty result is an error too, since it would lock every
    /// worker out.
    public static func load(from path: String) throws -> CurveAllowList {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ClusterError("allow-list \(path) does not exist")
        }
        var keys: [String] = []
        if isDir.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.hasSuffix(".pub") }.sorted()
            for name in names {
                let file = (path as NSString).appendingPathComponent(name)
                keys += try parseKeyLines(try readKeyFileText(file), source: file)
            }
        } else {
            keys = try parseKeyLines(try readKeyFileText(path), source: path)
        }
        guard !keys.isEmpty else { throw ClusterError("allow-list \(path) contains no public keys; every worker would be refused") }
        return try CurveAllowList(z85Keys: keys)
    }
}

/// Parses key-file text: one Z85 key per line, `#` comments and blank lines ignored.
/// Throws naming `source` and the 1-based line of the first malformed line.
func parseKeyLines(_ text: String, source: String) throws -> [String] {
    var keys: [String] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard let first = tokens.first, !first.hasPrefix("#") else { continue }
        guard Z85Key.isValid(String(first)), tokens.count == 1 || tokens[1].hasPrefix("#") else {
            throw ClusterError("\(source) line \(i + 1): \(quoted(String(line))) is not a 40-character Z85 CURVE key (optionally followed by a # comment)")
        }
        keys.append(String(first))
    }
    return keys
}

/// Quotes text for an error message, cut short so a binary file does not flood the log.
func quoted(_ s: String) -> String {
    let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
    return t.count > 60 ? "\"\(t.prefix(60))...\"" : "\"\(t)\""
}

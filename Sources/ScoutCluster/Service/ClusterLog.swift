import Foundation

/// Log lines on standard error: readable text by default, one JSON object per line
/// (`--log-format json`) for batch systems that collect structured logs.
public struct ClusterLog: Sendable {
    /// Output format.
    public enum Format: String, Sendable, CaseIterable { case text, json }
    /// The format in use.
    public let format: Format
    /// Who is logging (`coordinator`, `worker w3`).
    public let source: String

    /// A log for `source` in `format`.
    public init(format: Format, source: String) {
        self.format = format
        self.source = source
    }

    /// Writes one event with a human message and optional structured fields.
    public func event(_ kind: String, _ message: String, _ fields: [String: String] = [:]) {
        let line: String
        switch format {
        case .text:
            line = "[\(source)] \(message)"
        case .json:
            var object: [String: String] = fields
            // Milliseconds: log collectors order and time events by this field.
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            object["time"] = formatter.string(from: Date())
            object["source"] = source
            object["event"] = kind
            object["message"] = message
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

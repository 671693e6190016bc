import Foundation
import GTLEngine

/// `DIR/control.json`: how a running (or a later resumed) coordinator is asked for more scouts.
///
/// A file in the output folder works the same on one machine, on a shared file system under
/// Slurm, and in a pod (`kubectl exec ... gtl extend`); it survives a restart, so `--resume`
/// also honours it.
public struct ControlFile: Sendable, Equatable, Codable {
    /// The file name inside the output folder.
    public static let name = "control.json"
    /// The scout count the job should reach.
    public var scouts: Int

    /// A request for `scouts` scouts in all.
    public init(scouts: Int) { self.scouts = scouts }

    /// Writes the request atomically.
    public func write(in directory: URL) throws {
        try AtomicFile.write([UInt8](try JSONEncoder().encode(self)), to: directory.appendingPathComponent(ControlFile.name))
    }

    /// The request in `directory`, if there is a readable one.
    public static func read(in directory: URL) -> ControlFile? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { return nil }
        return try? JSONDecoder().decode(ControlFile.self, from: data)
    }

    /// Identifies the file's current version (modification time and size), to notice changes.
    static func stamp(in directory: URL) -> String? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path) else { return nil }
        return "\(a[.modificationDate] ?? "")|\(a[.size] ?? "")"
    }
}

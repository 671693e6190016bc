import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see either the old content or the new, never a torn file:
/// the bytes go to a temporary file beside the target, are fsync'd, then renamed over it, and
/// the directory is fsync'd so the rename itself survives a crash.
public enum AtomicFile {
    /// Replaces `url`'s content with `bytes`; the error names the file and the failing call.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EngineError("\(path): cannot create temporary file: \(errnoText())") }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errnoText(); close(fd)
                    throw EngineError("\(path): write failed: \(e)")
                }
                done += n
            }
        }
        guard fsync(fd) == 0 else { let e = errnoText(); close(fd); throw EngineError("\(path): fsync failed: \(e)") }
        close(fd)
        guard rename(tmp, path) == 0 else { throw EngineError("\(path): rename failed: \(errnoText())") }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads a whole file; the error names the file.
    public static func read(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EngineError("\(url.path): cannot read (missing or not readable)")
        }
        return [UInt8](data)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

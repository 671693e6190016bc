import Foundation
import GTLEngine
#if canImport(Glibc)
import Glibc
#endif

/// The coordinator's journal on disk: an append-only file of checksummed records (see
/// `Journal`), fsync'd in groups so that no acknowledged scout is ever lost.
///
/// A torn or corrupt tail found on opening is reported and cut off (the valid prefix is kept),
/// never silently used.
public final class JournalFile {
    /// Where the journal lives.
    public let path: String
    private var fd: Int32
    private var dirty = false

    /// Opens (creating if needed) the journal and positions at its end.
    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ClusterError("\(path): cannot open the journal: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The whole current content.
    public func readAll() throws -> [UInt8] {
        try AtomicFile.read(URL(fileURLWithPath: path))
    }

    /// Cuts the file to `length` bytes (dropping a torn tail) and syncs.
    public func truncate(to length: Int) throws {
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw ClusterError("\(path): cannot truncate the journal to \(length) bytes: \(String(cString: strerror(errno)))")
        }
    }

    /// Appends a framed record (not yet durable: call `sync`).
    public func append(_ record: [UInt8]) throws {
        try record.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ClusterError("\(path): journal write failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
        dirty = true
    }

    /// Makes every appended record durable (one fsync for a group of records).
    public func sync() throws {
        guard dirty else { return }
        guard fsync(fd) == 0 else { throw ClusterError("\(path): journal fsync failed: \(String(cString: strerror(errno)))") }
        dirty = false
    }
}

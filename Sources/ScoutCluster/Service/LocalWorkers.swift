import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Worker processes started on this host (what `gtl run --workers W` uses): real processes of
/// this same executable running `gtl worker`, so the local path exercises the whole cluster.
public final class LocalWorkers {
    private var processes: [Process] = []
    /// Where the workers' logs go.
    public let logURL: URL

    /// Starts `count` workers connecting to `endpoint`, their output appended to `logURL`.
    public init(count: Int, endpoint: String, logURL: URL, extraArguments: [String] = []) throws {
        self.logURL = logURL
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        for i in 0..<count {
            let p = Process()
            p.executableURL = exe
            p.arguments = ["worker", "--connect", endpoint, "--name", "local\(i)"] + extraArguments
            p.standardOutput = log
            p.standardError = log
            p.standardInput = FileHandle.nullDevice
            do { try p.run() } catch { throw ClusterError("cannot start worker process \(exe.path): \(error)") }
            processes.append(p)
        }
    }

    /// Process ids of the workers (tests kill them to prove nothing is lost).
    public var pids: [Int32] { processes.map(\.processIdentifier) }

    /// Asks every worker to stop (SIGTERM), then kills what is left after `grace` seconds.
    public func terminate(grace: Double = 2) {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in processes { p.waitUntilExit() }
    }

    deinit { terminate(grace: 0.5) }
}

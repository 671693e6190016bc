import Foundation
import XCTest
import GTL
import GTLEngine
import ScoutCluster

/// Helpers for tests that run the real `gtl` binary as separate processes.
enum Gtl {
    /// The `gtl` executable built next to the test bundle (`swift build` builds it; scripts/test.sh does).
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gtl")
    }

    /// A fresh temporary folder.
    static func tempDir(_ name: String) -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gtl-it-\(name)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// Starts `gtl ARGS` with output to `log`.
    static func start(_ args: [String], log: URL) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ClusterError("the gtl binary is not built at \(executable.path); run `swift build` first (scripts/test.sh does)")
        }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits for `p` to exit within `seconds`; kills it and fails otherwise.
    @discardableResult
    static func wait(_ p: Process, seconds: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTFail("\(what) did not finish within \(seconds) s", file: file, line: line)
            return -1
        }
        return p.terminationStatus
    }

    /// Waits until `condition` holds (polling), up to `seconds`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    /// Records in the journal of `out` (0 while it does not exist).
    static func journalRecords(_ out: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: out.appendingPathComponent("journal.gtlj").path) else { return 0 }
        return Journal.scan([UInt8](data)).records.count
    }

    /// Stops whatever is still running.
    static func stopAll(_ ps: [Process]) {
        for p in ps where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in ps { p.waitUntilExit() }
    }
}

/// A small job whose scouts take long enough (in a debug build) to kill processes mid-run.
func clusterJob(scouts: Int = 16, scoutSteps: Int = 300) -> JobConfig {
    var job = JobConfig()
    job.layers = "flatten dense(16) relu dense(5)"
    job.pretrain.steps = 40
    job.scouts = scouts
    job.scout.steps = scoutSteps
    job.samplesPerClass = 20
    return job
}

/// Writes `job` to a file for `--job`.
/// `job` with the cheapest evaluation that still reports every arm: one shot setting, one
/// learning rate, one step count, `testEpisodes` test and half as many validation episodes.
func withMinimalEvaluation(_ job: JobConfig, testEpisodes: Int) -> JobConfig {
    var job = job
    job.evaluation.testEpisodes = testEpisodes
    job.evaluation.validationEpisodes = max(1, testEpisodes / 2)
    job.evaluation.shots = [1]
    job.evaluation.learningRates = [0.1]
    job.evaluation.stepCounts = [5]
    return job
}

func writeJob(_ job: JobConfig, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent("job.json")
    try AtomicFile.write(try job.encoded(), to: url)
    return url.path
}

/// The guide values the job gives when every scout runs in this process: the reference that
/// every cluster run must reproduce bit for bit.
func inProcessGuide(_ job: JobConfig) throws -> [Float] {
    let p = try Pipeline(job: job)
    let (base, _) = try p.pretrain()
    var reducer = try p.makeReducer()
    try p.runScouts(Array(0..<job.scouts), base: base, into: &reducer)
    return try reducer.guide(job.guide)
}

/// Guide values in `out`/guide.safetensors, in layout order of `job`'s network.
func guideFile(_ out: URL, job: JobConfig) throws -> [Float] {
    let p = try Pipeline(job: job)
    return try loadGuide(out.appendingPathComponent("guide.safetensors"), for: try p.spec.makeNetwork(seed: 0))
}

/// A test case that starts `gtl` processes and kills whatever is left when it ends.
class ProcessTestCase: XCTestCase {
    private var processes: [Process] = []
    override func tearDown() { Gtl.stopAll(processes); processes = [] }

    /// Starts `gtl ARGS`, logging to `log`, and remembers it for clean-up.
    func start(_ args: [String], log: URL) throws -> Process {
        let p = try Gtl.start(args, log: log)
        processes.append(p)
        return p
    }

    /// A loopback TCP endpoint on a random high port.
    func freeEndpoint() -> String { "tcp://127.0.0.1:\(Int.random(in: 20_000...60_000))" }
}

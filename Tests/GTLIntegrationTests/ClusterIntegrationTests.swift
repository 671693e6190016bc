import Foundation
import XCTest
import GTL
import GTLEngine
import ScoutCluster
import ScoutWire

/// The cluster with real processes: coordinators and workers are separate `gtl` processes on
/// loopback, killed and restarted for real. Slow (seconds each); kept in their own target.
final class ClusterIntegrationTests: ProcessTestCase {


    func testAnyNumberOfWorkersGivesTheInProcessGuideBitForBit() throws {
        let dir = Gtl.tempDir("workers"), job = clusterJob(scouts: 12, scoutSteps: 50)
        let jobFile = try writeJob(job, in: dir)
        let reference = try inProcessGuide(job)
        for workers in [1, 3] {
            let out = dir.appendingPathComponent("out\(workers)"), ep = freeEndpoint()
            let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "200"],
                              log: dir.appendingPathComponent("c\(workers).log"))
            let ws = try (0..<workers).map { try start(["worker", "--connect", ep, "--heartbeat-ms", "200"], log: dir.appendingPathComponent("w\(workers)-\($0).log")) }
            XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
            for w in ws { XCTAssertEqual(Gtl.wait(w, seconds: 10, "worker"), 0, "workers exit 0 when the job is over") }
            XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), reference.map(\.bitPattern), "\(workers) workers")
        }
        // The files themselves, byte for byte: the coordinator's, `gtl run` in process and with one worker.
        let quick = withMinimalEvaluation(job, testEpisodes: 2)
        let quickDir = dir.appendingPathComponent("quick")
        try FileManager.default.createDirectory(at: quickDir, withIntermediateDirectories: true)
        let quickFile = try writeJob(quick, in: quickDir)
        for workers in [0, 1] {
            let out = dir.appendingPathComponent("run\(workers)")
            let run = try start(["run", "--job", quickFile, "--workers", String(workers), "--out", out.path], log: dir.appendingPathComponent("run\(workers).log"))
            XCTAssertEqual(Gtl.wait(run, seconds: 120, "gtl run --workers \(workers)"), 0)
            for file in ["guide.safetensors", "base.safetensors", "scout-means.safetensors"] {
                XCTAssertEqual(FileManager.default.contents(atPath: out.appendingPathComponent(file).path),
                               FileManager.default.contents(atPath: dir.appendingPathComponent("out1").appendingPathComponent(file).path),
                               "gtl run --workers \(workers): \(file) is the coordinator's, byte for byte")
            }
        }
    }

    func testKillingAWorkerMidTaskLosesNothing() throws {
        let dir = Gtl.tempDir("killworker"), job = clusterJob()
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "100"],
                          log: dir.appendingPathComponent("c.log"))
        let victim = try start(["worker", "--connect", ep, "--heartbeat-ms", "100"], log: dir.appendingPathComponent("victim.log"))
        let survivor = try start(["worker", "--connect", ep, "--heartbeat-ms", "100"], log: dir.appendingPathComponent("survivor.log"))
        XCTAssertTrue(Gtl.eventually(60) { Gtl.journalRecords(out) >= 2 }, "scouts are being recorded")
        kill(victim.processIdentifier, SIGKILL)
        XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
        XCTAssertEqual(Gtl.wait(survivor, seconds: 10, "survivor"), 0)
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try inProcessGuide(job).map(\.bitPattern))
        let log = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("c.log").path)!, as: UTF8.self)
        XCTAssertTrue(log.contains("is dead") || log.contains("requeued"), "the coordinator noticed the dead worker:\n\(log)")
    }

    func testKilledCoordinatorResumesFromItsJournalWithoutRedoingScouts() throws {
        let dir = Gtl.tempDir("resume"), job = clusterJob()
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let args = ["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "100"]
        let first = try start(args, log: dir.appendingPathComponent("c1.log"))
        let worker = try start(["worker", "--connect", ep, "--heartbeat-ms", "100"], log: dir.appendingPathComponent("w.log"))
        XCTAssertTrue(Gtl.eventually(60) { Gtl.journalRecords(out) >= 3 })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let journalled = Gtl.journalRecords(out)
        XCTAssertLessThan(journalled, job.scouts, "killed mid-run")

        // A second, interrupted run: SIGTERM checkpoints and exits 3.
        let second = try start(args + ["--resume"], log: dir.appendingPathComponent("c2.log"))
        XCTAssertTrue(Gtl.eventually(30) { Gtl.journalRecords(out) > journalled })
        kill(second.processIdentifier, SIGTERM)
        XCTAssertEqual(Gtl.wait(second, seconds: 20, "interrupted coordinator"), 3)

        // A crash mid-append leaves a torn tail: cut the last record short. The next run reports
        // it, keeps the valid prefix and redoes only that scout.
        let journalURL = out.appendingPathComponent("journal.gtlj")
        let whole = try Data(contentsOf: journalURL)
        let beforeTear = Journal.scan([UInt8](whole)).records.count
        try whole.prefix(whole.count - 7).write(to: journalURL)
        XCTAssertEqual(Journal.scan([UInt8](try Data(contentsOf: journalURL))).records.count, beforeTear - 1)

        let third = try start(args + ["--resume"], log: dir.appendingPathComponent("c3.log"))
        XCTAssertEqual(Gtl.wait(third, seconds: 120, "resumed coordinator"), 0)
        XCTAssertEqual(Gtl.wait(worker, seconds: 10, "worker"), 0, "the worker reconnected to each new coordinator")
        let scan = Journal.scan([UInt8](FileManager.default.contents(atPath: out.appendingPathComponent("journal.gtlj").path)!))
        XCTAssertNil(scan.problem)
        XCTAssertEqual(scan.records.count, job.scouts, "every scout journalled exactly once")
        XCTAssertEqual(scan.duplicatesSkipped, 0, "no journalled scout was redone")
        let log3 = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("c3.log").path)!, as: UTF8.self)
        XCTAssertTrue(log3.contains("resuming:"), log3)
        XCTAssertTrue(log3.contains("kept \(beforeTear - 1) records"), log3)
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try inProcessGuide(job).map(\.bitPattern))
    }

    func testCurveAdmitsOnlyAllowedWorkers() throws {
        let dir = Gtl.tempDir("curve"), job = clusterJob(scouts: 4, scoutSteps: 20)
        let jobFile = try writeJob(job, in: dir)
        let keys = dir.appendingPathComponent("keys"), allowed = dir.appendingPathComponent("allowed")
        for name in ["coordinator", "good", "stranger"] {
            XCTAssertEqual(Gtl.wait(try start(["keys", "generate", "--out", keys.path, "--name", name], log: dir.appendingPathComponent("k-\(name).log")), seconds: 20, "keys"), 0)
        }
        try FileManager.default.createDirectory(at: allowed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: keys.appendingPathComponent("good.pub"), to: allowed.appendingPathComponent("good.pub"))
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "200",
                           "--curve-secret", keys.appendingPathComponent("coordinator.key").path, "--allow", allowed.path, "--log-format", "json"],
                          log: dir.appendingPathComponent("c.log"))
        let serverKey = keys.appendingPathComponent("coordinator.pub").path
        let stranger = try start(["worker", "--connect", ep, "--name", "stranger", "--curve-secret", keys.appendingPathComponent("stranger.key").path,
                                  "--server-key", serverKey], log: dir.appendingPathComponent("stranger.log"))
        let plain = try start(["worker", "--connect", ep, "--name", "plain"], log: dir.appendingPathComponent("plain.log"))
        Thread.sleep(forTimeInterval: 2)
        XCTAssertTrue(c.isRunning)
        XCTAssertEqual(Gtl.journalRecords(out), 0, "no scout was handed to an unknown or plaintext worker")
        let good = try start(["worker", "--connect", ep, "--name", "good", "--curve-secret", keys.appendingPathComponent("good.key").path,
                              "--server-key", serverKey], log: dir.appendingPathComponent("good.log"))
        XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
        XCTAssertEqual(Gtl.wait(good, seconds: 10, "allowed worker"), 0)
        XCTAssertTrue(stranger.isRunning && plain.isRunning, "rejected workers never heard that the job is over")
        let log = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("c.log").path)!, as: UTF8.self)
        XCTAssertTrue(log.contains("\"worker\":\"good-"), log)
        XCTAssertFalse(log.contains("\"worker\":\"stranger-"), log)
        XCTAssertFalse(log.contains("\"worker\":\"plain-"), log)
        // The last JSON progress event: every scout, the rate of this run, nothing left to wait for.
        let progress = log.split(separator: "\n").compactMap { line -> [String: String]? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }.filter { $0["event"] == "progress" }
        let last = try XCTUnwrap(progress.last, log)
        XCTAssertEqual(last["recorded"], "4")
        XCTAssertEqual(last["total"], "4")
        XCTAssertGreaterThan(Double(last["rate_per_s"] ?? "") ?? 0, 0, "\(last)")
        XCTAssertEqual(last["eta_s"], "0")
        // A secret key readable by others is refused.
        let leaky = keys.appendingPathComponent("good.key")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: leaky.path)
        let refused = try start(["worker", "--connect", ep, "--curve-secret", leaky.path, "--server-key", serverKey], log: dir.appendingPathComponent("leaky.log"))
        XCTAssertEqual(Gtl.wait(refused, seconds: 20, "worker with a leaky key"), 1)
    }

    func testAWorkerWithoutCoordinatorGivesUpInsteadOfRetryingForever() throws {
        let dir = Gtl.tempDir("giveup")
        let w = try start(["worker", "--connect", freeEndpoint(), "--heartbeat-ms", "100", "--give-up-after", "1"], log: dir.appendingPathComponent("w.log"))
        XCTAssertEqual(Gtl.wait(w, seconds: 20, "abandoned worker"), 1)
        let log = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("w.log").path)!, as: UTF8.self)
        XCTAssertTrue(log.contains("giving up"), log)
    }

    func testAWorkerThatConnectsDuringPreTrainingWaitsInTheLobbyWithoutReconnecting() throws {
        let dir = Gtl.tempDir("lobby")
        var job = clusterJob(scouts: 4, scoutSteps: 20)
        job.layers = "flatten dense(64) relu dense(5)"
        job.pretrain.steps = 8000   // about 2 s in a debug build: twenty heartbeat intervals of 100 ms
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let cLog = dir.appendingPathComponent("c.log"), wLog = dir.appendingPathComponent("w.log")
        func text(_ url: URL) -> String { String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self) }
        let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "100"], log: cLog)
        XCTAssertTrue(Gtl.eventually(60) { text(cLog).contains("listening on") })
        XCTAssertFalse(text(cLog).contains("handing out tasks"), "the coordinator should still be pre-training")
        let w = try start(["worker", "--connect", ep, "--heartbeat-ms", "100"], log: wLog)
        XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
        XCTAssertEqual(Gtl.wait(w, seconds: 10, "worker"), 0)
        XCTAssertTrue(text(cLog).contains("handing out tasks (1 worker already connected)"), text(cLog))
        XCTAssertFalse(text(wLog).contains("reconnect"), "the lobby's heartbeats keep the worker from giving the coordinator up:\n\(text(wLog))")
        XCTAssertTrue(text(wLog).contains("loaded and checked before the first task"), "the lobby announces the job:\n\(text(wLog))")
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try inProcessGuide(job).map(\.bitPattern))
    }

    func testASignalDuringPreTrainingStopsTheCoordinatorAtOnce() throws {
        let dir = Gtl.tempDir("lobby-stop")
        var job = clusterJob(scouts: 4, scoutSteps: 20)
        job.layers = "flatten dense(64) relu dense(5)"
        job.pretrain.steps = 200_000   // a minute or more: the signal must not wait for it
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), log = dir.appendingPathComponent("c.log")
        func text() -> String { String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self) }
        let c = try start(["coordinator", "--bind", freeEndpoint(), "--out", out.path, "--job", jobFile], log: log)
        XCTAssertTrue(Gtl.eventually(60) { text().contains("pre-training on classes") })
        kill(c.processIdentifier, SIGTERM)
        XCTAssertEqual(Gtl.wait(c, seconds: 10, "coordinator stopped while pre-training"), 3)
        XCTAssertTrue(text().contains("before the job started: nothing journalled"), text())
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("journal.gtlj").path))
    }

    func testASignalledWorkerStopsItsScoutAndExitsCleanly() throws {
        // A scout far longer than the test: the worker is mid-scout, inside OpenBLAS, when the
        // signal comes. It must stop the scout and exit 3, not leave the thread running while
        // the process exits (which crashed or hung the exit).
        let dir = Gtl.tempDir("worker-stop")
        var job = clusterJob(scouts: 2, scoutSteps: 10_000_000)
        job.layers = "flatten dense(64) relu dense(5)"
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let cLog = dir.appendingPathComponent("c.log")
        func text(_ url: URL) -> String { String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self) }
        _ = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile], log: cLog)
        for round in 0..<3 {
            let wLog = dir.appendingPathComponent("w\(round).log")
            let w = try start(["worker", "--connect", ep], log: wLog)
            XCTAssertTrue(Gtl.eventually(60) { text(cLog).components(separatedBy: " joined").count > round + 1 }, text(cLog))
            Thread.sleep(forTimeInterval: 0.3)   // into the scout
            kill(w.processIdentifier, SIGTERM)
            XCTAssertEqual(Gtl.wait(w, seconds: 10, "signalled worker"), 3, text(wLog))
            XCTAssertTrue(text(wLog).contains("stopping on signal"), text(wLog))
        }
    }

    func testGarbageFramesAreDroppedAndEveryoneElseIsServed() throws {
        let dir = Gtl.tempDir("garbage"), job = clusterJob(scouts: 6, scoutSteps: 20)
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "200"],
                          log: dir.appendingPathComponent("c.log"))
        XCTAssertTrue(Gtl.eventually(60) { FileManager.default.fileExists(atPath: out.appendingPathComponent("journal.gtlj").path) })
        Thread.sleep(forTimeInterval: 0.3)
        let context = try ZmqContext()
        let rogue = try ZmqSocket(context: context, kind: .dealer)
        try rogue.connect(ep)
        let valid = WireMessage.heartbeat(Heartbeat(incarnation: 1, sequence: 1)).encoded()
        let frames: [[UInt8]] = [[0xFF, 0x00, 0x13, 0x37], Array(valid.dropLast(2)), [], [UInt8](repeating: 0xAB, count: 100_000),
                                 WireMessage.task(TaskAssignment(jobID: "x", taskID: 0, attempt: 1, snapshotHash: [UInt8](repeating: 0, count: 32),
                                                                           snapshotSize: 1, jobSpec: [])).encoded()]
        for f in frames { _ = try rogue.send(f) }
        _ = try rogue.send(frames: [[1, 2], [3, 4], [5]])
        let w = try start(["worker", "--connect", ep, "--heartbeat-ms", "200"], log: dir.appendingPathComponent("w.log"))
        XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
        XCTAssertEqual(Gtl.wait(w, seconds: 10, "worker"), 0)
        rogue.close()
        context.shutdown()
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try inProcessGuide(job).map(\.bitPattern))
    }
}

/// Scaling the scout count: `gtl extend` while a job runs, and `--scouts auto`.
final class ScoutCountIntegrationTests: ProcessTestCase {

    func testExtendingARunningJobAddsScouts() throws {
        let dir = Gtl.tempDir("extend"), job = clusterJob(scouts: 6, scoutSteps: 200)
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let log = dir.appendingPathComponent("c.log")
        let c = try start(["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "200"], log: log)
        func coordinatorLog() -> String { String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self) }
        // Extend while the coordinator runs (handing out tasks, before any worker: no race with the job's end).
        XCTAssertTrue(Gtl.eventually(60) { coordinatorLog().contains("handing out tasks") })
        let e = try start(["extend", "--out", out.path, "--scouts", "9"], log: dir.appendingPathComponent("e.log"))
        XCTAssertEqual(Gtl.wait(e, seconds: 20, "gtl extend"), 0)
        XCTAssertTrue(Gtl.eventually(20) { coordinatorLog().contains("extending the job from 6 to 9 scouts") }, coordinatorLog())
        let w = try start(["worker", "--connect", ep, "--heartbeat-ms", "200"], log: dir.appendingPathComponent("w.log"))
        XCTAssertEqual(Gtl.wait(c, seconds: 120, "coordinator"), 0)
        XCTAssertEqual(Gtl.wait(w, seconds: 10, "worker"), 0)
        XCTAssertEqual(Gtl.journalRecords(out), 9)
        var nine = job
        nine.scouts = 9
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try inProcessGuide(nine).map(\.bitPattern))
        // Asking for fewer than there are changes nothing, and a folder without a journal is refused.
        let none = try start(["extend", "--out", dir.path, "--scouts", "12"], log: dir.appendingPathComponent("e2.log"))
        XCTAssertEqual(Gtl.wait(none, seconds: 20, "gtl extend without a journal"), 1)
    }

    func testAutomaticScoutCountMatchesInProcessAndSurvivesAKill() throws {
        let dir = Gtl.tempDir("auto")
        var job = clusterJob(scouts: 4, scoutSteps: 150)
        job.autoScouts = AutoScouts()
        job.autoScouts!.batch = 4
        job.autoScouts!.tolerance = 0.05
        job.autoScouts!.maxScouts = 20
        let jobFile = try writeJob(job, in: dir)
        let out = dir.appendingPathComponent("out"), ep = freeEndpoint()
        let args = ["coordinator", "--bind", ep, "--out", out.path, "--job", jobFile, "--heartbeat-ms", "100"]
        let first = try start(args, log: dir.appendingPathComponent("c1.log"))
        let ws = try (0..<2).map { try start(["worker", "--connect", ep, "--heartbeat-ms", "100"], log: dir.appendingPathComponent("w\($0).log")) }
        XCTAssertTrue(Gtl.eventually(60) { Gtl.journalRecords(out) >= 6 }, "past the first round")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try start(args + ["--resume"], log: dir.appendingPathComponent("c2.log"))
        XCTAssertEqual(Gtl.wait(second, seconds: 120, "resumed coordinator"), 0)
        for w in ws { XCTAssertEqual(Gtl.wait(w, seconds: 10, "worker"), 0) }

        let p = try Pipeline(job: job)
        let (base, _) = try p.pretrain()
        var reducer = try p.makeReducer()
        let report = try p.scoutAll(base: base, into: &reducer)!
        XCTAssertEqual(Gtl.journalRecords(out), report.scouts, "the cluster stopped after as many scouts as the in-process run")
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try reducer.guide(job.guide).map(\.bitPattern))
        let log = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("c2.log").path)!, as: UTF8.self)
        XCTAssertTrue(log.contains(report.converged ? "converged after \(report.scouts)" : "cap of \(report.scouts)"), log)
    }

    func testUnsupervisedJobOnWorkersMatchesInProcessAndReportsScoutLosses() throws {
        // Workers derive the k-means pseudo-labels themselves: they must agree with the coordinator.
        var job = clusterJob(scouts: 6, scoutSteps: 40)
        job.unsupervised = UnsupervisedObjective(clusters: 4)
        let (out, p, _, reducer) = try runOnTwoWorkersAndInProcess(job, name: "kmeans")
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), try reducer.guide(job.guide).map(\.bitPattern))
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        XCTAssertEqual(report.scoutLoss, reducer.scoutLosses, "per-scout losses travel over the wire in index order")
        XCTAssertEqual(report.pseudoLabels, p.pseudoLabels)
        XCTAssertEqual(report.results.first?.perEpisode.count, 4)
    }

    func testDenoisingJobOnWorkersMatchesInProcess() throws {
        // Workers receive the autoencoder as the snapshot; the guide maps onto the classifier.
        var job = clusterJob(scouts: 5, scoutSteps: 30)
        job.unsupervised = UnsupervisedObjective(method: .denoise, clusters: 4)
        let (out, p, ae, reducer) = try runOnTwoWorkersAndInProcess(job, name: "denoise")
        let expected = try p.guide(means: try reducer.means(), layout: reducer.layout)
        XCTAssertEqual(try guideFile(out, job: job).map(\.bitPattern), expected.map(\.bitPattern))
        let (base, spec, _) = try Network.load(from: out.appendingPathComponent("base.safetensors"))
        XCTAssertEqual(spec, p.spec)
        XCTAssertEqual(base.parameters, try p.downstreamBase(ae).parameters)
        let (saved, aeSpec, _) = try Network.load(from: out.appendingPathComponent("autoencoder.safetensors"))
        XCTAssertEqual(aeSpec, p.scoutSpec)
        XCTAssertEqual(saved.parameters, ae.parameters)
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        XCTAssertNil(report.baseTrainAccuracy)
        XCTAssertEqual(try XCTUnwrap(report.baseReconstructionError), try XCTUnwrap(p.pretrainReconstructionError(ae)), accuracy: 1e-12)
        XCTAssertEqual(report.scoutLoss, reducer.scoutLosses)
    }

    /// Runs `job` (with a minimal evaluation) as `gtl run --workers 2`, and its pre-training and
    /// scouts in this process: the output folder, the pipeline, the pre-trained scouted network and
    /// the in-process reducer, to compare with what the processes wrote.
    private func runOnTwoWorkersAndInProcess(_ job: JobConfig, name: String) throws -> (URL, Pipeline, Network, GuideReducer) {
        let job = withMinimalEvaluation(job, testEpisodes: 4)
        let dir = Gtl.tempDir(name), out = dir.appendingPathComponent("out")
        let jobFile = try writeJob(job, in: dir)
        let run = try start(["run", "--job", jobFile, "--workers", "2", "--threads", "1", "--out", out.path], log: dir.appendingPathComponent("run.log"))
        XCTAssertEqual(Gtl.wait(run, seconds: 120, "gtl run"), 0)
        let p = try Pipeline(job: job)
        let (scouted, _) = try p.pretrain()
        var reducer = try p.makeReducer()
        try p.runScouts(Array(0..<job.scouts), base: scouted, into: &reducer)
        return (out, p, scouted, reducer)
    }
}

/// The cluster benchmarks (BENCHMARKS.md's figures) still run end to end, on a tiny model.
final class BenchCommandIntegrationTests: ProcessTestCase {
    func testSnapshotAndDispatchBenchmarksRunAndReportTheirFigures() throws {
        let dir = Gtl.tempDir("bench")
        for (name, args, key) in [("snapshot", ["bench", "cluster", "snapshot", "--layers", "flatten dense(8) relu dense(5)", "--repeats", "1"], "\"protocol_over_raw\""),
                                  ("dispatch", ["bench", "cluster", "dispatch", "--workers", "2", "--tasks", "40"], "\"steady_tasks_per_s\"")] {
            let log = dir.appendingPathComponent("\(name).log")
            let p = try start(args, log: log)
            let text = { String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self) }
            XCTAssertEqual(Gtl.wait(p, seconds: 120, "gtl bench cluster \(name)"), 0, text())
            XCTAssertTrue(text().contains(key), text())
        }
    }
}

import Foundation
import GTL
import GTLEngine
import ScoutWire

/// What opening the journal found: the file, the scouts already done, the job's size now, and
/// (for `--scouts auto`) the rounds replayed.
struct JournalReplay {
    let journal: JournalFile
    let completed: Set<UInt64>
    let total: Int
    let monitor: ConvergenceMonitor?
    /// The replayed rounds already decided to stop (`--scouts auto`).
    let stoppedEarly: Bool
}

extension CoordinatorService {
    /// Opens the journal: a new one is bound to this job by its header; an existing one is checked
    /// against the header, its torn tail cut off, and its scouts folded into `reducer` in task
    /// order, so that automatic rounds see exactly what they saw when the job ran live.
    func openJournal(header: JournalHeader, into reducer: inout GuideReducer) throws -> JournalReplay {
        let job = pipeline.job
        let journal = try JournalFile(path: journalPath)
        var completed: Set<UInt64> = []
        var monitor = job.autoScouts.map(ConvergenceMonitor.init)
        var total = max(job.scouts, job.autoScouts == nil ? (ControlFile.read(in: settings.out)?.scouts ?? 0) : 0)
        var stoppedEarly = false
        let existing = try journal.readAll()
        if existing.isEmpty {
            try journal.append(Journal.headerRecord(header))
            try journal.sync()
            return JournalReplay(journal: journal, completed: [], total: total, monitor: monitor, stoppedEarly: false)
        }
        let scan = Journal.scan(existing, name: journalPath)
        guard let found = scan.header else {
            throw ClusterError(scan.problem ?? "\(journalPath): no journal header")
        }
        try found.check(against: header, name: journalPath)
        if let problem = scan.problem {
            settings.log.event("journal", "\(problem) (kept \(scan.records.count) records, \(scan.validLength) bytes)")
            try journal.truncate(to: scan.validLength)
        }
        let records = scan.records.sorted { $0.taskID < $1.taskID }
        var next = 0
        func feed(below bound: Int) throws {
            while next < records.count && records[next].taskID < UInt64(bound) {
                try reducer.add(try ResultConversion.fromWire(records[next].result))
                next += 1
            }
        }
        if var m = monitor {
            replay: while true {
                try feed(below: total)
                guard reducer.count == total else { break }
                switch m.observe(guide: try reducer.guide(job.guide), scouts: total) {
                case let .extend(by): total += by
                case .stop: stoppedEarly = true; break replay
                }
            }
            monitor = m
        }
        try feed(below: Int.max)
        completed = scan.completedTaskIDs
        total = max(total, Int((completed.max() ?? 0) + 1))
        settings.log.event("resume", "resuming: \(completed.count) of \(total) scouts already in the journal")
        return JournalReplay(journal: journal, completed: completed, total: total, monitor: monitor, stoppedEarly: stoppedEarly)
    }

    /// The coordinator's ROUTER socket: bounded frames, routing errors reported, and CURVE with a
    /// ZAP allow-list (refusals logged) when a secret key is configured.
    func makeRouter(context: ZmqContext) throws -> (ZmqSocket, ZapAuthenticator?) {
        var options = ZmqSocketOptions()
        options.lingerMs = 1000
        options.maxMessageSize = Int64(settings.maxMessageBytes)
        options.routerMandatory = true
        options.sendHighWaterMark = 0
        var authenticator: ZapAuthenticator? = nil
        if let keyFile = settings.curveSecretKeyFile {
            guard let allow = settings.allowList else {
                throw ClusterError("CURVE needs an allow-list of worker public keys (--allow FILE)")
            }
            let keys = try CurveKeyFiles.readKeyPair(secretKeyFile: keyFile)
            let log = settings.log
            let auth = try ZapAuthenticator(context: context, allowList: try CurveAllowList.load(from: allow)) { d in
                if !d.accepted {
                    log.event("auth", "refused a \(d.mechanism) client from \(d.address): \(d.reason)",
                              ["address": d.address, "key": d.clientPublicKey ?? ""])
                }
            }
            authenticator = auth
            options.security = .curveServer(keys: keys, authenticator: auth)
            options.zapDomain = "gtl"
        }
        do {
            return (try ZmqSocket(context: context, kind: .router, options: options), authenticator)
        } catch {
            authenticator?.stop()
            throw error
        }
    }
}

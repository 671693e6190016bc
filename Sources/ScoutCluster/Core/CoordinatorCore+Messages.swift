import ScoutWire

// How each frame from a peer is handled. Worker identity: see the rules on `CoordinatorCore`.

extension CoordinatorCore {
    mutating func onMessage(from peer: PeerID, _ message: WireMessage, now: Instant,
                            into out: inout [CoordinatorDirective]) {
        switch message {
        case let .hello(hello):
            onHello(from: peer, hello, now: now, into: &out)
        case let .heartbeat(beat):
            if workers[peer]?.incarnation == beat.incarnation {
                touch(peer, now: now, into: &out)
            } else if workers[peer] != nil {
                // Same routing id, new process: the old one is gone. The new one joins with its Hello.
                touch(peer, now: now, into: &out)
                let old = workers[peer]!
                declareDead(peer, reason: "\(old.label) was replaced by incarnation \(hex(beat.incarnation))", into: &out)
            } else if rebind(incarnation: beat.incarnation, to: peer, now: now, into: &out) {
                // A reconnect on a fresh socket: the record now lives at `peer`.
            } else {
                out.append(.log("dropped a heartbeat from unknown \(peer) (incarnation \(hex(beat.incarnation))); it must send a hello"))
            }
        case let .result(result):
            onResult(from: peer, result, now: now, into: &out)
        case let .error(report):
            touch(peer, now: now, into: &out)
            onErrorReport(from: peer, report, into: &out)
        case let .snapshotRequest(request):
            guard workers[peer] != nil else {
                out.append(.log("dropped a snapshot request from unknown \(peer); it must send a hello"))
                return
            }
            touch(peer, now: now, into: &out)
            serveSnapshot(to: peer, request, into: &out)
        case .task, .snapshotChunk, .jobOver, .jobAnnounce:
            touch(peer, now: now, into: &out)
            out.append(.log("dropped a \(message.kindName) frame from \(peer): only the coordinator sends those"))
        }
    }

    mutating func onHello(from peer: PeerID, _ hello: Hello, now: Instant, into out: inout [CoordinatorDirective]) {
        if let known = workers[peer], known.incarnation != hello.incarnation {
            declareDead(peer, reason: "\(known.label) restarted as incarnation \(hex(hello.incarnation))", into: &out)
        }
        if workers[peer] == nil, !rebind(incarnation: hello.incarnation, to: peer, now: now, into: &out) {
            let rejoin = deadIncarnations.remove(hello.incarnation) != nil
            let record = WorkerRecord(peer: peer, incarnation: hello.incarnation, name: hello.workerName,
                                      order: nextJoinOrder, lastSeen: now)
            nextJoinOrder += 1
            workers[peer] = record
            peerOfIncarnation[hello.incarnation] = peer
            out.append(.workerJoined(peer, incarnation: hello.incarnation))
            if rejoin {
                out.append(.log("\(record.label) rejoined after being declared dead; its earlier task stays requeued"))
            }
        }
        touch(peer, now: now, into: &out)
        guard var worker = workers[peer] else { return }
        // The worker's tasks, if it holds any, are re-sent (idempotent for the worker) in case a
        // copy was lost; a Hello never releases a task, only a result, error or death does.
        if hello.ready {
            for held in worker.held { out.append(.send(to: peer, .task(assignment(held.task, attempt: held.attempt)))) }
        }
        worker.wantsWork = hello.ready
        worker.capacity = Int(min(max(hello.capacity, 1), UInt32(WorkerConfig.maxCapacity)))
        workers[peer] = worker
    }

    mutating func onResult(from peer: PeerID, _ result: ScoutWire.ScoutResult, now: Instant,
                           into out: inout [CoordinatorDirective]) {
        let what = "result for task \(result.taskID) attempt \(result.attempt)"
        if workers[peer] == nil {
            if !rebind(incarnation: result.incarnation, to: peer, now: now, into: &out) {
                let why = deadIncarnations.contains(result.incarnation) ? "late \(what) from dead incarnation" : "\(what) from unknown incarnation"
                out.append(.log("dropped \(why) \(hex(result.incarnation)) at \(peer)"))
                return
            }
        }
        touch(peer, now: now, into: &out)
        guard var worker = workers[peer] else { return }
        guard worker.incarnation == result.incarnation else {
            let why = deadIncarnations.contains(result.incarnation) ? "late \(what) from dead incarnation" : "\(what) from foreign incarnation"
            out.append(.log("dropped \(why) \(hex(result.incarnation)) at \(worker.label)"))
            return
        }
        // A result means the worker finished what it was doing: it has room for more.
        defer { workers[peer]?.wantsWork = true }
        guard result.jobID == config.jobID else {
            out.append(.log("dropped \(what) of job '\(result.jobID)' from \(worker.label): this is job '\(config.jobID)'"))
            return
        }
        if queue.isRecorded(result.taskID) {
            out.append(.log("dropped duplicate \(what) from \(worker.label): task already recorded"))
            return
        }
        guard let index = worker.held.firstIndex(of: HeldTask(task: result.taskID, attempt: result.attempt)) else {
            let holding = worker.held.isEmpty ? "no task" : worker.held.map { "task \($0.task) attempt \($0.attempt)" }.joined(separator: ", ")
            out.append(.log("dropped stale \(what) from \(worker.label), which holds \(holding)"))
            return
        }
        _ = queue.record(result.taskID)
        worker.held.remove(at: index)
        workers[peer] = worker
        out.append(.record(result))
    }

    mutating func onErrorReport(from peer: PeerID, _ report: ErrorReport, into out: inout [CoordinatorDirective]) {
        guard var worker = workers[peer] else {
            out.append(.log("dropped an error report from unknown \(peer): \(report.message)"))
            return
        }
        guard let task = report.taskID, let index = worker.held.firstIndex(where: { $0.task == task }) else {
            let about = report.taskID.map { "task \($0)" } ?? "no task"
            out.append(.log("\(worker.label) reported an error (code \(report.code), \(about)): \(report.message)"))
            return
        }
        worker.held.remove(at: index)
        if report.code == ClusterErrorCode.busy.rawValue {
            // Not a failure of the task: the worker holds more than this coordinator gave it
            // (work from an earlier coordinator). Requeue it uncounted; wait for the worker's word.
            worker.wantsWork = false
            workers[peer] = worker
            queue.requeue(task)
            out.append(.requeued(taskID: task, reason: "\(worker.label) is busy: \(report.message)"))
            return
        }
        worker.failedTasks.insert(task)
        workers[peer] = worker
        lose(task, reason: "\(worker.label) could not run it: \(report.message)", into: &out)
    }

    /// Moves a live incarnation's record to `peer` (it reconnected on a new socket). Returns
    /// false if the incarnation is not live.
    mutating func rebind(incarnation: UInt64, to peer: PeerID, now: Instant, into out: inout [CoordinatorDirective]) -> Bool {
        guard let oldPeer = peerOfIncarnation[incarnation], oldPeer != peer,
              var record = workers.removeValue(forKey: oldPeer) else { return false }
        record.peer = peer
        workers[peer] = record
        peerOfIncarnation[incarnation] = peer
        out.append(.log("\(record.label) reconnected (was \(oldPeer))"))
        touch(peer, now: now, into: &out)
        return true
    }

    /// Notes that a known peer spoke: it is alive, and no longer suspect.
    mutating func touch(_ peer: PeerID, now: Instant, into out: inout [CoordinatorDirective]) {
        guard var worker = workers[peer] else { return }
        if now > worker.lastSeen { worker.lastSeen = now }
        if worker.suspect {
            worker.suspect = false
            out.append(.log("\(worker.label) is alive again"))
        }
        workers[peer] = worker
    }
}

extension WireMessage {
    /// The message's kind as the .proto names it, for log lines.
    var kindName: String {
        switch self {
        case .hello: "hello"
        case .task: "task"
        case .snapshotRequest: "snapshot request"
        case .snapshotChunk: "snapshot chunk"
        case .result: "result"
        case .heartbeat: "heartbeat"
        case .error: "error"
        case .jobOver: "job over"
        case .jobAnnounce: "job announce"
        }
    }
}

import ScoutWire

// Liveness, task hand-out and task loss.

extension CoordinatorCore {
    mutating func onTick(now: Instant, into out: inout [CoordinatorDirective]) {
        let interval = config.heartbeatInterval
        for peer in workersInJoinOrder() {
            guard phase == .running, let worker = workers[peer] else { continue }
            let silence = now - worker.lastSeen
            if silence >= interval * config.deadAfter {
                declareDead(peer, reason: "\(worker.label) was silent for \(silence) (\(config.deadAfter) heartbeat intervals)", into: &out)
            } else if silence >= interval * config.suspectAfter, !worker.suspect {
                workers[peer]?.suspect = true
                out.append(.workerSuspect(peer, incarnation: worker.incarnation))
            }
        }
        guard phase == .running else { return }
        heartbeat(now: now, into: &out)
    }

    /// Sends every worker a heartbeat once an interval has passed since the last one.
    mutating func heartbeat(now: Instant, into out: inout [CoordinatorDirective]) {
        guard lastHeartbeat.map({ now - $0 >= config.heartbeatInterval }) ?? true else { return }
        lastHeartbeat = now
        heartbeatSequence += 1
        let beat = WireMessage.heartbeat(Heartbeat(incarnation: config.incarnation, sequence: heartbeatSequence))
        for peer in workersInJoinOrder() { out.append(.send(to: peer, beat)) }
    }

    /// Hands out pending tasks, lowest first, to ready, non-suspect workers in join order: first
    /// one each to those holding none, then queued ones up to each worker's capacity, one per
    /// worker per pass, while at least as many tasks are pending as there are live workers.
    mutating func dispatch(into out: inout [CoordinatorDirective]) {
        let order = workersInJoinOrder()
        for peer in order where workers[peer]?.held.isEmpty == true {
            guard queue.pendingCount > 0 else { return }
            _ = assign(to: peer, into: &out)
        }
        let live = workers.values.lazy.filter { !$0.suspect }.count
        var gave = true
        let enough = UInt64(max(1, live))
        while gave, queue.pendingCount >= enough {
            gave = false
            for peer in order where queue.pendingCount >= enough {
                guard let worker = workers[peer], worker.held.count < worker.capacity else { continue }
                gave = assign(to: peer, into: &out) || gave
            }
        }
    }

    /// Gives `peer` the lowest pending task it has not failed, if it is ready and has room.
    /// Returns false when nothing was assigned.
    mutating func assign(to peer: PeerID, into out: inout [CoordinatorDirective]) -> Bool {
        guard var worker = workers[peer], worker.wantsWork, !worker.suspect, worker.held.count < worker.capacity,
              let task = queue.take(avoiding: worker.failedTasks) else { return false }
        let attempt = (assignments[task] ?? 0) + 1
        assignments[task] = attempt
        worker.held.append(HeldTask(task: task, attempt: attempt))
        // Full: it gets more only once it says it has room again (a result or a ready Hello).
        if worker.held.count >= worker.capacity { worker.wantsWork = false }
        workers[peer] = worker
        out.append(.send(to: peer, .task(assignment(task, attempt: attempt))))
        return true
    }

    /// The assignment frame for one attempt at a task.
    func assignment(_ task: UInt64, attempt: UInt32) -> TaskAssignment {
        TaskAssignment(jobID: config.jobID, taskID: task, attempt: attempt, snapshotHash: config.snapshotHash,
                       snapshotSize: config.snapshotSize, jobSpec: config.jobSpec)
    }

    /// Removes a worker incarnation for good; its task, if any, is lost and requeued.
    mutating func declareDead(_ peer: PeerID, reason: String, into out: inout [CoordinatorDirective]) {
        guard let worker = workers.removeValue(forKey: peer) else { return }
        peerOfIncarnation[worker.incarnation] = nil
        deadIncarnations.insert(worker.incarnation)
        out.append(.workerDead(peer, incarnation: worker.incarnation))
        out.append(.log(reason))
        for held in worker.held where phase == .running { lose(held.task, reason: reason, into: &out) }
    }

    /// Counts a loss of `task`; requeues it, or fails the job once it has been lost
    /// `maxAttempts` times.
    mutating func lose(_ task: UInt64, reason: String, into out: inout [CoordinatorDirective]) {
        let count = (losses[task] ?? 0) + 1
        losses[task] = count
        if count >= config.maxAttempts {
            let why = "task \(task) failed \(count) times: \(reason)"
            phase = .failed(why)
            out.append(.failed(reason: why))
            return
        }
        queue.requeue(task)
        out.append(.requeued(taskID: task, reason: reason))
    }

    func workersInJoinOrder() -> [PeerID] {
        workers.values.sorted { $0.order < $1.order }.map(\.peer)
    }
}

import Foundation
import GTL
import GTLEngine
import ScoutWire

extension CoordinatorService {
    /// Runs `prepare` (pre-training, or loading the base on resume) on a thread of its own while
    /// serving `lobby` on `router`: workers that connect meanwhile are heartbeated and their
    /// Hellos kept for the core. Returns `prepare`'s value, or nil if `stop` was requested first;
    /// `prepare` must then end soon (pre-training watches `stop` and stops within a step), and is
    /// waited for, so no thread is left computing while the process exits (one left inside
    /// OpenBLAS crashed the exit). Nothing is journalled before it ends. If `prepare` throws,
    /// the waiting workers are told the job failed before the error is rethrown, so they exit
    /// instead of retrying until `--give-up-after`.
    func waitInLobby<T>(_ lobby: inout CoordinatorLobby, router: ZmqSocket, jobID: String, stop: StopSignal,
                        now: () -> Instant, prepare: @escaping @Sendable () throws -> T) throws -> T? {
        let work = Background<Result<T, Error>> { Result { try prepare() } }
        var peer: [UInt8] = [], payload: [UInt8] = [], sendBuffer: [UInt8] = []
        func send(_ to: PeerID, _ message: WireMessage) throws {
            message.encode(into: &sendBuffer)
            _ = try router.send(to: to.bytes, sendBuffer)
        }
        func execute(_ directives: [CoordinatorDirective]) throws {
            for d in directives {
                switch d {
                case let .send(to, message): try send(to, message)
                case let .log(text): settings.log.event("protocol", text)
                default: break   // the lobby only heartbeats and logs
                }
            }
        }
        var lastTick = now()
        while true {
            if let result = work.result {
                if stop.isRequested { return nil }
                switch result {
                case let .success(value):
                    return value
                case let .failure(error):
                    let over = WireMessage.jobOver(JobOver(jobID: jobID, reason: "the coordinator could not prepare the job: \(error)", success: false))
                    for p in lobby.waiting { try send(p, over) }
                    throw error
                }
            }
            if try router.waitReadable(timeoutMs: 50, or: work.done.readEnd).socket {
                try drainFrames(router, peer: &peer, payload: &payload, now: now) { _, event, _ in
                    try execute(lobby.handle(event))
                    return true
                }
            }
            let t = now()
            if t - lastTick >= .milliseconds(100) {
                try execute(lobby.handle(.tick(now: t)))
                lastTick = t
            }
        }
    }
}

import ScoutWire

extension CoordinatorService {
    /// Reads what is queued on `router`, at most 256 frames (bounded, so ticks and heartbeats
    /// keep their pace), and hands each to `handle` with its sender as a coordinator event: a
    /// decoded message, or `.malformed` for a frame that is not one. `frame` is the payload's
    /// bytes, valid during the call (the coordinator journals a result from them without
    /// re-encoding), and nil when the frame lacked the routing layout altogether. Draining stops
    /// early when `handle` returns false. The lobby and the job's loop share it.
    func drainFrames(_ router: ZmqSocket, peer: inout [UInt8], payload: inout [UInt8], now: () -> Instant,
                     handle: (_ from: PeerID, _ event: CoordinatorEvent, _ frame: [UInt8]?) throws -> Bool) throws {
        for _ in 0..<256 {
            let status = try router.receiveFromPeer(peer: &peer, payload: &payload, dontWait: true)
            if status == .wouldBlock || status == .interrupted { return }
            let from = PeerID(peer)
            guard status == .received else {
                guard try handle(from, .malformed(from: from, reason: "unexpected frame layout", now: now()), nil) else { return }
                continue
            }
            let event: CoordinatorEvent
            do {
                let message = try payload.withUnsafeBytes { try WireMessage.decode($0, maxBytes: settings.maxMessageBytes) }
                event = .message(from: from, message, now: now())
            } catch {
                event = .malformed(from: from, reason: "\(error)", now: now())
            }
            guard try handle(from, event, payload) else { return }
        }
    }
}

import CZmq
import Foundation

/// What a receive call produced. Errors that mean the socket or context is unusable are thrown;
/// these are the outcomes a receive loop handles in its normal course.
public enum ZmqReceiveStatus: Sendable, Equatable {
    /// A complete message is in the caller's buffers.
    case received
    /// Nothing arrived: non-blocking call with an empty queue, or `receiveTimeoutMs` expired.
    case wouldBlock
    /// A signal interrupted the blocking wait (EINTR). Nothing was consumed; check the stop
    /// flag and call again.
    case interrupted
    /// A message with the wrong number of frames for the call (e.g. a peer sent three frames
    /// to a call expecting one). It has been drained so the next message starts cleanly; the
    /// buffers hold its first frames (for a ROUTER, `peer` names the sender).
    case malformed(frameCount: Int)
}

/// What a send call did.
public enum ZmqSendStatus: Sendable, Equatable {
    /// Queued in full (not yet on the wire: libzmq sends from its I/O thread).
    case sent
    /// High-water mark reached with `dontWait`, or `sendTimeoutMs` expired; nothing was queued.
    case wouldBlock
    /// A signal interrupted the blocking wait; nothing was queued.
    case interrupted
    /// ROUTER with `routerMandatory`: no connected peer has that routing id; nothing was queued.
    case unroutable
}

extension ZmqSocket {
    // MARK: frame primitives

    /// Sends one frame. Only the first frame of a message may report wouldBlock/interrupted/
    /// unroutable: libzmq commits to the rest once the first part is accepted, so later frames
    /// retry EINTR and treat anything else as an error.
    private func sendFrame(_ bytes: UnsafeRawBufferPointer, more: Bool, dontWait: Bool, first: Bool) throws -> ZmqSendStatus {
        let h = try open()
        let flags = (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
        while true {
            if zmq_send(h, bytes.baseAddress, bytes.count, flags) >= 0 { return .sent }
            let e = ZmqErrno.current
            if e == EINTR {
                if first { return .interrupted }
                continue
            }
            if first && e == EAGAIN { return .wouldBlock }
            if first && e == EHOSTUNREACH { return .unroutable }
            throw ZmqErrno.error(first ? "send on \(kind)" : "send of a later frame on \(kind) (message is now partial)", code: e)
        }
    }

    /// Receives one frame into `buffer`; returns nil for status outcomes on the first frame.
    /// `more` tells whether further frames of the same message follow.
    private func receiveFrame(into buffer: inout [UInt8], dontWait: Bool, first: Bool) throws -> (status: ZmqReceiveStatus, more: Bool) {
        let h = try open()
        var msg = zmq_msg_t()
        zmq_msg_init(&msg)
        defer { zmq_msg_close(&msg) }
        while zmq_msg_recv(&msg, h, dontWait ? ZMQ_DONTWAIT : 0) < 0 {
            let e = ZmqErrno.current
            if e == EINTR {
                if first { return (.interrupted, false) }
                continue  // later frames are already queued; just retry
            }
            if first && e == EAGAIN { return (.wouldBlock, false) }
            throw ZmqErrno.error("receive on \(kind)", code: e)
        }
        copyReusing(UnsafeRawBufferPointer(start: zmq_msg_data(&msg), count: zmq_msg_size(&msg)), into: &buffer)
        return (.received, zmq_msg_more(&msg) != 0)
    }

    /// Consumes the remaining frames of a message; returns how many there were.
    private func drain() throws -> Int {
        var scratch: [UInt8] = []
        var n = 0
        var more = true
        while more {
            more = try receiveFrame(into: &scratch, dontWait: false, first: false).more
            n += 1
        }
        return n
    }

    // MARK: multipart

    /// Sends `frames` as one multipart message (all or nothing for the caller). Copies each frame
    /// into a libzmq message (zmq_send).
    @discardableResult
    public func send(frames: [[UInt8]], dontWait: Bool = false) throws -> ZmqSendStatus {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (i, frame) in frames.enumerated() {
            let status = try frame.withUnsafeBytes {
                try sendFrame($0, more: i < frames.count - 1, dontWait: dontWait, first: i == 0)
            }
            if status != .sent { return status }
        }
        return .sent
    }

    /// Receives one multipart message into reusable `frames`.
    public func receive(frames: inout ZmqFrames, dontWait: Bool = false) throws -> ZmqReceiveStatus {
        frames.reset()
        var more = true
        var first = true
        while more {
            let r = try frames.fillNext { try receiveFrame(into: &$0, dontWait: dontWait, first: first) }
            if r.status != .received { return r.status }
            frames.commit()
            more = r.more
            first = false
        }
        return .received
    }

    // MARK: single payload (DEALER side)

    /// Sends `payload` as a single frame: what a DEALER sends to the coordinator (the ROUTER adds
    /// the routing id on its side).
    @discardableResult
    public func send(_ payload: some ContiguousBytes, dontWait: Bool = false) throws -> ZmqSendStatus {
        try payload.withUnsafeBytes { try sendFrame($0, more: false, dontWait: dontWait, first: true) }
    }

    /// Receives a single-frame message into `payload`, reusing its capacity (the large-model path:
    /// one copy out of libzmq's message, no fresh allocation when `payload` is big enough).
    public func receive(into payload: inout [UInt8], dontWait: Bool = false) throws -> ZmqReceiveStatus {
        let r = try receiveFrame(into: &payload, dontWait: dontWait, first: true)
        guard r.status == .received else { return r.status }
        if r.more { return .malformed(frameCount: 1 + (try drain())) }
        return .received
    }

    // MARK: ROUTER envelope

    /// ROUTER: sends `payload` to the peer with routing id `peer` (two frames: id, payload).
    /// With `routerMandatory`, an unknown peer gives `.unroutable`; otherwise libzmq drops it.
    @discardableResult
    public func send(to peer: [UInt8], _ payload: some ContiguousBytes, dontWait: Bool = false) throws -> ZmqSendStatus {
        precondition(kind == .router, "send(to:) is for ROUTER sockets")
        let first = try peer.withUnsafeBytes { try sendFrame($0, more: true, dontWait: dontWait, first: true) }
        guard first == .sent else { return first }
        return try payload.withUnsafeBytes { try sendFrame($0, more: false, dontWait: dontWait, first: false) }
    }

    /// ROUTER: receives one (routing id, payload) message into reusable buffers. Anything other
    /// than exactly two frames (a DEALER that sent multipart) is drained and reported as
    /// `.malformed` with `peer` set, so the coordinator can log or drop that worker.
    public func receiveFromPeer(peer: inout [UInt8], payload: inout [UInt8], dontWait: Bool = false) throws -> ZmqReceiveStatus {
        precondition(kind == .router, "receiveFromPeer is for ROUTER sockets")
        let r = try receiveFrame(into: &peer, dontWait: dontWait, first: true)
        guard r.status == .received else { return r.status }
        guard r.more else { payload.removeAll(keepingCapacity: true); return .malformed(frameCount: 1) }
        let p = try receiveFrame(into: &payload, dontWait: dontWait, first: false)
        if p.more { return .malformed(frameCount: 2 + (try drain())) }
        return .received
    }

    /// ROUTER convenience for small messages: the next (peer, payload), or nil when nothing
    /// arrived (would block, timed out, or interrupted). Malformed messages are skipped.
    public func receiveFromPeer(dontWait: Bool = false) throws -> (peer: [UInt8], payload: [UInt8])? {
        var peer: [UInt8] = []
        var payload: [UInt8] = []
        while true {
            switch try receiveFromPeer(peer: &peer, payload: &payload, dontWait: dontWait) {
            case .received: return (peer, payload)
            case .malformed: continue
            case .wouldBlock, .interrupted: return nil
            }
        }
    }

    // MARK: waiting

    /// Waits up to `timeoutMs` (-1 = forever) for a message; false on timeout or EINTR.
    public func waitReadable(timeoutMs: Int) throws -> Bool {
        let r = try ZmqPoller([self]).poll(timeoutMs: timeoutMs)
        return r.readable[0]
    }

    /// Waits until this socket or the plain file descriptor `fd` (an eventfd that another thread
    /// signals, say) is readable, so a loop can sleep on both without polling on a timer.
    public func waitReadable(timeoutMs: Int, or fd: Int32) throws -> (socket: Bool, fd: Bool) {
        var items = [zmq_pollitem_t(socket: try open(), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
                     zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)]
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, 2, timeoutMs) }
        if rc < 0 {
            let e = ZmqErrno.current
            if e == EINTR { return (false, false) }
            throw ZmqErrno.error("zmq_poll over a socket and fd \(fd)", code: e)
        }
        return (items[0].revents & Int16(ZMQ_POLLIN) != 0, items[1].revents & Int16(ZMQ_POLLIN) != 0)
    }
}

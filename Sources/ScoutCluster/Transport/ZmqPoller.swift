import CZmq

/// Which readiness a poll waits for.
public struct ZmqPollEvents: OptionSet, Sendable {
    /// The bit values of ZMQ_POLLIN/ZMQ_POLLOUT.
    public let rawValue: Int16
    /// Wraps raw poll bits.
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// A message can be received without blocking.
    public static let readable = ZmqPollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking (below the high-water mark).
    public static let writable = ZmqPollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// The outcome of one poll, indexed like the poller's sockets.
public struct ZmqPollResult: Sendable, Equatable {
    /// Per socket: a message is waiting.
    public let readable: [Bool]
    /// Per socket: a send would not block.
    public let writable: [Bool]
    /// The wait was cut short by a signal (EINTR): nothing is ready; check the stop flag.
    public let interrupted: Bool
    /// True when any socket is ready.
    public var anyReady: Bool { readable.contains(true) || writable.contains(true) }
}

/// Waits on several sockets at once with `zmq_poll` (the draft `zmq_poller` API is not available
/// in Debian's libzmq), so one loop can serve the coordinator's ROUTER and a control socket, and
/// a bounded timeout lets it check a stop flag.
///
/// Not `Sendable`: it holds sockets, which belong to one thread.
public struct ZmqPoller {
    /// The sockets polled, in result order.
    public let sockets: [ZmqSocket]
    /// The events asked for on each.
    public let events: [ZmqPollEvents]

    /// Polls each socket for the given events.
    public init(_ items: [(ZmqSocket, ZmqPollEvents)]) {
        sockets = items.map(\.0)
        events = items.map(\.1)
    }

    /// Polls each socket for readability.
    public init(_ sockets: [ZmqSocket]) {
        self.init(sockets.map { ($0, ZmqPollEvents.readable) })
    }

    /// Waits at most `timeoutMs` (0 = just check, -1 = forever) for any socket to be ready.
    /// Throws if a socket is closed or the context was shut down.
    public func poll(timeoutMs: Int) throws -> ZmqPollResult {
        var items = try zip(sockets, events).map { socket, ev in
            zmq_pollitem_t(socket: try socket.open(), fd: 0, events: ev.rawValue, revents: 0)
        }
        let rc = items.withUnsafeMutableBufferPointer {
            zmq_poll($0.baseAddress, Int32($0.count), timeoutMs)
        }
        if rc < 0 {
            let e = ZmqErrno.current
            if e == EINTR {
                let none = [Bool](repeating: false, count: items.count)
                return ZmqPollResult(readable: none, writable: none, interrupted: true)
            }
            throw ZmqErrno.error("zmq_poll over \(items.count) sockets", code: e)
        }
        return ZmqPollResult(
            readable: items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 },
            writable: items.map { $0.revents & Int16(ZMQ_POLLOUT) != 0 },
            interrupted: false)
    }
}

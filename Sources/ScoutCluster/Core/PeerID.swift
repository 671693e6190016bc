import ScoutWire

/// A peer as the coordinator's ROUTER socket names it: the ZeroMQ routing id frame.
///
/// Routing ids are per connection, not per process: a worker that reconnects on a fresh socket
/// arrives under a new `PeerID` with its old incarnation, and a worker that sets its routing id
/// explicitly keeps its `PeerID` across restarts but changes incarnation. The coordinator core
/// therefore tracks both and never treats a `PeerID` alone as a worker's identity.
public struct PeerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The routing id bytes exactly as received from (and to be sent to) the ROUTER socket.
    public var bytes: [UInt8]

    /// Wraps routing id bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// A peer named by a string's UTF-8 bytes, for tests and explicit worker routing ids.
    public init(_ name: String) { self.bytes = Array(name.utf8) }

    /// Byte-wise lexicographic order, so that iteration over peers is deterministic.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Printable ASCII ids as themselves, anything else (ZeroMQ's generated ids start with a
    /// zero byte) as hex, so log lines stay one line.
    public var description: String {
        if !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        return "0x" + hexString(bytes)
    }
}

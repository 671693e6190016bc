/// Why a frame was refused by `WireMessage.decode`.
///
/// A worker and a coordinator built from different revisions must fail loudly rather than
/// misread each other, so the decoder throws on anything it does not fully understand. Each
/// case carries enough detail for a log line to say what was wrong without a hex dump.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame is bigger than the caller's limit; checked before parsing so a hostile or
    /// broken peer cannot make us allocate without bound.
    case tooLarge(size: Int, limit: Int)
    /// protobuf-c could not parse the bytes at all (garbage, truncation, bad wire types).
    case malformed(byteCount: Int)
    /// The peer speaks another revision of `Protos/gtl.proto`; 0 means the field was absent.
    case versionMismatch(received: UInt32, expected: UInt32)
    /// A well-formed envelope with no body: nothing to act on.
    case missingBody
    /// Fields this build does not know were present in `message`; most likely a newer peer.
    case unknownFields(message: String, count: Int)
    /// A content address that is not a 32-byte SHA-256 digest.
    case badHashLength(field: String, length: Int)
    /// A snapshot chunk whose bytes would lie past the snapshot's declared end.
    case chunkOutOfBounds(offset: UInt64, length: Int, totalSize: UInt64)
    /// A field that parsed but holds a value the protocol does not allow (e.g. invalid UTF-8).
    case invalidField(field: String, reason: String)

    /// One line naming the problem, suitable for logs and error replies.
    public var description: String {
        switch self {
        case let .tooLarge(size, limit):
            return "wire message of \(size) bytes exceeds the limit of \(limit) bytes"
        case let .malformed(byteCount):
            return "wire message of \(byteCount) bytes is not a parseable gtl.wire.Envelope"
        case let .versionMismatch(received, expected):
            return "wire protocol version \(received) received, this build speaks version \(expected)"
        case .missingBody:
            return "wire envelope has no body"
        case let .unknownFields(message, count):
            return "\(message) carries \(count) unknown field(s); the peer is probably a different build"
        case let .badHashLength(field, length):
            return "\(field) is \(length) bytes, a SHA-256 hash must be 32"
        case let .chunkOutOfBounds(offset, length, totalSize):
            return "snapshot chunk at offset \(offset) with \(length) bytes overruns total size \(totalSize)"
        case let .invalidField(field, reason):
            return "\(field): \(reason)"
        }
    }
}

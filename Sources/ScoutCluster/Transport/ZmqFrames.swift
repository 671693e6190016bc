/// The frames of one received multipart message, kept in buffers that survive between receives.
///
/// Receiving into the same `ZmqFrames` again overwrites the frames in place, reusing each
/// buffer's capacity; that is the point of the type (a fresh 40 MB array per message costs
/// several times the copy itself in page faults). Reading `self[i]` hands out a copy-on-write
/// reference: if the caller still holds it at the next receive, that buffer is copied once.
public struct ZmqFrames: Sendable {
    /// All buffers ever used; only the first `count` belong to the current message.
    private var buffers: [[UInt8]] = []
    /// Number of frames in the current message.
    public private(set) var count: Int = 0

    /// An empty set of buffers.
    public init() {}

    /// Frame `index` of the current message.
    public subscript(index: Int) -> [UInt8] {
        precondition(index < count, "frame \(index) of a \(count)-frame message")
        return buffers[index]
    }

    /// The current message's frames as arrays (copy-on-write; convenient for small messages).
    public var frames: [[UInt8]] { Array(buffers.prefix(count)) }

    /// Reads frame `index` without copying or retaining it.
    public func withFrame<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(index < count, "frame \(index) of a \(count)-frame message")
        return try buffers[index].withUnsafeBytes(body)
    }

    /// Starts a new message, keeping all buffers.
    mutating func reset() { count = 0 }

    /// Lets `body` fill the next reusable buffer in place; `commit()` then makes it part of the
    /// message.
    mutating func fillNext<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        if count == buffers.count { buffers.append([]) }
        return try body(&buffers[count])
    }

    /// Counts the buffer filled by the last `fillNext` as a frame.
    mutating func commit() { count += 1 }
}

/// Overwrites `buffer` with `bytes` in a single copy, keeping its storage when it is uniquely
/// referenced and large enough.
func copyReusing(_ bytes: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
    buffer.removeAll(keepingCapacity: true)
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    buffer.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count))
}

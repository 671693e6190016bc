import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pipe that one thread signals so that another, sleeping in `zmq_poll` on the read end and
/// its socket (`ZmqSocket.waitReadable(timeoutMs:or:)`), wakes at once instead of at the next
/// timeout: a finished scout on a worker, finished pre-training or a round's end on the
/// coordinator. Polling on a timer instead cost up to the timeout each time (20 ms per scout on
/// the worker once; 20 ms per job start on the coordinator).
final class WakeupPipe: Sendable {
    /// The end to poll.
    let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0, "cannot create a wake-up pipe: \(String(cString: strerror(errno)))")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        (readEnd, writeEnd) = (fds[0], fds[1])
    }

    deinit { close(readEnd); close(writeEnd) }

    /// Makes the read end readable (a full pipe is already readable, so a failed write is fine).
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe, so the next poll sleeps until the next signal.
    func drain() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &sink, sink.count) > 0 {}
    }
}

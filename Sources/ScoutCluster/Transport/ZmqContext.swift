import CZmq

/// A libzmq context: the I/O threads and the inproc namespace that sockets share.
///
/// Every `ZmqSocket` keeps its context alive, so the context is only terminated after the last
/// socket has been closed; that ordering is what makes `zmq_ctx_term` return instead of waiting
/// forever on a socket someone forgot. The context is created with `ZMQ_BLOCKY=0`, so sockets
/// default to a linger of 0 and unsent messages never hold up shutdown.
///
/// `@unchecked Sendable`: libzmq documents contexts as thread-safe (unlike sockets), and the
/// only state here is the immutable handle.
public final class ZmqContext: @unchecked Sendable {
    /// The raw `void *` handle; internal so that only this module's wrappers create sockets.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` I/O threads (one is enough below ~1 GB/s).
    public init(ioThreads: Int32 = 1) throws {
        guard let h = zmq_ctx_new() else { throw ZmqErrno.error("zmq_ctx_new") }
        handle = h
        if zmq_ctx_set(h, ZMQ_BLOCKY, 0) != 0 || zmq_ctx_set(h, ZMQ_IO_THREADS, ioThreads) != 0 {
            let e = ZmqErrno.error("zmq_ctx_set")
            zmq_ctx_term(h)
            throw e
        }
    }

    /// Makes every blocking call on this context's sockets (in any thread) return with ETERM,
    /// which the wrappers surface as a thrown `ClusterError`: the way to wake a thread that is
    /// blocked in `receive` when a signal is not an option. Sockets must still be released.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        // zmq_ctx_term can be interrupted by a signal; retry so the context is not leaked.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

import CZmq

/// libzmq reports failures through a thread-local errno; these helpers turn it into a
/// `ClusterError` that names what was being done, so a log line points at the endpoint or option.
enum ZmqErrno {
    /// The calling thread's last libzmq error number.
    static var current: Int32 { zmq_errno() }

    /// libzmq's text for an error number (covers its own ETERM/EFSM range as well as POSIX).
    static func text(_ code: Int32) -> String {
        guard let s = zmq_strerror(code) else { return "errno \(code)" }
        return String(cString: s)
    }

    /// An error for `what` (e.g. "bind tcp://127.0.0.1:5555") with libzmq's explanation.
    static func error(_ what: String, code: Int32 = current) -> ClusterError {
        ClusterError("\(what): \(text(code)) (errno \(code))")
    }

    /// libzmq's "context was terminated" code (ZMQ_HAUSNUMERO + 53), spelled out because the
    /// header defines it as an expression.
    static let terminated: Int32 = 156_384_712 + 53
}

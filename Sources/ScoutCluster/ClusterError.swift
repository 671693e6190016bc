/// An error of the scout cluster (transport, protocol, journal) with a message that names the
/// thing and the problem: a socket endpoint, a key file, a journal offset, a worker.
public struct ClusterError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public let description: String
    /// Wraps a message.
    public init(_ description: String) { self.description = description }
}

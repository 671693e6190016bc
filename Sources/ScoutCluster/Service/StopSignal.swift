import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A stop request shared between signal handlers, service loops and training threads.
///
/// Batch schedulers stop jobs with SIGTERM (Slurm sends it, or USR1 ahead of the time limit);
/// the services poll this flag at least every 100 ms and shut down cleanly. Signals arrive through
/// Dispatch sources, so no global state or async-signal-unsafe code is involved.
///
/// `@unchecked Sendable`: the flag is an atomic; `sources` is written only by `install`, which is
/// called once, before any other thread sees the value, and only kept to hold the sources alive.
public final class StopSignal: @unchecked Sendable {
    private let requested = Atomic<Int32>(0)
    private var sources: [DispatchSourceSignal] = []

    /// A flag that nothing has set yet.
    public init() {}

    /// Sets the flag when any of `signals` arrives (their default action is disabled).
    public func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        for s in signals {
            _ = Glibc.signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler { [weak self] in self?.request(signal: s) }
            source.resume()
            sources.append(source)
        }
    }

    /// Gives the signals back their default action (e.g. when a command moves on to work that
    /// does not watch this flag, so that Ctrl-C still interrupts it).
    public func uninstall() {
        for source in sources {
            source.cancel()
            _ = Glibc.signal(Int32(source.handle), SIG_DFL)
        }
        sources = []
    }

    /// Asks every loop watching this flag to stop; `signal` records why.
    public func request(signal: Int32 = SIGTERM) {
        _ = requested.compareExchange(expected: 0, desired: signal, ordering: .sequentiallyConsistent)
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { requested.load(ordering: .sequentiallyConsistent) != 0 }

    /// The signal that asked to stop (0 if none).
    public var signal: Int32 { requested.load(ordering: .sequentiallyConsistent) }
}

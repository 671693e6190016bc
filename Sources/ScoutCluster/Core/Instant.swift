/// A point in time on the shell's monotonic clock, as an offset from the shell's start.
///
/// The cores never read a clock themselves: every event carries its `Instant`, so tests drive
/// them with a fake clock and replay a scenario to the nanosecond. A wrapper around `Duration`
/// (rather than `ContinuousClock.Instant`) because that type cannot be constructed at will.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time elapsed since the shell's chosen origin.
    public var sinceStart: Duration

    /// Wraps an offset from the origin.
    public init(_ sinceStart: Duration) { self.sinceStart = sinceStart }

    /// The origin itself, for tests and the first event of a run.
    public static let zero = Instant(.zero)

    /// An instant `seconds` after the origin; handy in tests that think in seconds.
    public static func seconds(_ seconds: Double) -> Instant { Instant(.seconds(seconds)) }

    /// The instant `duration` later.
    public static func + (lhs: Instant, rhs: Duration) -> Instant { Instant(lhs.sinceStart + rhs) }

    /// How long after `rhs` the instant `lhs` is (negative if it is earlier).
    public static func - (lhs: Instant, rhs: Instant) -> Duration { lhs.sinceStart - rhs.sinceStart }

    /// Earlier instants sort first.
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.sinceStart < rhs.sinceStart }

    /// The offset in seconds, e.g. "t=12.5s", for log lines.
    public var description: String { "t=\(sinceStart)" }
}

extension Duration {
    /// The duration as floating-point seconds, for log lines and backoff arithmetic.
    var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}

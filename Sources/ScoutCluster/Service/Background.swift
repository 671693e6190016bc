import Foundation
import GTL

/// Work on a thread of its own whose outcome the coordinator's poll loop picks up when ready,
/// so that the loop keeps heartbeating meanwhile: pre-training the base before the job starts,
/// and the end of each round of scouts. Either takes seconds for a large model (the guide of
/// 10 M parameters: about 3 s here); done on the poll thread it silenced the coordinator long
/// enough for workers to take it for dead and reconnect, and a worker reconnecting at the end
/// missed the job-over message and retried until `--give-up-after`.
final class Background<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Value?
    /// Signalled when the work is done: poll it with the socket (`waitReadable(timeoutMs:or:)`).
    let done = WakeupPipe()

    /// Starts `work` on a new thread (8 MiB of stack, like the worker's training threads).
    init(_ work: @escaping @Sendable () -> Value) {
        let thread = Thread { [self] in
            let o = work()
            lock.lock(); outcome = o; lock.unlock()
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The outcome once the work is done (nil while it runs).
    var result: Value? {
        lock.lock(); defer { lock.unlock() }
        return outcome
    }
}

/// The end of a round of scouts: the guide from the reduced sums, the `--scouts auto`
/// decision, the output files.
enum RoundEnd {
    /// `--scouts auto`: the guide has not converged; add `by` scouts. `monitor` has the new round.
    case extend(by: Int, monitor: ConvergenceMonitor)
    /// The guide is written (`monitor`: the automatic job's trace, if any).
    case done(guide: [Float], monitor: ConvergenceMonitor?)
    /// Computing or writing the guide failed.
    case failed(Error)

    /// The work of one round's end: with a monitor, observe the guide and maybe ask for more
    /// scouts; otherwise (or once converged) write the guide and the scout means.
    static func work(reducer: GuideReducer, monitor: ConvergenceMonitor?, scouts: Int, pipeline: Pipeline,
                     outputs: JobOutputs) -> @Sendable () -> RoundEnd {
        {
            do {
                var monitor = monitor
                if var m = monitor {
                    let decision = m.observe(guide: try reducer.guide(pipeline.job.guide), scouts: scouts)
                    if case let .extend(by) = decision { return .extend(by: by, monitor: m) }
                    monitor = m
                }
                let means = try reducer.means()
                let guide = try pipeline.guide(means: means, layout: reducer.layout)
                try outputs.writeGuide(guide, means: means, meansLayout: reducer.layout, pipeline: pipeline, scouts: reducer.count)
                return .done(guide: guide, monitor: monitor)
            } catch {
                return .failed(error)
            }
        }
    }
}

/// The coordinator's bookkeeping of which task ids are recorded, pending, or handed out.
///
/// Never-assigned tasks are a cursor over `0 ..< total` rather than a materialised list, so a
/// job of a million scouts costs nothing up front; requeued tasks wait in a sorted array so the
/// lowest pending id is always found first, which keeps assignment order deterministic.
struct TaskQueue: Sendable {
    /// Task ids are `0 ..< total`.
    private(set) var total: UInt64
    /// Tasks whose result has been recorded.
    private(set) var recorded: Set<UInt64>
    /// The lowest task id never handed out (ids below it were assigned or pre-recorded).
    private var nextFresh: UInt64 = 0
    /// Recorded ids at or above `nextFresh` (only journal-recovered ones can be), for counting.
    private var recordedAhead: Int
    /// Tasks taken back from workers, ascending.
    private var requeued: [UInt64] = []

    /// Starts with `total` tasks of which `completed` are already recorded.
    init(total: UInt64, completed: Set<UInt64>) {
        self.total = total
        self.recorded = completed
        self.recordedAhead = completed.count
    }

    /// Tasks still to be handed out.
    var pendingCount: UInt64 {
        UInt64(requeued.count) + (total - nextFresh) - UInt64(recordedAhead)
    }

    /// Whether a task id has a recorded result.
    func isRecorded(_ task: UInt64) -> Bool { recorded.contains(task) }

    /// Marks a handed-out task recorded. Returns false if it already was.
    mutating func record(_ task: UInt64) -> Bool { recorded.insert(task).inserted }

    /// Adds `count` tasks after the existing ones.
    mutating func extend(by count: UInt64) { total += count }

    /// Puts a lost task back, unless it is recorded or already waiting.
    mutating func requeue(_ task: UInt64) {
        guard !recorded.contains(task) else { return }
        let i = insertionIndex(task)
        if i < requeued.count, requeued[i] == task { return }
        requeued.insert(task, at: i)
    }

    /// Takes the lowest pending task id, preferring one not in `avoiding` (tasks that already
    /// failed on the asking worker); falls back to an avoided one rather than leave a worker
    /// idle, since a failure may have been transient.
    mutating func take(avoiding: Set<UInt64>) -> UInt64? {
        skipRecordedFresh()
        let fresh: UInt64? = nextFresh < total ? nextFresh : nil
        let preferredIndex = requeued.firstIndex { !avoiding.contains($0) }
        if let i = preferredIndex, fresh.map({ requeued[i] < $0 }) ?? true {
            return requeued.remove(at: i)
        }
        if let f = fresh {
            nextFresh = f + 1
            return f
        }
        return requeued.isEmpty ? nil : requeued.removeFirst()
    }

    private mutating func skipRecordedFresh() {
        while nextFresh < total, recorded.contains(nextFresh) {
            nextFresh += 1
            recordedAhead -= 1
        }
    }

    private func insertionIndex(_ task: UInt64) -> Int {
        var lo = 0, hi = requeued.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if requeued[mid] < task { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

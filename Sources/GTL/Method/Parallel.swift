import Dispatch

/// Runs `count` independent jobs on all cores and returns their results in index order.
///
/// Each job owns its own values (a network copy, an episode), so the only shared state is the
/// result array, written at distinct indices: the order of completion cannot change the output.
public func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = Slots<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { i in slots.set(i, body(i)) }
    return slots.values
}

/// Preallocated result slots written at distinct indices from concurrent jobs. `@unchecked
/// Sendable` is sound because each index is written exactly once, by one job, and read only
/// after `concurrentPerform` has returned (which orders those writes before the read).
private final class Slots<T>: @unchecked Sendable {
    private var storage: [T?]
    init(_ count: Int) { storage = [T?](repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { storage.withUnsafeMutableBufferPointer { $0[i] = value } }
    var values: [T] { storage.map { $0! } }
}

import GTLEngine

/// What a scout records about how its parameters moved. Every statistic is non-negative and
/// streamed in O(parameters) memory while the scout trains; the trajectory itself is never kept.
public enum TrajectoryStatistic: String, Sendable, Codable, CaseIterable {
    /// (w_final − w_base)²: the paper's statistic.
    case squared
    /// |w_final − w_base|: the reference code's variant.
    case absolute
    /// Σ_t |w_{t+1} − w_t|: how far the parameter travelled, even if it came back.
    case path
    /// Mean over steps of the squared gradient: a diagonal Fisher estimate (as in EWC).
    case fisher
}

/// Accumulates the trajectory statistics of one scout, step by step.
public struct TrajectoryRecorder: Sendable {
    /// Which statistics are recorded.
    public let statistics: [TrajectoryStatistic]
    private let base: [Float]
    private var previous: [Float]
    private var path: [Float]
    private var fisher: [Float]
    private var steps = 0

    /// Starts recording from the base parameters (copied: the base is never aliased).
    public init(base: [Float], statistics: [TrajectoryStatistic]) {
        self.statistics = statistics
        self.base = base
        let wantsPath = statistics.contains(.path), wantsFisher = statistics.contains(.fisher)
        previous = wantsPath ? base : []
        path = wantsPath ? [Float](repeating: 0, count: base.count) : []
        fisher = wantsFisher ? [Float](repeating: 0, count: base.count) : []
    }

    /// Records one optimiser step: the new parameters and the gradients that produced them.
    public mutating func record(parameters: [Float], gradients: [Float]) {
        steps += 1
        let n = base.count
        if !path.isEmpty {
            parameters.withUnsafeBufferPointer { p in
                previous.withUnsafeMutableBufferPointer { q in
                    path.withUnsafeMutableBufferPointer { s in
                        for i in 0..<n { s[i] += abs(p[i] - q[i]); q[i] = p[i] }
                    }
                }
            }
        }
        if !fisher.isEmpty {
            gradients.withUnsafeBufferPointer { g in
                fisher.withUnsafeMutableBufferPointer { f in for i in 0..<n { f[i] += g[i] * g[i] } }
            }
        }
    }

    /// The finished statistics, in the order of `statistics`.
    public func finish(parameters: [Float]) -> [(TrajectoryStatistic, [Float])] {
        statistics.map { stat in
            switch stat {
            case .squared: return (stat, zip(parameters, base).map { ($0 - $1) * ($0 - $1) })
            case .absolute: return (stat, zip(parameters, base).map { abs($0 - $1) })
            case .path: return (stat, path)
            case .fisher:
                let s = 1 / Float(max(steps, 1))
                return (stat, fisher.map { $0 * s })
            }
        }
    }
}

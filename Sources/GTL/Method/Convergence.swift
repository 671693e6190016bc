/// `--scouts auto`: keep adding scouts in batches until the guide values stop changing.
public struct AutoScouts: Sendable, Equatable, Codable {
    /// Scouts added per round.
    public var batch = 16
    /// Stop when the relative change ‖g_k − g_{k−1}‖₂ / ‖g_k‖₂ between successive rounds falls below this.
    public var tolerance = 0.02
    /// Never run more scouts than this, converged or not.
    public var maxScouts = 1024

    /// The defaults: rounds of 16 scouts, 2 % tolerance, at most 1,024 scouts.
    public init() {}
}

/// One round of `--scouts auto`: how much the guide moved when the last batch was added.
public struct ConvergencePoint: Sendable, Equatable, Codable {
    /// Scouts reduced at this point.
    public let scouts: Int
    /// ‖g_k − g_{k−1}‖₂ / ‖g_k‖₂ (nil in the first round).
    public let relativeChange: Double?
    /// Spearman rank correlation between g_k and g_{k−1} (nil in the first round).
    public let rankCorrelation: Double?
}

/// The decision after a round.
public enum ConvergenceDecision: Sendable, Equatable {
    /// Add this many scouts and look again.
    case extend(by: Int)
    /// Stop: `converged` says whether the tolerance was met (false: the cap was reached).
    case stop(converged: Bool)
}

/// Watches the guide values at each round boundary. The rounds are defined by scout count
/// (16, 32, 48, ...), and the reducer is exact, so the decision — and the number of scouts used —
/// is the same whatever the order in which scouts finish.
public struct ConvergenceMonitor: Sendable {
    /// The rule.
    public let options: AutoScouts
    /// Every round so far.
    public private(set) var trace: [ConvergencePoint] = []
    private var previous: [Float]?

    /// A monitor applying `options`.
    public init(options: AutoScouts) { self.options = options }

    /// Records the guide after `scouts` scouts and decides what to do next.
    public mutating func observe(guide: [Float], scouts: Int) -> ConvergenceDecision {
        var change: Double? = nil, rank: Double? = nil
        if let p = previous {
            var diff = 0.0, norm = 0.0
            for (a, b) in zip(guide, p) {
                diff += Double(a - b) * Double(a - b)
                norm += Double(a) * Double(a)
            }
            change = norm > 0 ? (diff / norm).squareRoot() : (diff > 0 ? .infinity : 0)
            rank = ConvergenceMonitor.spearman(guide, p)
        }
        trace.append(ConvergencePoint(scouts: scouts, relativeChange: change, rankCorrelation: rank))
        previous = guide
        if let c = change, c < options.tolerance { return .stop(converged: true) }
        if scouts + options.batch > options.maxScouts { return .stop(converged: false) }
        return .extend(by: options.batch)
    }

    /// Whether the last decision was convergence.
    public var converged: Bool {
        guard let c = trace.last?.relativeChange else { return false }
        return c < options.tolerance
    }

    /// Spearman's rank correlation (average ranks for ties).
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        func ranks(_ x: [Float]) -> [Double] {
            let order = x.indices.sorted { x[$0] < x[$1] }
            var r = [Double](repeating: 0, count: x.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
                let avg = Double(i + j) / 2 + 1
                for k in i...j { r[order[k]] = avg }
                i = j + 1
            }
            return r
        }
        let ra = ranks(a), rb = ranks(b), n = Double(a.count)
        guard n > 1 else { return 1 }
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in ra.indices {
            cov += (ra[i] - ma) * (rb[i] - mb)
            va += (ra[i] - ma) * (ra[i] - ma)
            vb += (rb[i] - mb) * (rb[i] - mb)
        }
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 1
    }
}

/// How `--scouts auto` ended, for reports.
public struct ConvergenceReport: Sendable, Equatable, Codable {
    /// Every round.
    public let trace: [ConvergencePoint]
    /// Whether the tolerance was met (false: stopped at the cap).
    public let converged: Bool
    /// Scouts used.
    public var scouts: Int { trace.last?.scouts ?? 0 }

    /// A report of `monitor`'s rounds.
    public init(_ monitor: ConvergenceMonitor) {
        trace = monitor.trace
        converged = monitor.converged
    }
}

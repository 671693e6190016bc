import GTLEngine

/// How raw per-parameter means become guide values: the choices of the paper, the authors'
/// library, and this project's additions, applied in the order of the properties below.
public struct GuideOptions: Sendable, Equatable, Codable {
    /// Over which set of parameters min and max are taken.
    public enum Scope: String, Sendable, Codable, CaseIterable {
        /// Each weight matrix and bias vector separately: the authors' code. The default.
        case tensor
        /// All parameters together: the paper's text.
        case model
    }
    /// The authors' "focus" modes.
    public enum Focus: String, Sendable, Codable, CaseIterable {
        /// The raw mean, unnormalised.
        case raw
        /// g − min.
        case shift
        /// (g − min) / (max − min): a 0-1 normalisation. The default.
        case minmax
        /// g / max.
        case max
    }
    /// The authors' "temperature" adjustments.
    public enum Temperature: Sendable, Equatable, Codable {
        /// Leave the normalised values as they are.
        case none
        /// Keep the top `fraction` (e.g. 0.01) of each scope as 1 and set the rest to 0.
        case freeze(fraction: Double)
        /// max(0, slope · g − intercept).
        case affine(slope: Double, intercept: Double)
    }

    /// The statistic averaged over scouts.
    public var statistic: TrajectoryStatistic = .squared
    /// Normalisation scope.
    public var scope: Scope = .tensor
    /// Normalisation mode.
    public var focus: Focus = .minmax
    /// Adjustment after normalisation.
    public var temperature: Temperature = .none
    /// Multiplies every value (the library's "scaling").
    public var scale: Double = 1
    /// Values below this become 0 (sparsifying); 0 disables it.
    public var sparsifyBelow: Double = 0
    /// Finally rescale so the mean guide value over the model is 1: guide values sit mostly near
    /// 0, so this separates "which parameters move" from "how fast everything moves".
    public var rescaleToMeanOne: Bool = false

    /// The defaults: squared displacement, min-max per tensor (the authors' code), nothing else.
    public init() {}
}

/// Streaming reducer: folds scout results into per-parameter sums of one statistic, in constant
/// memory in the number of scouts, with a result independent of arrival order (bit for bit),
/// and turns them into guide values.
public struct GuideReducer: Sendable {
    /// The layout the guide values follow.
    public let layout: ParameterLayout
    /// The statistic being reduced.
    public let statistic: TrajectoryStatistic
    private var sum: ExactSum
    /// Each folded scout's final loss by index: the scouts' convergence, for the report. It is the
    /// reducer's only per-scout state (4 bytes a scout, next to the per-parameter sums) and doubles
    /// as the set of indices seen, which makes a re-delivered result harmless.
    private var losses: [Int: Float] = [:]

    /// A reducer of `statistic` for networks of `layout`.
    public init(layout: ParameterLayout, statistic: TrajectoryStatistic) {
        self.layout = layout
        self.statistic = statistic
        sum = ExactSum(count: layout.totalCount)
    }

    /// Number of distinct scouts folded in.
    public var count: Int { losses.count }
    /// Scout indices folded in.
    public var indices: Set<Int> { Set(losses.keys) }
    /// The final loss of every scout folded in, in index order (not arrival order), so the report
    /// of a distributed run matches the in-process one.
    public var scoutLosses: [Float] { losses.keys.sorted().map { losses[$0]! } }
    /// Values clamped at the fixed-point limit so far.
    public var saturated: Int { sum.saturated }

    /// Folds in one scout. A second result for the same index is ignored (returns false), so a
    /// re-delivered result is harmless.
    @discardableResult
    public mutating func add(_ result: ScoutResult) throws -> Bool {
        guard losses[result.index] == nil else { return false }
        guard let values = result.statistics[statistic] else {
            throw GTLError("scout \(result.index) did not record the '\(statistic.rawValue)' statistic")
        }
        guard values.count == layout.totalCount else {
            throw GTLError("scout \(result.index) sent \(values.count) values, the model has \(layout.totalCount) parameters")
        }
        try sum.add(values)
        losses[result.index] = result.finalLoss
        return true
    }

    /// The mean statistic per parameter over the scouts so far.
    public func means() throws -> [Double] {
        guard count > 0 else { throw GTLError("no scout results to reduce") }
        return sum.means(dividingBy: count)
    }

    /// Guide values per parameter, in layout order.
    public func guide(_ options: GuideOptions) throws -> [Float] {
        GuideValues.make(means: try means(), layout: layout, options: options)
    }
}

/// The normalisation pipeline from mean statistics to guide values.
public enum GuideValues {
    /// Applies `options` to `means` (one per parameter, layout order).
    public static func make(means: [Double], layout: ParameterLayout, options: GuideOptions) -> [Float] {
        var g = means
        let groups: [Range<Int>] = options.scope == .tensor ? layout.specs.map(\.range) : [0..<g.count]
        for r in groups where !r.isEmpty {
            let lo = g[r].min()!, hi = g[r].max()!
            for i in r {
                switch options.focus {
                case .raw: break
                case .shift: g[i] -= lo
                case .minmax: g[i] = hi > lo ? (g[i] - lo) / (hi - lo) : 0
                case .max: g[i] = hi > 0 ? g[i] / hi : 0
                }
            }
            switch options.temperature {
            case .none: break
            case .freeze(let fraction):
                // Top `fraction` of the group (at least one value) become 1, the rest 0; ties broken
                // by index so the result is deterministic.
                let keep = max(1, Int((Double(r.count) * fraction).rounded(.up)))
                let ranked = r.sorted { g[$0] != g[$1] ? g[$0] > g[$1] : $0 < $1 }
                let top = Set(ranked.prefix(keep))
                for i in r { g[i] = top.contains(i) ? 1 : 0 }
            case .affine(let slope, let intercept):
                for i in r { g[i] = max(0, slope * g[i] - intercept) }
            }
        }
        for i in g.indices {
            g[i] *= options.scale
            if g[i] < options.sparsifyBelow { g[i] = 0 }
        }
        if options.rescaleToMeanOne {
            let mean = g.reduce(0, +) / Double(max(g.count, 1))
            if mean > 0 { for i in g.indices { g[i] /= mean } }
        }
        return g.map { Float($0) }
    }

    /// Per-tensor summary of guide values, for `gtl inspect` and reports.
    public struct Summary: Sendable, Codable, Equatable {
        /// Tensor name.
        public let name: String
        /// Element count.
        public let count: Int
        /// Extremes and mean.
        public let min, max, mean: Double
        /// 50th, 90th and 99th percentiles.
        public let p50, p90, p99: Double
        /// Fraction of values below 0.01: guide values are heavily skewed towards 0.
        public let nearZero: Double
    }

    /// Summarises `values` (one tensor, or the whole model).
    public static func summary(name: String, _ values: ArraySlice<Float>) -> Summary {
        let s = values.sorted()
        func pct(_ p: Double) -> Double { s.isEmpty ? 0 : Double(s[min(s.count - 1, Int(p * Double(s.count - 1)))]) }
        let mean = s.isEmpty ? 0 : s.reduce(0.0) { $0 + Double($1) } / Double(s.count)
        return Summary(name: name, count: s.count, min: Double(s.first ?? 0), max: Double(s.last ?? 0), mean: mean,
                       p50: pct(0.5), p90: pct(0.9), p99: pct(0.99),
                       nearZero: s.isEmpty ? 0 : Double(s.filter { $0 < 0.01 }.count) / Double(s.count))
    }
}

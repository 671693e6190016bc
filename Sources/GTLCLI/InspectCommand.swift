import Foundation
import GTL
import GTLEngine

/// `gtl inspect FILE`: what a guide (or any safetensors) file holds, per tensor, and how its values
/// are distributed — guide values are heavily skewed towards 0, and that should be visible.
struct InspectCommand: Command {
    static let summary = "summarise a guide or model file (per tensor, distribution)"
    static let help = """
    Usage: gtl inspect FILE.safetensors [--json]

    Prints the metadata (statistic, normalisation, scouts), a per-tensor summary (min, median,
    p90, p99, max, mean, share below 0.01) and a histogram of all values on a log scale.
      --json   the summary as JSON
    """

    let path: String
    let json: Bool

    init(_ args: inout Arguments) throws {
        json = args.flag("json")
        guard let p = args.positional() else { throw UsageError("which file? usage: gtl inspect FILE.safetensors") }
        path = p
    }

    func run() throws -> Int32 {
        let file = try Safetensors.read(URL(fileURLWithPath: path))
        let all = file.order.flatMap { file.tensors[$0]!.storage }
        var summaries = [GuideValues.summary(name: "(all)", all[...])]
        for name in file.order { summaries.append(GuideValues.summary(name: name, file.tensors[name]!.storage[...])) }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(summaries), as: UTF8.self))
            return ExitCode.success
        }
        print("\(path): \(file.order.count) tensors, \(all.count) values")
        for (k, v) in file.metadata.sorted(by: { $0.key < $1.key }) { print("  \(k): \(v)") }
        print("")
        func pad(_ t: String, _ n: Int) -> String { t.padding(toLength: max(n, t.count), withPad: " ", startingAt: 0) }
        print(pad("tensor", 14) + pad("count", 9) + pad("min", 10) + pad("median", 10) + pad("p90", 10) + pad("p99", 10)
              + pad("max", 10) + pad("mean", 10) + "<0.01")
        for s in summaries {
            let cols = [s.min, s.p50, s.p90, s.p99, s.max, s.mean].map { pad(String(format: "%.4g", $0), 10) }.joined()
            print(pad(s.name, 14) + pad(String(s.count), 9) + cols + String(format: "%.1f%%", 100 * s.nearZero))
        }
        print("\ndistribution of all values:")
        let edges: [Float] = [0, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.25, 0.5, 0.75, 1]
        var counts = [Int](repeating: 0, count: edges.count + 1)   // below 0, bins, at or above the last edge
        for v in all {
            if v < 0 { counts[0] += 1 } else if let i = edges.lastIndex(where: { v >= $0 }) { counts[i + 1] += 1 }
        }
        let labels = ["< 0"] + (0..<(edges.count - 1)).map { "[\(edges[$0]), \(edges[$0 + 1]))" } + [">= \(edges.last!)"]
        let most = max(counts.max() ?? 1, 1)
        for (label, c) in zip(labels, counts) where c > 0 || label != "< 0" {
            print(pad(label, 16) + pad(String(c), 9) + String(format: "%5.1f%% ", 100 * Double(c) / Double(max(all.count, 1)))
                  + String(repeating: "#", count: 40 * c / most))
        }
        return ExitCode.success
    }
}

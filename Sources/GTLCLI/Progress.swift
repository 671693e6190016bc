import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress of long work on standard error: a redrawn bar on a terminal, a line every few
/// seconds otherwise (batch logs must stay readable).
struct ProgressDisplay {
    let label: String
    var total: Int
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastLine: UInt64 = 0
    private let terminal = isatty(2) == 1

    init(_ label: String, total: Int) {
        self.label = label
        self.total = total
    }

    private var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Reports `done` of `total`.
    mutating func update(_ done: Int, extra: String = "") {
        let t = elapsed
        let rate = t > 0 ? Double(done) / t : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let text = "\(label) \(done)/\(total)  " + String(format: "%.1f/s  ETA %.0fs", rate, eta) + (extra.isEmpty ? "" : "  " + extra)
        if terminal {
            let width = 30, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
            if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let now = DispatchTime.now().uptimeNanoseconds
            if done >= total || now - lastLine > 5_000_000_000 {
                lastLine = now
                FileHandle.standardError.write(Data("\(text)\n".utf8))
            }
        }
    }
}

/// A line of status on standard error.
func note(_ text: String) {
    FileHandle.standardError.write(Data("\(text)\n".utf8))
}

import CWire

// A ScoutResult carries one float array per parameter tensor. Handing it to protobuf-c in one
// pack call would need every array's storage borrowed at once, i.e. one nested closure per
// statistic, and that recursion overflowed the stack (debug build, 5,000 statistics). Instead
// the body is packed in parts, each by protobuf-c, and concatenated:
//
//   envelope{version}  0x32 len  result{fields 1-4}  (0x2a len statistic)*  result{fields 6-8}
//
// proto3 omits zero-valued scalars, so a ScoutResult struct with only fields 1-4 set packs to
// exactly those fields, and likewise for 6-8. The concatenation is therefore byte-identical to
// protobuf-c packing the whole message (fields in number order); WireFormatTests pins it.
// Only the two length-delimited headers are written by hand.

/// Field numbers as wire tags (wire type 2, length-delimited).
private let envelopeResultTag: UInt8 = 6 << 3 | 2
private let resultStatisticTag: UInt8 = 5 << 3 | 2

/// The sizes of every part of an encoded ScoutResult envelope, and the writer for them.
struct ResultFrames {
    let result: ScoutResult
    private let versionSize: Int
    private let headSize: Int
    private let statisticSizes: [Int]
    private let tailSize: Int
    private let bodySize: Int
    /// Total encoded size in bytes.
    let size: Int

    init(_ result: ScoutResult) {
        self.result = result
        versionSize = withVersionOnlyEnvelope { gtl__wire__envelope__get_packed_size($0) }
        headSize = result.withCHead { gtl__wire__scout_result__get_packed_size($0) }
        tailSize = result.withCTail { gtl__wire__scout_result__get_packed_size($0) }
        statisticSizes = result.statistics.map { stat in
            stat.withC { gtl__wire__statistic__get_packed_size($0) }
        }
        bodySize = statisticSizes.reduce(headSize + tailSize) { total, n in
            total + 1 + varintSize(UInt64(n)) + n
        }
        size = versionSize + 1 + varintSize(UInt64(bodySize)) + bodySize
    }

    /// Writes the `size` bytes at `out`; returns the count written.
    func write(_ out: UnsafeMutablePointer<UInt8>) -> Int {
        var at = withVersionOnlyEnvelope { gtl__wire__envelope__pack($0, out) }
        out[at] = envelopeResultTag
        at += 1
        at += writeVarint(UInt64(bodySize), out + at)
        at += result.withCHead { gtl__wire__scout_result__pack($0, out + at) }
        for (stat, n) in zip(result.statistics, statisticSizes) {
            out[at] = resultStatisticTag
            at += 1
            at += writeVarint(UInt64(n), out + at)
            let written = stat.withC { gtl__wire__statistic__pack($0, out + at) }
            precondition(written == n, "statistic packed \(written) bytes, promised \(n)")
            at += written
        }
        at += result.withCTail { gtl__wire__scout_result__pack($0, out + at) }
        return at
    }
}

/// Runs `body` with an envelope holding only the protocol version (no body).
private func withVersionOnlyEnvelope<R>(_ body: (UnsafePointer<Gtl__Wire__Envelope>) -> R) -> R {
    var env = Gtl__Wire__Envelope()
    gtl__wire__envelope__init(&env)
    env.protocol_version = wireProtocolVersion
    return body(&env)
}

/// Bytes a base-128 varint of `value` takes.
private func varintSize(_ value: UInt64) -> Int {
    var v = value, n = 1
    while v >= 0x80 { v >>= 7; n += 1 }
    return n
}

/// Writes `value` as a base-128 varint at `out`; returns the bytes written.
private func writeVarint(_ value: UInt64, _ out: UnsafeMutablePointer<UInt8>) -> Int {
    var v = value, n = 0
    while v >= 0x80 {
        out[n] = UInt8(truncatingIfNeeded: v) | 0x80
        v >>= 7
        n += 1
    }
    out[n] = UInt8(v)
    return n + 1
}

extension ScoutResult {
    /// The C struct with only fields 1-4 set (those before `statistics`).
    fileprivate func withCHead<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__ScoutResult>) -> R) -> R {
        var m = Gtl__Wire__ScoutResult()
        gtl__wire__scout_result__init(&m)
        m.task_id = taskID
        m.incarnation = incarnation
        m.attempt = attempt
        return withCString(jobID) { job in
            m.job_id = job
            return body(&m)
        }
    }

    /// The C struct with only fields 6-8 set (those after `statistics`).
    fileprivate func withCTail<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__ScoutResult>) -> R) -> R {
        var m = Gtl__Wire__ScoutResult()
        gtl__wire__scout_result__init(&m)
        m.final_loss = finalLoss
        m.steps = steps
        m.train_seconds = trainSeconds
        return body(&m)
    }
}

extension Statistic {
    /// The C struct borrowing this statistic's name and float storage.
    fileprivate func withC<R>(_ body: (UnsafeMutablePointer<Gtl__Wire__Statistic>) -> R) -> R {
        var m = Gtl__Wire__Statistic()
        gtl__wire__statistic__init(&m)
        return withCString(name) { cName in
            values.withUnsafeBufferPointer { floats in
                m.name = cName
                m.n_values = floats.count
                m.values = UnsafeMutablePointer(mutating: floats.baseAddress)
                return body(&m)
            }
        }
    }
}

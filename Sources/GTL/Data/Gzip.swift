import CZlib

/// Transparent gzip decompression for loaders, so users can point at `.gz` files as distributed
/// (MNIST, Fashion-MNIST, the bundled digits) without unpacking them first.
public enum Gzip {
    /// True when `data` starts with the gzip magic bytes 1f 8b. Detection is by content, not by file
    /// name, because downloaded files are often renamed or already decompressed by a browser.
    public static func isGzip(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b
    }

    /// Returns `data` inflated if it is gzip, or unchanged otherwise.
    ///
    /// Handles concatenated gzip members (as `cat a.gz b.gz` produces) and ignores trailing zero
    /// padding; the output size is not trusted from the header (ISIZE is only a hint, modulo 2^32),
    /// the buffer grows until the stream ends. Corrupt, truncated or otherwise undecodable input
    /// throws a `DataError` naming `source`, rather than returning a silently short result.
    public static func gunzipIfNeeded(_ data: [UInt8], source: String) throws -> [UInt8] {
        guard isGzip(data) else { return data }
        guard data.count <= Int(UInt32.max) else {
            throw DataError(file: source, problem: "gzip file larger than 4 GiB is not supported")
        }

        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw DataError(file: source, problem: "cannot initialise zlib (status \(initStatus))")
        }
        defer { inflateEnd(&stream) }

        // ISIZE (last four bytes, little-endian) is the uncompressed size of the last member modulo
        // 2^32. Use it as a first guess, bounded by deflate's best possible ratio (~1032:1) so a
        // corrupt trailer cannot ask for gigabytes; +1 lets a correct guess finish without a resize.
        let n = data.count
        let isize = Int(data[n - 4]) | Int(data[n - 3]) << 8 | Int(data[n - 2]) << 16 | Int(data[n - 1]) << 24
        let initial = max(min(isize, n * 1032) + 1, 4096)
        var output = [UInt8](repeating: 0, count: initial)
        var produced = 0

        try data.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!)
            stream.avail_in = UInt32(input.count)
            while true {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: output.count))
                }
                let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                    let room = min(out.count - produced, Int(UInt32.max))
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return status
                }
                let consumed = input.count - Int(stream.avail_in)
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    let rest = input[consumed...]
                    if rest.count >= 2 && rest[consumed] == 0x1f && rest[consumed + 1] == 0x8b {
                        inflateReset(&stream)  // next member of a concatenated gzip file
                        continue
                    }
                    if rest.allSatisfy({ $0 == 0 }) { return }
                    throw DataError(file: source, location: "byte \(consumed)",
                                    problem: "unexpected data after the end of the gzip stream")
                case Z_BUF_ERROR:
                    // No progress possible with output room left: the input ran out mid-stream.
                    throw DataError(file: source, location: "byte \(consumed)",
                                    problem: "truncated gzip stream (file ends before the compressed data does)")
                case Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid compressed data"
                    throw DataError(file: source, location: "byte \(consumed)", problem: "corrupt gzip data (\(reason))")
                case Z_MEM_ERROR:
                    throw DataError(file: source, problem: "out of memory while decompressing")
                default:
                    throw DataError(file: source, location: "byte \(consumed)",
                                    problem: "zlib failed with status \(status)")
                }
            }
        }
        output.removeLast(output.count - produced)
        return output
    }
}

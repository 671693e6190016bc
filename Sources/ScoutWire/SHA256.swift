/// SHA-256 (FIPS 180-4) in pure Swift, for content-addressing model snapshots and datasets.
///
/// The cluster names snapshots by hash so workers can cache them across jobs and verify a
/// transfer end to end; no crypto library is available to the build, hence this one. It is a
/// value type: copying a partially-fed hasher forks it, and `finalize()` leaves it untouched.
///
///     var h = SHA256()
///     h.update(chunk1); h.update(chunk2)
///     let digest = h.finalize()        // 32 bytes
public struct SHA256: Sendable {
    /// Digest length in bytes.
    public static let digestSize = 32
    /// Block length in bytes.
    static let blockSize = 64

    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    /// Bytes of an incomplete block, waiting for more input (never a full block).
    private var pending: [UInt8] = []
    /// Total message length so far, in bytes.
    private var length: UInt64 = 0

    /// A hasher with no input yet.
    public init() {
        pending.reserveCapacity(SHA256.blockSize)
    }

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest of `bytes` in one call (array convenience).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Feeds more message bytes; any split of the message into updates gives the same digest,
    /// so large files can be hashed while they stream in.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var rest = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)

        if !pending.isEmpty {
            let take = min(SHA256.blockSize - pending.count, remaining)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: rest, count: take))
            rest += take
            remaining -= take
            if pending.count < SHA256.blockSize { return }
            let full = pending
            full.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
            pending.removeAll(keepingCapacity: true)
        }
        let blocks = remaining / SHA256.blockSize
        if blocks > 0 {
            compress(rest, blocks: blocks)
            rest += blocks * SHA256.blockSize
            remaining -= blocks * SHA256.blockSize
        }
        if remaining > 0 {
            pending.append(contentsOf: UnsafeRawBufferPointer(start: rest, count: remaining))
        }
    }

    /// Feeds more message bytes (array convenience).
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything fed so far. Does not change the hasher, so more
    /// `update`s may follow (the digest then covers the longer message).
    public func finalize() -> [UInt8] {
        var copy = self
        // Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian.
        var tail: [UInt8] = [0x80]
        let afterMarker = (pending.count + 1) % SHA256.blockSize
        let zeros = afterMarker <= 56 ? 56 - afterMarker : 120 - afterMarker
        tail.append(contentsOf: repeatElement(0, count: zeros))
        let bits = length &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
        let savedLength = copy.length
        tail.withUnsafeBytes { copy.update($0) }
        precondition(copy.pending.isEmpty, "SHA-256 padding did not end on a block boundary")
        copy.length = savedLength

        var digest = [UInt8]()
        digest.reserveCapacity(SHA256.digestSize)
        for word in [copy.h.0, copy.h.1, copy.h.2, copy.h.3, copy.h.4, copy.h.5, copy.h.6, copy.h.7] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// Runs the compression function over `blocks` consecutive 64-byte blocks at `p`.
    private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        var (h0, h1, h2, h3, h4, h5, h6, h7) = h
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            SHA256.roundConstants.withUnsafeBufferPointer { k in
                for block in 0..<blocks {
                    let base = p + block * SHA256.blockSize
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t - 15], y = w[t - 2]
                        let s0 = x.rotr(7) ^ x.rotr(18) ^ (x >> 3)
                        let s1 = y.rotr(17) ^ y.rotr(19) ^ (y >> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
                    // Eight rounds per iteration with the roles renamed instead of shuffling
                    // eight variables every round.
                    var t = 0
                    while t < 64 {
                        SHA256.round(a, b, c, &d, e, f, g, &hh, k[t] &+ w[t])
                        SHA256.round(hh, a, b, &c, d, e, f, &g, k[t + 1] &+ w[t + 1])
                        SHA256.round(g, hh, a, &b, c, d, e, &f, k[t + 2] &+ w[t + 2])
                        SHA256.round(f, g, hh, &a, b, c, d, &e, k[t + 3] &+ w[t + 3])
                        SHA256.round(e, f, g, &hh, a, b, c, &d, k[t + 4] &+ w[t + 4])
                        SHA256.round(d, e, f, &g, hh, a, b, &c, k[t + 5] &+ w[t + 5])
                        SHA256.round(c, d, e, &f, g, hh, a, &b, k[t + 6] &+ w[t + 6])
                        SHA256.round(b, c, d, &e, f, g, hh, &a, k[t + 7] &+ w[t + 7])
                        t += 8
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= hh
                }
            }
        }
        h = (h0, h1, h2, h3, h4, h5, h6, h7)
    }

    /// One round: with (a...h) named as in FIPS 180-4, updates d (d + T1) and h (T1 + T2).
    @inline(__always)
    private static func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                              _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
        let t1 = h &+ (e.rotr(6) ^ e.rotr(11) ^ e.rotr(25)) &+ ((e & f) ^ (~e & g)) &+ kw
        let t2 = (a.rotr(2) ^ a.rotr(13) ^ a.rotr(22)) &+ ((a & b) ^ (a & c) ^ (b & c))
        d = d &+ t1
        h = t1 &+ t2
    }

    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
}

extension UInt32 {
    /// Rotate right; the compiler turns this into a single `ror`.
    @inline(__always)
    fileprivate func rotr(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}

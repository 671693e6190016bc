/// A seedable, fast pseudo-random generator (xoshiro256**), seeded through SplitMix64.
///
/// Swift's `SystemRandomNumberGenerator` cannot be seeded, and reproducibility is a promise of
/// this project: the same seed must give bit-identical training on the same machine. The state is
/// a plain value, so copying a generator forks an identical stream.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeds the four words of state from `seed` with SplitMix64, as the xoshiro authors advise,
    /// so that nearby seeds (0, 1, 2, ...) still give unrelated streams.
    public init(seed: UInt64) {
        var sm = seed
        s0 = RandomGenerator.splitMix(&sm)
        s1 = RandomGenerator.splitMix(&sm)
        s2 = RandomGenerator.splitMix(&sm)
        s3 = RandomGenerator.splitMix(&sm)
    }

    /// Derives an independent seed from a parent seed and a path of indices (for example the job
    /// seed and a scout index), so that any sub-stream is reproducible from its address alone.
    public static func derive(_ seed: UInt64, _ path: UInt64...) -> UInt64 {
        var h = seed &+ 0x9E37_79B9_7F4A_7C15
        var state = h
        h = splitMix(&state)
        for p in path {
            state = h ^ (p &* 0xBF58_476D_1CE4_E5B9)
            h = splitMix(&state)
        }
        return h
    }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RandomGenerator.rotl(s3, 45)
        return result
    }

    /// A uniform Float in [0, 1) built from the top 24 bits, so every value is exactly representable.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box-Muller). Deterministic: it uses no cached second value, so
    /// the stream position depends only on how many samples were drawn.
    public mutating func nextGaussian() -> Float {
        var u1 = nextUniform()
        if u1 < 1e-7 { u1 = 1e-7 }
        let u2 = nextUniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Shuffles `array` in place (Fisher-Yates) with this generator's stream.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

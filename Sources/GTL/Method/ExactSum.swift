/// Order-independent, exact summation of non-negative Float32 values, per parameter.
///
/// Floating-point addition is not associative, so a mean accumulated in arrival order would
/// differ in its last bits when the cluster delivers scouts in another order. Each value is
/// instead converted exactly to fixed point (2⁻⁸⁰ resolution) and summed in 128-bit integers:
/// integer addition is associative, so the sum is bit-identical for any order of arrival.
/// Values below 2⁻⁸⁰ (about 8e-25) round down to 0; values of 2³² or more saturate (counted).
public struct ExactSum: Sendable {
    /// Fraction bits of the fixed-point representation.
    public static let fractionBits = 80
    /// The saturation limit, 2³²: with it, 2¹⁶ scouts cannot overflow 128 bits.
    public static let limitExponent = 32
    private var sums: [UInt128]
    /// How many values were clamped at the limit (a diverged scout, worth reporting).
    public private(set) var saturated = 0

    /// A zeroed accumulator for `count` parameters.
    public init(count: Int) { sums = [UInt128](repeating: 0, count: count) }

    /// Number of parameters.
    public var count: Int { sums.count }

    /// Adds one scout's values; throws if any is negative or not finite.
    public mutating func add(_ values: [Float]) throws {
        precondition(values.count == sums.count, "expected \(sums.count) values, got \(values.count)")
        var clamped = 0
        var bad: Int? = nil
        values.withUnsafeBufferPointer { v in
            sums.withUnsafeMutableBufferPointer { s in
                for i in 0..<v.count {
                    let x = v[i]
                    guard x >= 0, x.isFinite else { bad = bad ?? i; continue }
                    let (f, sat) = ExactSum.fixedPoint(x)
                    s[i] &+= f
                    if sat { clamped += 1 }
                }
            }
        }
        if let i = bad { throw GTLError("statistic value \(values[i]) at parameter \(i) is negative or not finite") }
        saturated += clamped
    }

    /// Exact fixed-point image of a non-negative finite Float: its 24-bit significand shifted.
    @inline(__always)
    static func fixedPoint(_ x: Float) -> (UInt128, Bool) {
        let bits = x.bitPattern
        let exponent = Int((bits >> 23) & 0xFF)
        let significand = UInt128(exponent == 0 ? bits & 0x7F_FFFF : (bits & 0x7F_FFFF) | 0x80_0000)
        // x = significand · 2^(max(exponent, 1) − 150)
        let shift = max(exponent, 1) - 150 + fractionBits
        if shift >= 0 {
            if max(exponent, 1) - 127 >= limitExponent { return (UInt128(1) << (limitExponent + fractionBits), true) }
            return (significand << shift, false)
        }
        return (-shift >= 24 ? 0 : significand >> (-shift), false)
    }

    /// The sums divided by `n`, as Doubles (deterministic: one rounding per parameter).
    public func means(dividingBy n: Int) -> [Double] {
        let scale = 1 / (Double(n) * 0x1p80)
        return sums.map { Double($0) * scale }
    }
}

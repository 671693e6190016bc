/// Lower-case hexadecimal of `bytes`, e.g. for naming snapshot files by their SHA-256 and for
/// logging content addresses in the form `sha256sum` prints.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        for (i, b) in bytes.enumerated() {
            out[2 * i] = digits[Int(b >> 4)]
            out[2 * i + 1] = digits[Int(b & 0x0F)]
        }
        return bytes.count * 2
    }
}

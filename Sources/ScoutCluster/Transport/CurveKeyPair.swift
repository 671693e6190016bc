import CZmq

/// Z85 text of CURVE keys: the 40-character form libzmq accepts for key options and that the
/// key files and allow-lists use, so keys can be pasted, diffed and commented.
public enum Z85Key {
    /// Length of a Z85-encoded 32-byte key.
    public static let length = 40

    /// Decodes a Z85 key to its 32 raw bytes, or nil if it is not exactly 40 valid Z85
    /// characters (wrong length, a character outside the alphabet, or a group that overflows).
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == length else { return nil }
        var raw = [UInt8](repeating: 0, count: 32)
        let ok = (utf8 + [0]).withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                src.baseAddress!.withMemoryRebound(to: CChar.self, capacity: src.count) {
                    zmq_z85_decode(dst.baseAddress, $0) != nil
                }
            }
        }
        return ok ? raw : nil
    }

    /// Encodes 32 raw key bytes (e.g. the client key in a ZAP request) as Z85 text.
    public static func encode(_ raw: [UInt8]) -> String? {
        guard raw.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: length + 1)
        let ok = raw.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, 32) != nil }
        guard ok else { return nil }
        return String(decoding: out.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `text` is a well-formed Z85 key.
    public static func isValid(_ text: String) -> Bool { decode(text) != nil }
}

/// A CURVE (Curve25519) key pair in Z85 text. A value type because keys are plain data that is
/// copied into socket options; the secret half should only ever come from `generate()` or a
/// 0600 key file (`CurveKeyFiles`).
public struct CurveKeyPair: Sendable, Equatable {
    /// The public key, shared with peers (the coordinator's goes to every worker; a worker's goes
    /// on the coordinator's allow-list).
    public let publicKey: String
    /// The secret key; never logged or sent.
    public let secretKey: String

    /// Wraps an existing pair after checking both are valid Z85 keys and that the public key is
    /// the one derived from the secret key, so a mismatched pair fails here and not as a
    /// mysterious handshake failure later.
    public init(publicKey: String, secretKey: String) throws {
        guard Z85Key.isValid(publicKey) else { throw ClusterError("CURVE public key is not a 40-character Z85 key") }
        let derived = try Self.publicKey(forSecretKey: secretKey)
        guard derived == publicKey else {
            throw ClusterError("CURVE public key does not belong to the secret key")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Rebuilds the pair from the secret key alone (key files only need to hold the secret).
    public init(secretKey: String) throws {
        self.publicKey = try Self.publicKey(forSecretKey: secretKey)
        self.secretKey = secretKey
    }

    /// Generates a fresh pair with libzmq's `zmq_curve_keypair` (libsodium randomness).
    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: Z85Key.length + 1)
        var sec = [CChar](repeating: 0, count: Z85Key.length + 1)
        guard zmq_curve_keypair(&pub, &sec) == 0 else {
            throw ZmqErrno.error("zmq_curve_keypair (is libzmq built with CURVE?)")
        }
        return try CurveKeyPair(secretKey: Self.string(sec))
    }

    /// The public key for a secret key, via `zmq_curve_public`.
    static func publicKey(forSecretKey secret: String) throws -> String {
        guard Z85Key.isValid(secret) else { throw ClusterError("CURVE secret key is not a 40-character Z85 key") }
        var pub = [CChar](repeating: 0, count: Z85Key.length + 1)
        guard zmq_curve_public(&pub, secret) == 0 else { throw ZmqErrno.error("zmq_curve_public") }
        return string(pub)
    }

    private static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix(Z85Key.length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension CurveKeyPair: CustomStringConvertible {
    /// Shows only the public key so that printing a pair can never leak the secret.
    public var description: String { "CurveKeyPair(public: \(publicKey), secret: <redacted>)" }
}

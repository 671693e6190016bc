import Foundation

/// Key files for CURVE: `NAME.key` holds the secret key (mode 0600) and `NAME.pub` the public key
/// (mode 0644), each as a Z85 line under a `#` comment. Secret keys are refused when group or
/// others can access them, the way ssh refuses a loose private key: a readable secret lets anyone
/// on the machine impersonate the coordinator or a worker.
public enum CurveKeyFiles {
    /// Writes `NAME.key` and `NAME.pub` into `directory` and returns their paths. Refuses to
    /// replace existing files unless `overwrite` (replacing a key silently locks out peers). Each
    /// file is written to a temporary name with its final mode and renamed into place, so a
    /// reader never sees a partial or briefly world-readable secret.
    @discardableResult
    public static func writeKeyPair(_ pair: CurveKeyPair, directory: String, name: String, overwrite: Bool = false) throws -> (secretKeyPath: String, publicKeyPath: String) {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw ClusterError("key name \(quoted(name)) must be a plain file name (no '/', not starting with '.')")
        }
        let dir = directory as NSString
        let secretPath = dir.appendingPathComponent(name + ".key")
        let publicPath = dir.appendingPathComponent(name + ".pub")
        if !overwrite {
            for p in [secretPath, publicPath] where FileManager.default.fileExists(atPath: p) {
                throw ClusterError("\(p) already exists; refusing to overwrite a key (pass overwrite to replace it)")
            }
        }
        try writeFile(secretPath, mode: 0o600,
                      text: "# CURVE secret key for \(name). Keep private: mode 0600, never copy it to other machines.\n\(pair.secretKey)\n")
        try writeFile(publicPath, mode: 0o644,
                      text: "# CURVE public key for \(name). Share it: put worker keys on the coordinator's allow-list.\n\(pair.publicKey)\n")
        return (secretPath, publicPath)
    }

    /// Reads a secret key file (`NAME.key`) and derives the pair. Throws if the file is
    /// accessible by group or others, naming the file, its mode, and the chmod that fixes it.
    public static func readKeyPair(secretKeyFile path: String) throws -> CurveKeyPair {
        let (text, mode) = try readKeyFile(path)
        if mode & 0o077 != 0 {
            throw ClusterError(
                "secret key file \(path) has mode \(String(mode & 0o777, radix: 8)), so other users can read it; "
                    + "refusing to use it. Run: chmod 600 \(path) (and generate a new key if it may have leaked)")
        }
        let keys = try parseKeyLines(text, source: path)
        guard keys.count == 1 else { throw ClusterError("secret key file \(path) must hold exactly one key, found \(keys.count)") }
        return try CurveKeyPair(secretKey: keys[0])
    }

    /// Reads a public key file (`NAME.pub`), e.g. the coordinator's key on a worker.
    public static func readPublicKey(file path: String) throws -> String {
        let keys = try parseKeyLines(try readKeyFileText(path), source: path)
        guard keys.count == 1 else { throw ClusterError("public key file \(path) must hold exactly one key, found \(keys.count)") }
        return keys[0]
    }

    private static func writeFile(_ path: String, mode: mode_t, text: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ClusterError("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, mode) == 0  // the umask may have removed bits; set exactly
        let bytes = Array(text.utf8)
        var written = 0
        while ok && written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false } else { written += n }
        }
        ok = ok && fsync(fd) == 0
        let err = errno
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let e = ok ? errno : err
            unlink(tmp)
            throw ClusterError("cannot write \(path): \(String(cString: strerror(e)))")
        }
    }
}

/// Reads a small key file and returns its text and permission bits (from fstat on the open
/// descriptor, so the mode checked is that of the file actually read).
func readKeyFile(_ path: String) throws -> (text: String, mode: mode_t) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ClusterError("cannot open key file \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw ClusterError("cannot stat \(path): \(String(cString: strerror(errno)))") }
    guard st.st_mode & S_IFMT == S_IFREG else { throw ClusterError("key file \(path) is not a regular file") }
    guard st.st_size <= 1 << 20 else { throw ClusterError("key file \(path) is \(st.st_size) bytes; not a key file") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw ClusterError("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes += chunk[..<n]
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ClusterError("key file \(path) is not UTF-8 text")
    }
    return (text, st.st_mode)
}

/// Text of a key file whose permissions do not matter (public keys, allow-lists).
func readKeyFileText(_ path: String) throws -> String { try readKeyFile(path).text }

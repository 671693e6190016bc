/// Refuses to bind a plaintext socket where other machines can reach it.
///
/// Plaintext ZMTP gives anyone who can reach the port the power to submit results and receive
/// model snapshots, so binding a non-loopback address requires CURVE, or an explicit `insecure`
/// (the CLI's `--insecure`) for trusted networks. Loopback means `tcp://127.x.x.x`,
/// `tcp://localhost` and `tcp://[::1]`; `ipc://` and `inproc://` never leave the machine.
/// Anything else (`tcp://*`, `tcp://0.0.0.0`, a host name, an interface name, other transports)
/// counts as exposed.
public func checkBindSecurity(endpoint: String, curve: Bool, insecure: Bool) throws {
    if curve || insecure || isLocalOnlyEndpoint(endpoint) { return }
    throw ClusterError(
        "refusing to bind \(endpoint) without CURVE: it is reachable from other machines and plaintext "
            + "would let anyone on the network submit results or read model snapshots. Configure CURVE "
            + "keys (a server key pair and an allow-list of worker public keys), bind a loopback "
            + "address, or pass --insecure on a trusted network.")
}

/// True for endpoints only this machine can reach (see `checkBindSecurity`).
func isLocalOnlyEndpoint(_ endpoint: String) -> Bool {
    if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
    guard endpoint.hasPrefix("tcp://") else { return false }
    let address = endpoint.dropFirst("tcp://".count)
    // A "source;destination" form is only meaningful for connect; treat it as exposed.
    if address.contains(";") { return false }
    let host: Substring
    if address.hasPrefix("[") {
        guard let close = address.firstIndex(of: "]") else { return false }
        host = address[address.index(after: address.startIndex)..<close]
        return host == "::1"
    }
    guard let colon = address.lastIndex(of: ":") else { return false }
    host = address[..<colon]
    if host == "localhost" { return true }
    let octets = host.split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4, octets[0] == "127" else { return false }
    return octets.allSatisfy { o in
        !o.isEmpty && o.count <= 3 && o.allSatisfy(\.isASCII) && o.allSatisfy(\.isNumber) && Int(o).map { $0 <= 255 } == true
    }
}

import ScoutWire

// Credit-based snapshot transfer: a worker asks for `credit` chunks from `offset` and gets at
// most that many (and at most `maxCredit`), so the coordinator's per-worker send queue is
// bounded by what the worker can absorb and heartbeats are never stuck behind a whole model.

extension CoordinatorCore {
    mutating func serveSnapshot(to peer: PeerID, _ request: SnapshotRequest, into out: inout [CoordinatorDirective]) {
        guard request.snapshotHash == config.snapshotHash else {
            let message = "unknown snapshot \(hexString(request.snapshotHash)); this job serves \(hexString(config.snapshotHash))"
            out.append(.send(to: peer, .error(ErrorReport(code: ClusterErrorCode.unknownSnapshot.rawValue, message: message))))
            return
        }
        let size = config.snapshotSize
        guard request.offset < size else {
            out.append(.log("\(peer) asked for snapshot bytes from \(request.offset), past its end (\(size) bytes)"))
            return
        }
        let chunk = UInt64(request.chunkSize == 0 ? config.maxChunkSize : min(Int(request.chunkSize), config.maxChunkSize))
        let credit = min(Int(request.credit), config.maxCredit)
        var offset = request.offset
        for _ in 0 ..< credit where offset < size {
            let length = min(chunk, size - offset)
            out.append(.sendChunk(to: peer, snapshotHash: config.snapshotHash, offset: offset, length: Int(length)))
            offset += length
        }
    }
}

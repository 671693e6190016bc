import Foundation
import GTL
import GTLEngine
import ScoutWire

/// What a worker needs besides the base snapshot to run any scout of a job: the job itself and
/// the content hash of the dataset it must train on. Workers load the dataset from the job's
/// spec (embedded, or a path on their host) and refuse to train when the hash differs, so a
/// stale or different file on one host cannot silently change the guide values.
public struct JobPackage: Sendable, Equatable, Codable {
    /// The job.
    public var job: JobConfig
    /// SHA-256 (hex) of the dataset's shape, features and labels.
    public var datasetSHA256: String

    /// Packages `job` for data whose hash is `datasetSHA256`.
    public init(job: JobConfig, datasetSHA256: String) {
        self.job = job
        self.datasetSHA256 = datasetSHA256
    }

    /// Canonical JSON bytes (sorted keys): the task assignment's `jobSpec`.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return [UInt8](try e.encode(self))
    }

    /// Decodes a `jobSpec`; the error says what was wrong.
    public static func decode(_ bytes: [UInt8]) throws -> JobPackage {
        do { return try JSONDecoder().decode(JobPackage.self, from: Data(bytes)) }
        catch { throw ClusterError("job spec from the coordinator is not a valid job package: \(error)") }
    }
}

/// Content hashes that bind journals, snapshots and datasets to one job.
public enum ContentHash {
    /// SHA-256 of a dataset's per-sample shape, features (raw Float32 bytes) and labels.
    public static func dataset(_ data: Dataset) -> [UInt8] {
        var h = SHA256()
        let shape = data.featureShape.map { UInt64($0).littleEndian } + [UInt64(data.classCount).littleEndian]
        shape.withUnsafeBytes { h.update($0) }
        data.features.withUnsafeBytes { h.update($0) }
        data.labels.withUnsafeBytes { h.update($0) }
        return h.finalize()
    }
}

/// Converts scout results between the method's value (statistics keyed by kind) and the wire's
/// (statistics keyed by name), rejecting names this build does not know.
public enum ResultConversion {
    /// The wire form of a scout result.
    public static func toWire(_ r: GTL.ScoutResult, jobID: String, incarnation: UInt64, attempt: UInt32,
                              seconds: Double) -> ScoutWire.ScoutResult {
        let stats = TrajectoryStatistic.allCases.compactMap { kind in
            r.statistics[kind].map { Statistic(name: kind.rawValue, values: $0) }
        }
        return ScoutWire.ScoutResult(jobID: jobID, taskID: UInt64(r.index), incarnation: incarnation, attempt: attempt,
                                     statistics: stats, finalLoss: Double(r.finalLoss), steps: UInt64(r.steps),
                                     trainSeconds: seconds)
    }

    /// The method's form of a wire result.
    public static func fromWire(_ w: ScoutWire.ScoutResult) throws -> GTL.ScoutResult {
        var stats: [TrajectoryStatistic: [Float]] = [:]
        for s in w.statistics {
            guard let kind = TrajectoryStatistic(rawValue: s.name) else {
                throw ClusterError("scout \(w.taskID): unknown statistic '\(s.name)'")
            }
            guard stats[kind] == nil else { throw ClusterError("scout \(w.taskID): statistic '\(s.name)' sent twice") }
            stats[kind] = s.values
        }
        return GTL.ScoutResult(index: Int(w.taskID), statistics: stats, finalLoss: Float(w.finalLoss), steps: Int(w.steps))
    }
}

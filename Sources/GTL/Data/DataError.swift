import Foundation

/// A data problem reported in terms a user can act on: which file, where in it, and what is wrong.
///
/// Loaders throw this instead of crashing or returning partial data, because a bad download or a
/// mistyped path is the common case when pointing the tool at a new data set, and the fix is always
/// "look at this file at this place". `description` reads like a compiler diagnostic, e.g.
/// `digits.csv: line 12: expected 65 columns, found 64`.
public struct DataError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The file (or, for in-memory checks, the data set name or spec) the problem belongs to,
    /// so that messages from a multi-file load (IDX images + labels) say which file is at fault.
    public var file: String
    /// Where in the file, when it is known: "line 12, column 65", "byte 16"; `nil` for whole-file problems.
    public var location: String?
    /// What is wrong, phrased as expected-versus-found where possible.
    public var problem: String

    /// Creates an error; loaders build these directly so every message has the same shape.
    public init(file: String, location: String? = nil, problem: String) {
        self.file = file
        self.location = location
        self.problem = problem
    }

    /// `file: location: problem`, or `file: problem` without a location, so it can be printed as is.
    public var description: String {
        if let location { return "\(file): \(location): \(problem)" }
        return "\(file): \(problem)"
    }

    /// Same as `description`, so `localizedDescription` (used by Foundation and many callers) is useful.
    public var errorDescription: String? { description }
}

/// Reads a whole file, turning Foundation's errors into a `DataError` that names the file.
/// Loaders read files whole because every format here is small enough and parsing in memory is simplest.
func readFileBytes(_ url: URL, source: String) throws -> [UInt8] {
    let path = url.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError(file: source, problem: "no such file")
    }
    guard !isDirectory.boolValue else {
        throw DataError(file: source, problem: "is a directory, expected a file")
    }
    do {
        let data = try Data(contentsOf: url)
        return [UInt8](data)
    } catch {
        throw DataError(file: source, problem: "cannot read: \(error.localizedDescription)")
    }
}

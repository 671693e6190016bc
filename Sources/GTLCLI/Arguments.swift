import Foundation

/// A usage mistake: an unknown flag, a missing or malformed value. Exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads `--flag value`, `--flag=value` and boolean `--flag` options from a command line.
///
/// Deliberately small (no Swift package can be fetched): each command asks for its flags by
/// name, and `finish()` rejects whatever was not asked for, so a typo never passes silently.
///
/// Every flag can also come from the environment, as batch scripts prefer: `--scouts` from
/// `GTL_SCOUTS`, `--curve-secret` from `GTL_CURVE_SECRET`, a boolean flag such as `--resume` from
/// `GTL_RESUME=1`. The command line wins over the environment.
struct Arguments {
    private var items: [String]
    private var used: Set<Int> = []
    private let environment: [String: String]
    /// True when `--help` or `-h` was given.
    let wantsHelp: Bool

    init(_ items: [String], environment: [String: String] = [:]) {
        self.items = items
        self.environment = environment
        wantsHelp = items.contains("--help") || items.contains("-h")
    }

    /// The environment variable that stands for `--name`.
    static func environmentName(_ name: String) -> String {
        "GTL_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The value of `--name`, if present (else of its `GTL_` environment variable).
    mutating func string(_ name: String) throws -> String? {
        if let v = try commandLineString(name) { return v }
        if let v = environment[Arguments.environmentName(name)], !v.isEmpty { return v }
        return nil
    }

    private mutating func commandLineString(_ name: String) throws -> String? {
        for (i, item) in items.enumerated() where !used.contains(i) {
            if item == "--\(name)" {
                guard i + 1 < items.count, !used.contains(i + 1) else { throw UsageError("--\(name) needs a value") }
                used.formUnion([i, i + 1])
                return items[i + 1]
            }
            if item.hasPrefix("--\(name)=") {
                used.insert(i)
                return String(item.dropFirst(name.count + 3))
            }
        }
        return nil
    }

    /// How errors name the flag: `--name`, or its variable when the value came from there.
    private func label(_ name: String) -> String {
        items.contains { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") } ? "--\(name)" : Arguments.environmentName(name)
    }

    /// `--name` parsed by `parse`, which returns nil for a malformed value.
    mutating func value<T>(_ name: String, _ what: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = try string(name) else { return nil }
        guard let v = parse(text) else { throw UsageError("\(label(name)): '\(text)' is not \(what)") }
        return v
    }

    /// An integer flag within `range`.
    mutating func int(_ name: String, in range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let v = try value(name, "an integer", { Int($0) }) else { return nil }
        guard range.contains(v) else { throw UsageError("\(label(name)): \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// A non-negative 64-bit integer flag (seeds).
    mutating func uint64(_ name: String) throws -> UInt64? {
        try value(name, "a non-negative integer", { UInt64($0) })
    }

    /// A floating-point flag within `range`.
    mutating func float(_ name: String, in range: ClosedRange<Float> = -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude) throws -> Float? {
        guard let v = try value(name, "a number", { Float($0) }) else { return nil }
        guard range.contains(v), v.isFinite else { throw UsageError("\(label(name)): \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// One of a fixed set of words.
    mutating func choice(_ name: String, _ options: [String]) throws -> String? {
        guard let v = try string(name) else { return nil }
        guard options.contains(v) else { throw UsageError("\(label(name)): '\(v)' is not one of \(options.joined(separator: ", "))") }
        return v
    }

    /// A boolean flag: present, or its `GTL_` variable set to 1/true/yes.
    mutating func flag(_ name: String) -> Bool {
        if let i = items.firstIndex(of: "--\(name)"), !used.contains(i) {
            used.insert(i)
            return true
        }
        return ["1", "true", "yes"].contains(environment[Arguments.environmentName(name)]?.lowercased() ?? "")
    }

    /// The next positional word, if any.
    mutating func positional() -> String? {
        for (i, item) in items.enumerated() where !used.contains(i) && !item.hasPrefix("-") {
            used.insert(i)
            return item
        }
        return nil
    }

    /// Rejects anything not consumed.
    func finish() throws {
        let rest = items.indices.filter { !used.contains($0) && items[$0] != "--help" && items[$0] != "-h" }
        if let first = rest.first { throw UsageError("unknown argument '\(items[first])' (see --help)") }
    }
}

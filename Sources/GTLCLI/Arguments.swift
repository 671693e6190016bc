/// A usage mistake: an unknown flag, a missing or malformed value. Exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads `--flag value`, `--flag=value` and boolean `--flag` options from a command line.
///
/// Deliberately small (no Swift package can be fetched): each command asks for its flags by
/// name, and `finish()` rejects whatever was not asked for, so a typo never passes silently.
struct Arguments {
    private var items: [String]
    private var used: Set<Int> = []
    /// True when `--help` or `-h` was given.
    let wantsHelp: Bool

    init(_ items: [String]) {
        self.items = items
        wantsHelp = items.contains("--help") || items.contains("-h")
    }

    /// The value of `--name`, if present.
    mutating func string(_ name: String) throws -> String? {
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

    /// `--name` parsed by `parse`, which returns nil for a malformed value.
    mutating func value<T>(_ name: String, _ what: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = try string(name) else { return nil }
        guard let v = parse(text) else { throw UsageError("--\(name): '\(text)' is not \(what)") }
        return v
    }

    /// An integer flag within `range`.
    mutating func int(_ name: String, in range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let v = try value(name, "an integer", { Int($0) }) else { return nil }
        guard range.contains(v) else { throw UsageError("--\(name): \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// A non-negative 64-bit integer flag (seeds).
    mutating func uint64(_ name: String) throws -> UInt64? {
        try value(name, "a non-negative integer", { UInt64($0) })
    }

    /// A floating-point flag within `range`.
    mutating func float(_ name: String, in range: ClosedRange<Float> = -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude) throws -> Float? {
        guard let v = try value(name, "a number", { Float($0) }) else { return nil }
        guard range.contains(v), v.isFinite else { throw UsageError("--\(name): \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// One of a fixed set of words.
    mutating func choice(_ name: String, _ options: [String]) throws -> String? {
        guard let v = try string(name) else { return nil }
        guard options.contains(v) else { throw UsageError("--\(name): '\(v)' is not one of \(options.joined(separator: ", "))") }
        return v
    }

    /// A boolean flag: present or not.
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: "--\(name)"), !used.contains(i) else { return false }
        used.insert(i)
        return true
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

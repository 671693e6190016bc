import Foundation

/// Loader for numeric CSV files with one label column, the lowest-common-denominator format for
/// bringing an arbitrary tabular or small-image data set to the tool (gzipped or not).
///
/// Only plain numeric cells separated by commas are accepted (no quoting, which numeric data does
/// not need). Every cell is checked, and a problem is reported with its line and column, because a
/// CSV exported by hand is where a stray header, a missing value or a text label usually hides.
/// Numbers are parsed straight from the bytes, without creating a `String` per cell, so large files
/// load at I/O speed.
public enum CSV {
    /// Loads `url` as a `Dataset`.
    ///
    /// - Parameters:
    ///   - labelColumn: index of the label column; negative values count from the end (`-1`, the
    ///     default, is the last column), matching the common "features then label" layout.
    ///   - hasHeader: skip the first non-blank line (its column count still sets the expected width).
    ///   - featureShape: per-sample shape, e.g. `[1, 8, 8]` to treat 64 pixel columns as an image;
    ///     its product must equal the number of feature columns. Defaults to `[columns - 1]`.
    ///   - scale: multiplies every feature value, e.g. `1/16` or `1/255` to bring pixels into [0, 1].
    ///   - classCount: label space; labels at or above it are rejected. When `nil` it is
    ///     `classNames.count` if given, else the largest label + 1.
    ///   - classNames: optional class display names.
    ///   - name: the data set's name; defaults to the file name without `.gz` and `.csv`.
    /// - Throws: `DataError` naming the file (and line/column) for ragged rows, non-numeric cells,
    ///   labels that are not non-negative integers or are out of range, a shape that does not fit,
    ///   an empty file, or corrupt gzip.
    public static func load(url: URL, labelColumn: Int = -1, hasHeader: Bool = false, featureShape: [Int]? = nil,
                            scale: Float = 1, classCount: Int? = nil, classNames: [String]? = nil,
                            name: String? = nil) throws -> Dataset {
        let source = url.path
        let bytes = try Gzip.gunzipIfNeeded(readFileBytes(url, source: source), source: source)
        let defaultName = url.lastPathComponent
            .replacingOccurrences(of: ".gz", with: "", options: [.anchored, .backwards])
            .replacingOccurrences(of: ".csv", with: "", options: [.anchored, .backwards])
        return try parse(bytes, source: source, labelColumn: labelColumn, hasHeader: hasHeader,
                         featureShape: featureShape, scale: scale, classCount: classCount,
                         classNames: classNames, name: name ?? defaultName)
    }

    /// Parses CSV text already in memory (inflated). `load` reads a file and calls this; it is
    /// public so in-memory or embedded data goes through the same checks. `source` names the data
    /// in error messages.
    public static func parse(_ bytes: [UInt8], source: String, labelColumn: Int = -1, hasHeader: Bool = false,
                             featureShape: [Int]? = nil, scale: Float = 1, classCount: Int? = nil,
                             classNames: [String]? = nil, name: String) throws -> Dataset {
        let table = try bytes.withUnsafeBufferPointer { buffer in
            try Table(parsing: buffer, source: source, labelColumn: labelColumn, hasHeader: hasHeader, scale: scale)
        }
        let featureCount = table.columns - 1
        let shape = featureShape ?? [featureCount]
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), shapeProduct(shape) == featureCount else {
            throw DataError(file: source, problem: "feature shape \(shape) does not fit \(featureCount) feature columns")
        }
        let classes = classCount ?? classNames?.count ?? (Int(table.labels.max() ?? 0) + 1)
        if let bad = table.labels.firstIndex(where: { Int($0) >= classes }) {
            throw DataError(file: source, location: "line \(table.lineNumbers[bad]), column \(table.labelColumn + 1)",
                            problem: "label \(table.labels[bad]) is outside 0..<\(classes)")
        }
        return try Dataset(name: name, featureShape: shape, features: table.features, labels: table.labels,
                           classCount: classes, classNames: classNames)
    }

    /// The parsed rows, before the data-set level checks (shape, class range) are applied.
    struct Table {
        var columns = 0
        var labelColumn = 0
        var features: [Float] = []
        var labels: [Int32] = []
        /// Line number of each row, so later checks can still point at the line.
        var lineNumbers: [Int] = []

        init(parsing text: UnsafeBufferPointer<UInt8>, source: String, labelColumn requestedLabel: Int,
             hasHeader: Bool, scale: Float) throws {
            guard let p = text.baseAddress, text.count > 0 else {
                throw DataError(file: source, problem: "file is empty")
            }
            let end = text.count
            var lineStart = 0
            if end >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { lineStart = 3 }  // UTF-8 BOM

            // Upper bound on rows, so features can be written into one buffer allocated up front.
            var newlines = 0
            for i in 0..<end where p[i] == UInt8(ascii: "\n") { newlines += 1 }
            let maxRows = newlines + 1

            var featureBuffer: UnsafeMutableBufferPointer<Float>? = nil
            defer { featureBuffer?.deallocate() }
            labels.reserveCapacity(maxRows)
            lineNumbers.reserveCapacity(maxRows)
            var headerPending = hasHeader
            var line = 0
            var rows = 0

            while lineStart < end {
                line += 1
                var lineEnd = end
                if let nl = memchr(p + lineStart, Int32(UInt8(ascii: "\n")), end - lineStart) {
                    lineEnd = p.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                }
                let nextStart = lineEnd + 1
                var contentEnd = lineEnd
                if contentEnd > lineStart && p[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
                defer { lineStart = nextStart }

                var blank = true
                var fields = 1
                for i in lineStart..<contentEnd {
                    let c = p[i]
                    if c == UInt8(ascii: ",") { fields += 1; blank = false }
                    else if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { blank = false }
                }
                if blank { continue }

                if columns == 0 {
                    guard fields >= 2 else {
                        throw DataError(file: source, location: "line \(line)",
                                        problem: "found 1 column, need at least one feature and a label")
                    }
                    columns = fields
                    labelColumn = requestedLabel < 0 ? fields + requestedLabel : requestedLabel
                    guard labelColumn >= 0 && labelColumn < fields else {
                        throw DataError(file: source, location: "line \(line)",
                                        problem: "label column \(requestedLabel) does not exist in \(fields) columns")
                    }
                    featureBuffer = .allocate(capacity: maxRows * (fields - 1))
                } else if fields != columns {
                    throw DataError(file: source, location: "line \(line)",
                                    problem: "expected \(columns) columns, found \(fields)")
                }
                if headerPending { headerPending = false; continue }

                let out = featureBuffer!.baseAddress! + rows * (columns - 1)
                var featureIndex = 0
                var column = 0
                var fieldStart = lineStart
                while column < columns {
                    var fieldEnd = fieldStart
                    while fieldEnd < contentEnd && p[fieldEnd] != UInt8(ascii: ",") { fieldEnd += 1 }
                    let value = Self.number(p, fieldStart, fieldEnd)
                    if column == labelColumn {
                        guard let v = value, v >= 0, v == v.rounded(), v <= Double(Int32.max) else {
                            throw DataError(file: source, location: "line \(line), column \(column + 1)",
                                            problem: "label \(Self.quoted(p, fieldStart, fieldEnd)) is not a non-negative integer")
                        }
                        labels.append(Int32(v))
                    } else {
                        guard let v = value else {
                            throw DataError(file: source, location: "line \(line), column \(column + 1)",
                                            problem: "expected a number, found \(Self.quoted(p, fieldStart, fieldEnd))")
                        }
                        let f = Float(v) * scale
                        guard f.isFinite else {
                            throw DataError(file: source, location: "line \(line), column \(column + 1)",
                                            problem: "value \(Self.quoted(p, fieldStart, fieldEnd)) is out of Float range")
                        }
                        out[featureIndex] = f
                        featureIndex += 1
                    }
                    column += 1
                    fieldStart = fieldEnd + 1
                }
                lineNumbers.append(line)
                rows += 1
            }
            guard rows > 0 else {
                throw DataError(file: source, problem: hasHeader && columns > 0 ? "no data rows after the header" : "no data rows")
            }
            features = Array(UnsafeBufferPointer(start: featureBuffer!.baseAddress!, count: rows * (columns - 1)))
        }

        /// Exact powers of ten representable in a Double (10^22 is the largest).
        static let powersOfTen: [Double] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ]

        /// Parses a decimal number in `p[start..<end]` (surrounding blanks allowed), or `nil` if the
        /// cell is not one. Plain decimals with up to 15 significant digits and a small exponent are
        /// converted exactly with one multiplication or division; anything longer goes through the
        /// standard library's correctly rounded parser. "nan", "inf" and hex floats are rejected:
        /// they are never intended in a data file.
        @inline(__always)
        static func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
            var i = start
            var e = end
            while i < e && (p[i] == UInt8(ascii: " ") || p[i] == UInt8(ascii: "\t")) { i += 1 }
            while e > i && (p[e - 1] == UInt8(ascii: " ") || p[e - 1] == UInt8(ascii: "\t")) { e -= 1 }
            let trimmedStart = i
            guard i < e else { return nil }
            var negative = false
            if p[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if p[i] == UInt8(ascii: "+") { i += 1 }
            var mantissa: UInt64 = 0
            var significant = 0
            var exponent = 0
            var sawDigit = false
            while i < e, p[i] &- 48 < 10 {
                sawDigit = true
                if significant < 19 {
                    mantissa = mantissa * 10 + UInt64(p[i] &- 48)
                    if mantissa > 0 { significant += 1 }
                } else {
                    significant += 1
                    exponent += 1
                }
                i += 1
            }
            if i < e && p[i] == UInt8(ascii: ".") {
                i += 1
                while i < e, p[i] &- 48 < 10 {
                    sawDigit = true
                    if significant < 19 {
                        mantissa = mantissa * 10 + UInt64(p[i] &- 48)
                        if mantissa > 0 { significant += 1 }
                        exponent -= 1
                    } else {
                        significant += 1
                    }
                    i += 1
                }
            }
            guard sawDigit else { return nil }
            if i < e && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
                i += 1
                var exponentNegative = false
                if i < e && p[i] == UInt8(ascii: "-") { exponentNegative = true; i += 1 }
                else if i < e && p[i] == UInt8(ascii: "+") { i += 1 }
                var written = 0
                var sawExponentDigit = false
                while i < e, p[i] &- 48 < 10 {
                    sawExponentDigit = true
                    if written < 100_000 { written = written * 10 + Int(p[i] &- 48) }
                    i += 1
                }
                guard sawExponentDigit else { return nil }
                exponent += exponentNegative ? -written : written
            }
            guard i == e else { return nil }

            if significant <= 15 && exponent >= -22 && exponent <= 22 {
                let m = Double(mantissa)  // exact: fewer than 2^53
                let v = exponent >= 0 ? m * powersOfTen[exponent] : m / powersOfTen[-exponent]
                return negative ? -v : v
            }
            // Rare: long mantissas or large exponents. Syntax is already validated as decimal.
            let text = String(decoding: UnsafeBufferPointer(start: p + trimmedStart, count: e - trimmedStart), as: UTF8.self)
            return Double(text)
        }

        /// The cell's text for an error message, quoted and shortened.
        static func quoted(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
            let text = String(decoding: UnsafeBufferPointer(start: p + start, count: max(0, end - start)), as: UTF8.self)
            let short = text.count > 40 ? String(text.prefix(40)) + "..." : text
            return "\"\(short)\""
        }
    }
}

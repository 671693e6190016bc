import Foundation

/// Loader for the IDX format used by MNIST and Fashion-MNIST (an images file and a labels file,
/// each optionally gzipped), the standard benchmark files for few-shot transfer experiments.
///
/// The header is checked strictly (magic, dimensions, exact length) because the usual failure is a
/// half-finished download or the two files swapped, and both should stop the run with a message
/// naming the file, not train on garbage.
public enum IDX {
    /// Magic number of an unsigned-byte, three-dimensional file (images: count x rows x cols).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte, one-dimensional file (labels: count).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Loads an image/label pair as a `Dataset` with pixels scaled to [0, 1] and feature shape
    /// `[1, rows, cols]`, ready for a convolutional model.
    ///
    /// - Parameters:
    ///   - images: the `*-images-idx3-ubyte` file, gzipped or not.
    ///   - labels: the matching `*-labels-idx1-ubyte` file, gzipped or not.
    ///   - name: the data set's name for logs and reports.
    ///   - classCount: the label space; labels at or above it are rejected. When `nil` it is
    ///     `classNames.count` if names are given, else the largest label + 1, so loading never
    ///     silently widens a head the caller sized.
    ///   - classNames: optional class display names (their count fixes `classCount` when it is `nil`).
    /// - Throws: `DataError` naming the offending file for bad magic, bad dimensions, truncated or
    ///   oversized files, image/label count mismatch, out-of-range labels, or corrupt gzip.
    ///   Byte offsets in IDX errors count in the decompressed data (gzip errors count in the file).
    public static func load(images: URL, labels: URL, name: String,
                            classCount: Int? = nil, classNames: [String]? = nil) throws -> Dataset {
        let imageSource = images.path
        let labelSource = labels.path
        let imageBytes = try Gzip.gunzipIfNeeded(readFileBytes(images, source: imageSource), source: imageSource)
        let labelBytes = try Gzip.gunzipIfNeeded(readFileBytes(labels, source: labelSource), source: labelSource)
        return try decode(imageBytes: imageBytes, labelBytes: labelBytes, imageSource: imageSource,
                          labelSource: labelSource, name: name, classCount: classCount, classNames: classNames)
    }

    /// Decodes already-read (and already inflated) IDX bytes; `load` reads files and calls this.
    /// Public so data arriving from elsewhere (an archive, a network peer) can reuse the same checks;
    /// the source strings are only used in error messages.
    public static func decode(imageBytes: [UInt8], labelBytes: [UInt8], imageSource: String, labelSource: String,
                              name: String, classCount: Int? = nil, classNames: [String]? = nil) throws -> Dataset {
        let imageDims = try header(imageBytes, magic: imagesMagic, dimensions: 3, kind: "images", source: imageSource)
        let labelDims = try header(labelBytes, magic: labelsMagic, dimensions: 1, kind: "labels", source: labelSource)
        let (count, rows, cols) = (imageDims[0], imageDims[1], imageDims[2])
        guard labelDims[0] == count else {
            throw DataError(file: labelSource, problem: "has \(labelDims[0]) labels but \(imageSource) has \(count) images")
        }
        guard rows > 0, cols > 0 else {
            throw DataError(file: imageSource, location: "byte 8", problem: "image size \(rows)x\(cols) is empty")
        }

        let pixelCount = count * rows * cols  // fits: checked against the file length in `header`
        let imageOffset = 4 + 4 * 3
        let features = [Float](unsafeUninitializedCapacity: pixelCount) { out, initialized in
            imageBytes.withUnsafeBufferPointer { src in
                let base = src.baseAddress! + imageOffset
                for i in 0..<pixelCount { out[i] = Float(base[i]) / 255 }
            }
            initialized = pixelCount
        }

        let labelOffset = 4 + 4
        let labels = [Int32](unsafeUninitializedCapacity: count) { out, initialized in
            labelBytes.withUnsafeBufferPointer { src in
                for i in 0..<count { out[i] = Int32(src[labelOffset + i]) }
            }
            initialized = count
        }
        let maxLabel = Int(labels.max() ?? 0)
        let classes = classCount ?? classNames?.count ?? (maxLabel + 1)
        if let bad = labels.firstIndex(where: { Int($0) >= classes }) {
            throw DataError(file: labelSource, location: "byte \(labelOffset + bad)",
                            problem: "label \(labels[bad]) of sample \(bad) is outside 0..<\(classes)")
        }
        return try Dataset(name: name, featureShape: [1, rows, cols], features: features, labels: labels,
                           classCount: classes, classNames: classNames)
    }

    /// Validates an IDX header and the file length; returns the dimension sizes.
    /// Reports the byte offset of a bad field so a hex dump can confirm the diagnosis.
    static func header(_ bytes: [UInt8], magic: UInt32, dimensions: Int, kind: String,
                       source: String) throws -> [Int] {
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        guard bytes.count >= 4 else {
            throw DataError(file: source, problem: "file is \(bytes.count) bytes, too short for an IDX header")
        }
        let found = u32(0)
        guard found == magic else {
            let hex = { (v: UInt32) in "0x" + String(repeating: "0", count: 8 - String(v, radix: 16).count) + String(v, radix: 16) }
            var problem = "bad magic number \(hex(found)), expected \(hex(magic)) (IDX unsigned-byte \(kind), \(dimensions)-D)"
            if found == imagesMagic || found == labelsMagic { problem += "; are the images and labels files swapped?" }
            throw DataError(file: source, location: "byte 0", problem: problem)
        }
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= headerSize else {
            throw DataError(file: source, problem: "truncated: file is \(bytes.count) bytes, the header alone needs \(headerSize)")
        }
        let dims = (0..<dimensions).map { Int(u32(4 + 4 * $0)) }
        guard let payload = shapeProduct(dims), payload <= Int.max - headerSize else {
            throw DataError(file: source, location: "byte 4", problem: "dimensions \(dims) are too large")
        }
        let expected = headerSize + payload
        if bytes.count < expected {
            throw DataError(file: source, problem: "truncated: dimensions \(dims) need \(expected) bytes, file has \(bytes.count)")
        }
        if bytes.count > expected {
            throw DataError(file: source, location: "byte \(expected)",
                            problem: "\(bytes.count - expected) unexpected bytes after the \(dims) data")
        }
        return dims
    }
}

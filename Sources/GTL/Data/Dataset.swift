/// A labelled classification data set held in memory as one flat feature buffer.
///
/// Features are stored row-major in a single `[Float]` (sample after sample) because the engine's
/// tensors and BLAS want contiguous batches; copying a batch is then a handful of slice copies,
/// not a gather over nested arrays. It is a value type so scouts on different threads can each hold
/// their own subset without locks. The invariants (sizes agree, labels are in `0..<classCount`) are
/// checked once in `init`, so downstream code can index without re-validating.
public struct Dataset: Sendable, Equatable {
    /// Human-readable name used in logs, reports and error messages ("digits", "fashion-mnist").
    public let name: String
    /// Shape of one sample, e.g. `[1, 8, 8]` (channels x height x width) for images or `[n]` for
    /// tabular rows; models read it to size their input layer.
    public let featureShape: [Int]
    /// All samples' features, row-major, `count * featureCount` values.
    public let features: [Float]
    /// One label per sample, each in `0..<classCount`. `Int32` to match the engine's label tensors.
    public let labels: [Int32]
    /// Number of classes the data set is defined over, which may exceed the labels actually
    /// present (a subset can lack classes while the model head keeps its width).
    public let classCount: Int
    /// Optional display names, one per class, for readable confusion matrices and reports.
    public let classNames: [String]?

    /// Creates a data set after checking every invariant, so a malformed set fails here with a
    /// `DataError` naming `name` rather than later as an out-of-bounds crash during training.
    public init(name: String, featureShape: [Int], features: [Float], labels: [Int32],
                classCount: Int, classNames: [String]? = nil) throws {
        func fail(_ problem: String) -> DataError { DataError(file: name, problem: problem) }
        guard !featureShape.isEmpty, featureShape.allSatisfy({ $0 > 0 }) else {
            throw fail("feature shape \(featureShape) must be non-empty with positive dimensions")
        }
        guard let perSample = shapeProduct(featureShape) else {
            throw fail("feature shape \(featureShape) is too large")
        }
        let (total, totalOverflow) = labels.count.multipliedReportingOverflow(by: perSample)
        guard !totalOverflow, features.count == total else {
            throw fail("\(features.count) feature values do not match \(labels.count) samples of shape \(featureShape)")
        }
        guard classCount >= 1 else { throw fail("class count must be at least 1, got \(classCount)") }
        if let classNames, classNames.count != classCount {
            throw fail("\(classNames.count) class names given for \(classCount) classes")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw fail("sample \(i) has label \(labels[i]), outside 0..<\(classCount)")
        }
        self.init(unchecked: name, featureShape: featureShape, features: features, labels: labels,
                  classCount: classCount, classNames: classNames)
    }

    /// Memberwise init for derived sets whose invariants follow from an already valid set.
    init(unchecked name: String, featureShape: [Int], features: [Float], labels: [Int32],
         classCount: Int, classNames: [String]?) {
        self.name = name
        self.featureShape = featureShape
        self.features = features
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// Number of feature values per sample (the product of `featureShape`), the stride into `features`.
    public var featureCount: Int { featureShape.reduce(1, *) }

    /// The features of sample `i`, without copying, for building batches and for inspection.
    public func sample(at i: Int) -> ArraySlice<Float> {
        precondition(i >= 0 && i < count, "sample index \(i) out of range 0..<\(count)")
        let stride = featureCount
        return features[(i * stride)..<((i + 1) * stride)]
    }

    /// How many samples each class has, indexed by label; used to check balance and to plan splits.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// A new data set holding the samples at `indices`, in that order (repeats allowed).
    ///
    /// This is how splits, shuffles, few-shot support sets and mini-batches are made; class metadata
    /// is kept so a subset still reports the full label space. Indices must be in range
    /// (a programming error otherwise).
    public func subset(_ indices: [Int]) -> Dataset {
        let stride = featureCount
        let n = indices.count
        for i in indices { precondition(i >= 0 && i < count, "subset index \(i) out of range 0..<\(count)") }
        let newFeatures = [Float](unsafeUninitializedCapacity: n * stride) { out, initialized in
            features.withUnsafeBufferPointer { src in
                for (row, i) in indices.enumerated() {
                    let from = src.baseAddress! + i * stride
                    (out.baseAddress! + row * stride).initialize(from: from, count: stride)
                }
            }
            initialized = n * stride
        }
        let newLabels = indices.map { labels[$0] }
        return Dataset(unchecked: name, featureShape: featureShape, features: newFeatures, labels: newLabels,
                       classCount: classCount, classNames: classNames)
    }

    /// Indices (ascending) of the samples whose label is in `classes`; the building block for
    /// holding classes out of pre-training and for per-class few-shot sampling.
    public func indices(ofClasses classes: Set<Int>) -> [Int] {
        labels.indices.filter { classes.contains(Int(labels[$0])) }
    }

    /// Keeps only samples whose label is a key of `mapping` and renames their labels to the
    /// mapped values, over a label space of `classCount`.
    ///
    /// Used to train on a subset of classes with a classifier head of fixed width (e.g. classes
    /// {3, 7} -> {0, 1} with `classCount: 2`), or to merge classes. Samples keep their order.
    /// Class names carry over when each new class comes from exactly one old class; otherwise they
    /// are dropped, since no single old name is right. Mapped values must lie in `0..<classCount`.
    public func relabeled(_ mapping: [Int: Int], classCount: Int) -> Dataset {
        precondition(classCount >= 1, "class count must be at least 1")
        for (from, to) in mapping {
            precondition(to >= 0 && to < classCount, "relabel \(from) -> \(to) is outside 0..<\(classCount)")
        }
        let kept = indices(ofClasses: Set(mapping.keys))
        let picked = subset(kept)
        let newLabels = picked.labels.map { Int32(mapping[Int($0)]!) }

        var newNames: [String]? = nil
        if let classNames {
            var sources = [[Int]](repeating: [], count: classCount)
            for (from, to) in mapping where from >= 0 && from < self.classCount { sources[to].append(from) }
            if sources.allSatisfy({ $0.count == 1 }) { newNames = sources.map { classNames[$0[0]] } }
        }
        return Dataset(unchecked: name, featureShape: featureShape, features: picked.features, labels: newLabels,
                       classCount: classCount, classNames: newNames)
    }

    /// The same samples viewed with another per-sample shape (e.g. `[64]` as `[1, 8, 8]` for a
    /// convolutional model). The data is not copied; the shape's product must equal `featureCount`.
    public func reshaped(featureShape newShape: [Int]) throws -> Dataset {
        guard !newShape.isEmpty, newShape.allSatisfy({ $0 > 0 }), shapeProduct(newShape) == featureCount else {
            throw DataError(file: name, problem: "cannot reshape samples of shape \(featureShape) "
                            + "(\(featureCount) values) to \(newShape)")
        }
        return Dataset(unchecked: name, featureShape: newShape, features: features, labels: labels,
                       classCount: classCount, classNames: classNames)
    }
}

/// Product of a shape's dimensions, or `nil` on overflow, so absurd shapes from a file header
/// become an error message instead of a trap.
func shapeProduct(_ shape: [Int]) -> Int? {
    var product = 1
    for d in shape {
        let (p, overflow) = product.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        product = p
    }
    return product
}

import GTLEngine

/// Corruption for a denoising autoencoder: the unsupervised pre-training (and scout) objective
/// "reconstruct the clean sample from a damaged copy", which needs no labels and, unlike a plain
/// autoencoder, cannot be solved by copying the input through a wide enough network.
public struct Denoising: Sendable, Equatable, Codable {
    /// How a clean sample is damaged.
    public enum Corruption: Sendable, Equatable, Codable {
        /// Adds independent Gaussian noise of this standard deviation to every value.
        case gaussian(standardDeviation: Float)
        /// Sets each value to 0 with this probability ("masking noise", Vincent et al. 2008), without
        /// rescaling the rest: the network must infer the missing values, not undo a scale.
        case masking(rate: Float)

        /// The corruption as the `--corruption` flag spells it: `masking:0.25`, `gaussian:0.2`.
        public var text: String {
            switch self {
            case .gaussian(let sd): return "gaussian:\(sd)"
            case .masking(let rate): return "masking:\(rate)"
            }
        }

        /// Whether the parameter is in range: a masking rate in 0 ..< 1, a positive finite SD.
        /// (A job file can hold any number; the flag parser and job validation both ask this.)
        public var isValid: Bool {
            switch self {
            case .masking(let rate): return rate >= 0 && rate < 1
            case .gaussian(let sd): return sd > 0 && sd.isFinite
            }
        }

        /// Parses `masking:RATE` (0 ≤ RATE < 1) or `gaussian:SD` (SD > 0); nil when malformed.
        public init?(text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let v = Float(parts[1]) else { return nil }
            let parsed: Corruption
            switch parts[0] {
            case "masking": parsed = .masking(rate: v)
            case "gaussian": parsed = .gaussian(standardDeviation: v)
            default: return nil
            }
            guard parsed.isValid else { return nil }
            self = parsed
        }
    }

    /// The corruption applied.
    public var corruption: Corruption

    /// A denoising objective with the given corruption.
    public init(_ corruption: Corruption) { self.corruption = corruption }

    /// Writes a corrupted copy of `clean` into `out` (same count), drawing from `rng`.
    public func corrupt(_ clean: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
                        rng: inout RandomGenerator) {
        precondition(out.count == clean.count, "corrupt: \(clean.count) values in, room for \(out.count)")
        switch corruption {
        case .gaussian(let sd): for i in clean.indices { out[i] = clean[i] + sd * rng.nextGaussian() }
        case .masking(let rate): for i in clean.indices { out[i] = rng.nextUniform() < rate ? 0 : clean[i] }
        }
    }

    /// Fixed (corrupted input, clean target) pairs for every sample of `data`, reproducible from
    /// `seed`: for evaluation, or for training when one corruption per sample is wanted.
    /// `ReconstructionTrainer` can instead draw fresh corruption every batch.
    public func pairs(_ data: Dataset, seed: UInt64) -> ReconstructionTask {
        var rng = RandomGenerator(seed: seed)
        var inputs = [Float](repeating: 0, count: data.features.count)
        data.features.withUnsafeBufferPointer { clean in
            inputs.withUnsafeMutableBufferPointer { corrupt(clean, into: $0, rng: &rng) }
        }
        return ReconstructionTask(inputs: inputs, targets: data.features, inputWidth: data.featureCount,
                                  targetWidth: data.featureCount)
    }
}

/// Samples to train with value targets (`MeanSquaredError`): an autoencoder's (input, target)
/// pairs. The classification `Task` carries class indices, which this objective has none of.
public struct ReconstructionTask: Sendable, Equatable {
    /// Network inputs, `count × inputWidth`, row-major.
    public let inputs: [Float]
    /// Targets, `count × targetWidth`, row-major (the clean samples for a denoising autoencoder).
    public let targets: [Float]
    /// Values per input.
    public let inputWidth: Int
    /// Values per target (the network's output width).
    public let targetWidth: Int
    /// Number of samples.
    public var count: Int { inputs.count / inputWidth }

    /// Pairs from their parts; the sample counts must agree.
    public init(inputs: [Float], targets: [Float], inputWidth: Int, targetWidth: Int) {
        precondition(inputWidth > 0 && targetWidth > 0 && inputs.count % inputWidth == 0
                     && targets.count == inputs.count / inputWidth * targetWidth,
                     "\(inputs.count) inputs of \(inputWidth) do not pair with \(targets.count) targets of \(targetWidth)")
        self.inputs = inputs
        self.targets = targets
        self.inputWidth = inputWidth
        self.targetWidth = targetWidth
    }

    /// Plain reconstruction of `data`: each sample is its own target.
    public init(reconstructing data: Dataset) {
        self.init(inputs: data.features, targets: data.features, inputWidth: data.featureCount, targetWidth: data.featureCount)
    }
}

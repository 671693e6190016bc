import GTLEngine

/// What `gtl run` writes to `report.json`: the job, the protocol choices a reviewer needs to
/// judge the numbers, and every arm's result with its confidence interval.
public struct RunReport: Sendable, Codable {
    /// The whole job, so the report reproduces itself.
    public var job: JobConfig
    /// The architecture used.
    public var architecture: String
    /// How the output layer is handled and how episodes are drawn, in words.
    public var protocolNotes: [String]
    /// Accuracy of the base on its own pre-training data (how well pre-training went); absent
    /// for a denoising autoencoder, which has no classes.
    public var baseTrainAccuracy: Double?
    /// With `--objective denoise`: the pre-trained autoencoder's mean squared error reconstructing
    /// its clean pre-training samples.
    public var baseReconstructionError: Double?
    /// With an unsupervised objective: the clusters pre-training and scouting learnt from.
    public var pseudoLabels: PseudoLabelSummary?
    /// Scouts reduced into the guide.
    public var scouts: Int
    /// Statistic values clamped by the exact reducer (0 unless a scout diverged).
    public var saturatedValues: Int
    /// With `--scouts auto`: every round and whether the guide converged.
    public var convergence: ConvergenceReport?
    /// Each scout's mean loss on its whole subproblem after training, in scout-index order: how
    /// well the scouts converged (the seed's "easy to converge" side of the scout-design trade-off).
    public var scoutLoss: [Float]
    /// Guide value summary for the whole model, then per tensor.
    public var guideSummary: [GuideValues.Summary]
    /// Every arm at every shot setting.
    public var results: [ArmResult]
    /// Wall-clock seconds per phase.
    public var seconds: [String: Double]

    /// A report from its parts.
    public init(job: JobConfig, architecture: String, protocolNotes: [String], baseTrainAccuracy: Double?, baseReconstructionError: Double? = nil, pseudoLabels: PseudoLabelSummary? = nil, scouts: Int,
                saturatedValues: Int, convergence: ConvergenceReport? = nil, scoutLoss: [Float] = [], guideSummary: [GuideValues.Summary],
                results: [ArmResult], seconds: [String: Double]) {
        self.job = job
        self.architecture = architecture
        self.protocolNotes = protocolNotes
        self.baseTrainAccuracy = baseTrainAccuracy
        self.baseReconstructionError = baseReconstructionError
        self.pseudoLabels = pseudoLabels
        self.scouts = scouts
        self.saturatedValues = saturatedValues
        self.convergence = convergence
        self.scoutLoss = scoutLoss
        self.guideSummary = guideSummary
        self.results = results
        self.seconds = seconds
    }

    /// The protocol in words, for the report and the README.
    public static func protocolNotes(_ job: JobConfig) -> [String] {
        let e = job.evaluation
        let unsupervised = job.unsupervised.map { u -> [String] in
            if let d = u.denoising {
                return ["Unsupervised: pre-training and scouting train a denoising autoencoder (\(d.corruption.text) corruption) whose encoder is the model's body and whose decoder is one linear layer; each scout reconstructs the samples of k of \(u.clusters) k-means clusters of the pre-training classes' samples; their true labels are never read. Downstream, every pre-trained arm starts from the encoder with a freshly initialised head, whose guide values are 1. Downstream episodes are supervised."]
            }
            return ["Unsupervised: pre-training and scouting use \(u.clusters) \(u.method.rawValue) clusters of the pre-training classes' samples as pseudo-classes; their true labels are never read. Downstream episodes are supervised."]
        } ?? []
        return unsupervised + [
            "Output layer: one head of fixed width reused through a label mapping. Pre-training maps class pretrainClasses[j] to output j; each scout maps its k classes to outputs 0..<k and each episode its N classes to outputs 0..<N, in a seeded random order; predictions are the argmax over the first N outputs. Every arm uses the same rule (the scratch arm's head is fresh).",
            "Downstream classes \(job.downstreamClasses) are never seen in pre-training or scouting (which use \(job.pretrainClasses)).",
            "Each downstream class's samples are split \(Int(e.validationFraction * 100))/\(100 - Int(e.validationFraction * 100)) into a validation pool and a test pool; validation episodes come only from the first, test episodes only from the second.",
            "Each arm's learning rate (from \(e.learningRates)) and step count (from \(e.stepCounts)) is chosen by mean accuracy over \(e.validationEpisodes) validation episodes; the chosen setting is then scored on \(e.testEpisodes) test episodes, the same episodes for every arm.",
            "Fine-tuning uses \(e.optimizer.rawValue) on the full support set each step; guide values scale the optimiser's update, not the gradient.",
            "Accuracy: mean over test episodes with a 95 % confidence interval (1.96 standard errors); differences to plain fine-tuning are paired over the same episodes.",
        ]
    }
}

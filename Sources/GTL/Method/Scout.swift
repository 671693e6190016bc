import GTLEngine

/// What a scout reports: its trajectory statistics, never its weights.
public struct ScoutResult: Sendable, Equatable {
    /// The scout's index in the plan.
    public let index: Int
    /// Each recorded statistic, one value per parameter in layout order.
    public let statistics: [TrajectoryStatistic: [Float]]
    /// Mean loss on the scout's whole subproblem after training: its convergence (how easy its
    /// subproblem was), reported per scout so studies can relate guide quality to it.
    public let finalLoss: Float
    /// Optimiser steps taken.
    public let steps: Int

    /// A result from its parts (the cluster rebuilds results received over the wire).
    public init(index: Int, statistics: [TrajectoryStatistic: [Float]], finalLoss: Float, steps: Int) {
        self.index = index
        self.statistics = statistics
        self.finalLoss = finalLoss
        self.steps = steps
    }
}

/// Trains one scout: a copy of the base on its subproblem, streaming trajectory statistics.
public enum Scout {
    /// Runs scout `subproblem` from `base`. `base` is taken by value, so the caller's model can
    /// never move (the reference implementation's aliasing bug cannot happen here). Once
    /// `isCancelled` says yes (asked before every step) training stops early and the result is
    /// incomplete: the caller must discard it (a worker exiting mid-scout).
    public static func run(base: Network, data: Dataset, subproblem: Subproblem, settings: TrainSettings,
                           statistics: [TrajectoryStatistic], isCancelled: () -> Bool = { false }) -> ScoutResult {
        let task = Task(data, indices: subproblem.samples, mapping: subproblem.mapping)
        return recording(base: base, subproblem: subproblem, settings: settings, statistics: statistics) { net, rng, afterStep in
            Trainer.train(&net, on: task, settings: settings, rng: &rng, afterStep: afterStep, isCancelled: isCancelled)
        } loss: { Trainer.measure(&$0, on: task, classes: subproblem.classes.count).loss }
    }

    /// Runs scout `subproblem` of a denoising autoencoder: the same copy-train-record loop, with
    /// reconstruction of the subproblem's samples (fresh corruption each batch) instead of their
    /// labels; its loss is the clean reconstruction error on those samples after training.
    public static func runReconstruction(base: Network, data: Dataset, subproblem: Subproblem, settings: TrainSettings,
                                         denoising: Denoising, statistics: [TrajectoryStatistic],
                                         isCancelled: () -> Bool = { false }) -> ScoutResult {
        let task = ReconstructionTask(reconstructing: data.subset(subproblem.samples))
        return recording(base: base, subproblem: subproblem, settings: settings, statistics: statistics) { net, rng, afterStep in
            ReconstructionTrainer.train(&net, on: task, settings: settings, denoising: denoising, rng: &rng, afterStep: afterStep,
                                        isCancelled: isCancelled)
        } loss: { ReconstructionTrainer.meanSquaredError(&$0, on: task) }
    }

    /// The loop every scout shares: a copy of `base` trained by `train` from the subproblem's
    /// seed, its statistics streamed after every step, and `loss` measured on it afterwards.
    private static func recording(base: Network, subproblem: Subproblem, settings: TrainSettings, statistics: [TrajectoryStatistic],
                                  train: (inout Network, inout RandomGenerator, (Int, Network) -> Void) -> Void,
                                  loss: (inout Network) -> Double) -> ScoutResult {
        var network = base
        var recorder = TrajectoryRecorder(base: base.parameters, statistics: statistics)
        var rng = RandomGenerator(seed: subproblem.seed)
        train(&network, &rng) { _, net in recorder.record(parameters: net.parameters, gradients: net.gradients) }
        let stats = recorder.finish(parameters: network.parameters)
        return ScoutResult(index: subproblem.index, statistics: Dictionary(uniqueKeysWithValues: stats),
                           finalLoss: Float(loss(&network)), steps: settings.steps)
    }
}

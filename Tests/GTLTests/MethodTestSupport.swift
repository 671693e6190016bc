import GTL
import GTLEngine

/// A small job on the embedded digits that runs in well under a second.
func tinyJob(seed: UInt64 = 3) -> JobConfig {
    var job = JobConfig()
    job.seed = seed
    job.layers = "flatten dense(16) relu dense(5)"
    job.pretrain.steps = 60
    job.scouts = 12
    job.scout.steps = 20
    job.samplesPerClass = 15
    job.evaluation.testEpisodes = 6
    job.evaluation.validationEpisodes = 3
    job.evaluation.learningRates = [0.01, 0.1]
    job.evaluation.stepCounts = [5, 10]
    job.statistics = TrajectoryStatistic.allCases
    return job
}

/// A fabricated scout result whose statistic values are given.
func fakeResult(_ index: Int, _ values: [Float], statistic: TrajectoryStatistic = .squared) -> ScoutResult {
    ScoutResult(index: index, statistics: [statistic: values], finalLoss: 0, steps: 1)
}

"""Synthetic `gtl run` reports for the aggregator's tests."""
import copy
import json
import math
import os

JOB = {
    "bootstrap": False, "classesPerScout": 2, "dataset": "digits", "downstreamClasses": [5, 6, 7, 8, 9],
    "evaluation": {"includeMeanOneArm": True, "learningRates": [0.01, 0.1], "optimizer": "adam", "queriesPerClass": 10,
                   "shots": [1], "stepCounts": [10, 20], "testEpisodes": 4, "validationEpisodes": 2,
                   "validationFraction": 0.4, "ways": 5},
    "guide": {"focus": "minmax", "rescaleToMeanOne": False, "scale": 1, "scope": "tensor", "sparsifyBelow": 0,
              "statistic": "squared", "temperature": {"none": {}}},
    "layers": "flatten dense(64) relu dense(32) relu dense(5)",
    "pretrain": {"batchSize": 32, "optimizer": {"kind": "adam", "learningRate": 0.001}, "steps": 1500},
    "pretrainClasses": [0, 1, 2, 3, 4], "samplesPerClass": 40,
    "scout": {"batchSize": 16, "optimizer": {"kind": "sgd", "learningRate": 0.05}, "steps": 100},
    "scouts": 64, "seed": 1, "statistics": [],
}


def job(seed=1, **changes):
    j = copy.deepcopy(JOB)
    j["seed"] = seed
    for k, v in changes.items():
        j[k] = v
    return j


def arm_result(arm, per_episode, shots=1, lr=0.01, steps=20, edge=False):
    n = len(per_episode)
    m = sum(per_episode) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in per_episode) / (n - 1)) if n > 1 else 0.0
    return {"arm": arm, "shots": shots, "learningRate": lr, "steps": steps, "validationAccuracy": m,
            "atGridEdge": edge, "test": {"mean": m, "ci95": 1.96 * sd / math.sqrt(n), "sd": sd, "n": n},
            "perEpisode": list(per_episode)}


def report(job_, arms, scout_loss=(0.1, 0.2)):
    """arms: {arm: perEpisode list} (shots 1)."""
    return {"job": job_, "architecture": "1x8x8: " + job_["layers"], "baseTrainAccuracy": 1.0, "scouts": job_["scouts"],
            "guideSummary": [{"name": "(model)", "mean": 0.06, "p50": 0.02, "nearZero": 0.4}],
            "results": [arm_result(a, pe) for a, pe in arms.items()], "seconds": {"evaluate": 1.0},
            "scoutLoss": list(scout_loss)}


def write(out, study, variant, seed, rep):
    d = os.path.join(out, study, variant, f"seed-{seed}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump(rep, f)
    return d

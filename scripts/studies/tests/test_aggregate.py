import csv
import os

import pytest

from studies import aggregate, definitions as defs, stats
from helpers import job, report, write

SCRATCH = [0.9, 0.8, 0.9, 0.8]
FINETUNE = [0.6, 0.7, 0.6, 0.7]
LAST = [0.3, 0.4, 0.3, 0.4]
GTL = [0.7, 0.7, 0.5, 0.8]
MEAN1 = [0.6, 0.6, 0.6, 0.6]


def baseline_report(seed=1, **changes):
    return report(job(seed, **changes), {"scratch": SCRATCH, "finetune": FINETUNE, "gtl": GTL, "gtl-mean1": MEAN1,
                                          "last-layer": LAST})


def shared_report(seed=1, gtl=GTL, **changes):
    j = job(seed, classesPerScout=3, **changes)
    j["evaluation"] = dict(j["evaluation"], arms=["gtl", "gtl-mean1"])   # arm selection may differ
    return report(j, {"gtl": gtl, "gtl-mean1": MEAN1})


def test_compatible_jobs_differ_only_in_scouting_and_arm_selection():
    a = job(1, classesPerScout=3, scouts=8)
    a["evaluation"] = dict(a["evaluation"], arms=["gtl"], includeMeanOneArm=False)
    assert aggregate.baseline_mismatches(a, job(1)) == []


@pytest.mark.parametrize("field,changes", [
    ("dataset", {"dataset": "fashion-mnist"}),
    ("layers", {"layers": "flatten dense(10)"}),
    ("seed", {"seed": 2}),
    ("pretrainClasses", {"pretrainClasses": [0, 1, 2]}),
    ("downstreamClasses", {"downstreamClasses": [5, 6, 7, 8]}),
    ("pretrain.steps", {"pretrain": dict(job()["pretrain"], steps=300)}),
    ("unsupervised", {"unsupervised": {"method": "kmeans", "clusters": 5}}),
    ("evaluation.testEpisodes", {"evaluation": dict(job()["evaluation"], testEpisodes=400)}),
    ("evaluation.learningRates", {"evaluation": dict(job()["evaluation"], learningRates=[0.1])}),
    ("evaluation.queriesPerClass", {"evaluation": dict(job()["evaluation"], queriesPerClass=2)}),
])
def test_baseline_check_rejects_and_names_each_field(field, changes):
    j = job(1)
    j.update(changes)
    bad = aggregate.baseline_mismatches(j, job(1))
    assert bad and any(b.startswith(field) for b in bad), bad
    with pytest.raises(aggregate.BaselineMismatch, match=field.replace(".", r"\.")):
        aggregate.check_baseline_compatible(j, job(1), "k3/seed-1", "default/seed-1")


def test_load_merges_the_baseline_arms_and_pairs_over_episodes(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    write(out, "smoke", "default", 1, baseline_report(1))
    write(out, "smoke", "k3", 1, shared_report(1))
    data = aggregate.load(st, out)
    k3 = data.cells[("k3", 1)].arms[1]
    assert set(k3) == set(defs.ARMS)
    assert k3["scratch"].source == "default" and k3["gtl"].source == "k3"
    r = data.row("k3", 1, "gtl")
    # best unguided arm of the seed is scratch (0.85); GTL − scratch, paired per episode
    assert r.vs_best.other_arm == {1: "scratch"}
    expect = stats.paired_difference(GTL, SCRATCH)
    assert r.vs_best.per_seed[1].mean == pytest.approx(expect.mean)
    assert r.vs_best.per_seed[1].ci95 == pytest.approx(expect.ci95)
    assert r.vs_finetune.per_seed[1].mean == pytest.approx(stats.paired_difference(GTL, FINETUNE).mean)
    assert all(r.vs_best.paired.values())
    # results.csv: one row per variant, seed, shots and arm
    n = aggregate.write_results_csv(data, str(tmp_path / "results.csv"))
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert n == len(rows) == 10
    assert {(row["variant"], row["arm"], row["source"]) for row in rows if row["arm"] == "finetune"} == \
        {("default", "finetune", "default"), ("k3", "finetune", "default")}


def test_load_refuses_a_baseline_of_another_job(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    write(out, "smoke", "default", 1, baseline_report(1))
    write(out, "smoke", "k3", 1, shared_report(1, pretrain=dict(job()["pretrain"], steps=50)))
    with pytest.raises(aggregate.BaselineMismatch, match=r"pretrain\.steps: 50 vs 1500"):
        aggregate.load(st, out)


def test_load_refuses_different_base_files(tmp_path):
    np = pytest.importorskip("numpy")
    from studies import safetensors
    st = defs.build("smoke")
    out = str(tmp_path)
    d0 = write(out, "smoke", "default", 1, baseline_report(1))
    d1 = write(out, "smoke", "k3", 1, shared_report(1))
    safetensors.write(os.path.join(d0, "base.safetensors"), {"1.weight": np.zeros((2, 2), np.float32)})
    safetensors.write(os.path.join(d1, "base.safetensors"), {"1.weight": np.zeros((2, 2), np.float32)})
    aggregate.load(st, out)   # same tensors: fine
    safetensors.write(os.path.join(d1, "base.safetensors"), {"1.weight": np.ones((2, 2), np.float32)})
    with pytest.raises(aggregate.BaselineMismatch, match="1.weight"):
        aggregate.load(st, out)


def test_pooling_across_seeds_and_sign_flips(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    up = [0.95, 0.95, 0.95, 0.95]     # GTL far above scratch in seed 1 ...
    down = [0.1, 0.1, 0.1, 0.1]       # ... far below in seed 2
    for seed, g in ((1, up), (2, down)):
        write(out, "smoke", "default", seed, baseline_report(seed))
        write(out, "smoke", "k3", seed, shared_report(seed, gtl=g))
    data = aggregate.load(st, out)
    assert data.seeds == [1, 2]
    r = data.row("k3", 1, "gtl")
    d1 = stats.paired_difference(up, SCRATCH).mean
    d2 = stats.paired_difference(down, SCRATCH).mean
    assert r.vs_best.pooled.mean == pytest.approx((d1 + d2) / 2)
    assert r.vs_best.pooled.across_seeds.ci95 == pytest.approx(stats.t_interval([d1, d2]).ci95)
    assert r.vs_best.flips == "yes"
    acc = data.row("k3", 1, "gtl").pooled
    assert acc.mean == pytest.approx((0.95 + 0.1) / 2)
    assert acc.across_seeds.n == 2


def test_summary_files(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    for seed in (1, 2):
        write(out, "smoke", "default", seed, baseline_report(seed))
        write(out, "smoke", "k3", seed, shared_report(seed))
    data = aggregate.load(st, out)
    d = tmp_path / "smoke"
    assert aggregate.write_summary_csv(data, str(d / "summary.csv")) == 10
    rows = list(csv.DictReader(open(d / "summary.csv")))
    g = next(r for r in rows if r["variant"] == "k3" and r["arm"] == "gtl")
    assert g["seeds"] == "2" and g["best_other_arm"] == "1:scratch;2:scratch" and g["ft_paired"] == "yes"
    assert float(g["ft_diff_mean"]) == pytest.approx(stats.paired_difference(GTL, FINETUNE).mean)
    aggregate.write_summary_md(data, str(d / "summary.md"), "scripts/study.py run smoke --out X", "scripts/study.py report smoke")
    md = (d / "summary.md").read_text()
    assert md.splitlines()[0] == "Reproduce: `scripts/study.py run smoke --out X`"
    assert "Sign flips with seed" in md and "| k3 | 1 | gtl | scratch |" in md


def test_missing_baseline_is_noted_not_invented(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    write(out, "smoke", "k3", 1, shared_report(1))
    data = aggregate.load(st, out)
    assert set(data.cells[("k3", 1)].arms[1]) == {"gtl", "gtl-mean1"}
    assert data.row("k3", 1, "gtl").vs_best is None
    assert "default/seed-1" in data.missing
    assert data.cells[("k3", 1)].notes


def test_reports_without_per_episode_fall_back_to_the_reported_difference(tmp_path):
    st = defs.build("smoke")
    out = str(tmp_path)
    rep = baseline_report(1)
    for r in rep["results"]:
        r.pop("perEpisode")
        if r["arm"] == "gtl":
            r["differenceToFinetune"] = {"mean": 0.05, "ci95": 0.01, "sd": 0.1, "n": 4}
    write(out, "smoke", "default", 1, rep)
    data = aggregate.load(st, out)
    r = data.row("default", 1, "gtl")
    assert r.vs_finetune.per_seed[1].mean == pytest.approx(0.05)
    assert r.vs_best is None   # best other is scratch: no paired data, so no number

import json
import os
import stat

import pytest

from studies import definitions as defs, runner
from helpers import job, report


def test_merge_flags_replaces_a_repeated_flag_in_place():
    m = defs.merge_flags(["--episodes", "200", "--shots", "1,5", "--rescale-mean-one"],
                         ["--layers", "flatten dense(10)", "--shots", "1,2", "--arms=gtl"])
    assert m == ["--episodes", "200", "--shots", "1,2", "--rescale-mean-one", "--layers", "flatten dense(10)", "--arms", "gtl"]
    with pytest.raises(defs.StudyError):
        defs.merge_flags(["stray"])


def test_every_public_study_builds_and_shared_variants_run_guided_arms_only():
    for name in defs.PUBLIC_STUDIES:
        st = defs.build(name)
        for v in st.variants:
            flags = defs.job_flags(st, v, full=False)
            assert flags.count("--episodes") == 1
            assert (defs.flag_value(flags, "arms") == "gtl,gtl-mean1") == v.shares_baseline
            if v.shares_baseline:   # sharing is only valid when the base-defining flags are the default's
                for f in ("dataset", "layers", "pretrain-steps", "objective", "clusters", "pretrain-classes"):
                    assert defs.flag_value(flags, f) == defs.flag_value(defs.job_flags(st, st.baseline, False), f)
    full = defs.job_flags(defs.build("scout-design"), defs.build("scout-design").baseline, full=True)
    assert defs.flag_value(full, "episodes") == "400" and "--learning-rates" not in full


def test_plan_layout_seeds_and_only(tmp_path):
    st = defs.build("scout-design")
    jobs = runner.plan(st, str(tmp_path), runner.seeds_for(st, None, False), False)
    assert len(jobs) == 3 * len(st.variants)
    assert [j.seed for j in jobs[:len(st.variants)]] == [1] * len(st.variants)   # seed-major
    j = next(j for j in jobs if j.variant == "k5" and j.seed == 2)
    assert j.directory == os.path.join(str(tmp_path), "scout-design", "k5", "seed-2")
    assert j.flags[-2:] == ["--seed", "2"]
    argv = j.argv("GTL", 4, ["srun", "-N1"])
    assert argv[:8] == ["srun", "-N1", "GTL", "run", "--workers", "4", "--out", j.directory]
    assert runner.seeds_for(st, None, True) == [1, 2, 3, 4, 5]
    said = []
    only = runner.plan(st, str(tmp_path), [1], False, ["k3"], say=said.append)
    assert [j.variant for j in only] == ["default", "k3"] and "adding 'default'" in said[0]
    with pytest.raises(defs.StudyError, match="no variant"):
        runner.plan(st, str(tmp_path), [1], False, ["nope"])


def fake_gtl(tmp_path, fail_variant=None):
    """A stand-in gtl that records its argv and writes a report (or fails for one variant)."""
    p = tmp_path / "fake-gtl"
    calls = tmp_path / "calls.log"
    p.write_text(f"""#!/bin/sh
echo "$@" >> {calls}
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out="$a"; prev="$a"; done
case "$out" in *{fail_variant or '@@none@@'}*) echo "boom: bad data file" >&2; exit 1;; esac
mkdir -p "$out" && echo '{{"job": {{}}, "results": []}}' > "$out/report.json"
""")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p), calls


def test_execute_skips_finished_jobs_and_resumes(tmp_path):
    st = defs.build("smoke")
    gtl, calls = fake_gtl(tmp_path)
    jobs = runner.plan(st, str(tmp_path / "out"), [1, 2], False)
    said = []
    first = runner.execute(jobs, gtl, 0, say=said.append)
    assert [o.status for o in first] == ["done"] * 4
    assert len(calls.read_text().splitlines()) == 4
    # A killed driver: remove one report; only that job runs again.
    os.remove(jobs[1].report)
    second = runner.execute(jobs, gtl, 0, say=said.append)
    assert sorted(o.status for o in second) == ["done", "skipped", "skipped", "skipped"]
    assert len(calls.read_text().splitlines()) == 5
    assert "--out " + jobs[1].directory in calls.read_text().splitlines()[-1]
    with open(os.path.join(jobs[1].directory, "command.json")) as f:
        assert json.load(f)["flags"] == jobs[1].flags
    # Dry run: nothing runs.
    os.remove(jobs[0].report)
    dry = runner.execute(jobs, gtl, 0, dry_run=True, say=said.append)
    assert [o.status for o in dry].count("dry-run") == 1
    assert len(calls.read_text().splitlines()) == 5


def test_a_changed_definition_makes_a_finished_job_stale(tmp_path):
    st = defs.build("smoke")
    gtl, calls = fake_gtl(tmp_path)
    jobs = runner.plan(st, str(tmp_path / "out"), [1], False)
    runner.execute(jobs, gtl, 0, say=lambda s: None)
    jobs[0].flags = jobs[0].flags + ["--scouts", "9"]
    out = runner.execute(jobs, gtl, 0, say=lambda s: None)
    assert out[0].status == "stale" and "delete" in out[0].message
    assert runner.summarize(out, say=lambda s: None) is False


def test_failed_jobs_are_reported_and_the_rest_still_run(tmp_path):
    st = defs.build("smoke")
    gtl, calls = fake_gtl(tmp_path, fail_variant="default")
    jobs = runner.plan(st, str(tmp_path / "out"), [1, 2], False)
    said = []
    out = runner.execute(jobs, gtl, 0, parallel=2, say=said.append)
    status = {(o.job.variant, o.job.seed): o for o in out}
    assert status[("default", 1)].status == "failed" and status[("default", 1)].code == 1
    assert "boom: bad data file" in status[("default", 1)].message
    assert status[("k3", 2)].status == "done"
    lines = []
    assert runner.summarize(out, say=lines.append) is False
    assert any("FAILED smoke/default/seed-1 (exit 1)" in l for l in lines)


def test_missing_data_is_named_with_its_fetch_step(tmp_path, monkeypatch):
    assert runner.data_problem(["--dataset", "digits"]) is None
    assert "fetch-data.sh tu" in runner.data_problem(["--dataset", f"tu:{tmp_path}/X/X"])
    assert "fetch-data.sh genes" in runner.data_problem(["--dataset", f"csv:{tmp_path}/g.csv"])
    monkeypatch.setattr(runner, "FASHION_DIR", str(tmp_path / "none"))
    assert "scripts/fetch-data.sh" in runner.data_problem(["--dataset", "fashion-mnist"])
    (tmp_path / "X").mkdir()
    (tmp_path / "X" / "X_graph_indicator.txt").write_text("1\n")
    assert runner.data_problem(["--dataset", f"tu:{tmp_path}/X/X"]) is None


def test_genes_study_is_configured_from_json_or_flags(tmp_path, monkeypatch):
    monkeypatch.delenv("GTL_GENES_FLAGS", raising=False)
    monkeypatch.setenv("GTL_GENES_DIR", str(tmp_path / "empty"))
    st = defs.build("genes")
    assert st.skip_reason and "fetch-data.sh genes" in st.skip_reason and "--genes-flags" in st.skip_reason
    jobs = runner.plan(st, str(tmp_path), [1], False)
    assert all(j.skip_reason for j in jobs)
    d = tmp_path / "genes"
    d.mkdir()
    (d / "study.json").write_text(json.dumps({"dataset": "csv:/data/g.csv", "pretrain_classes": "0-7",
                                              "downstreamClasses": "8-13", "ways": 4}))
    monkeypatch.setenv("GTL_GENES_DIR", str(d))
    st = defs.build("genes")
    assert st.skip_reason is None
    f = defs.job_flags(st, st.variant("kmeans"), False)
    assert defs.flag_value(f, "dataset") == "csv:/data/g.csv"
    assert defs.flag_value(f, "layers") == "flatten dense(64) relu dense(32) relu dense(8)"   # max(8 classes, 4 ways)
    assert defs.flag_value(f, "objective") == "kmeans" and defs.flag_value(f, "ways") == "4"
    st = defs.build("genes", "--dataset csv:/x.csv --pretrain-classes 0-2 --downstream-classes 3-9 --ways 6")
    f = defs.job_flags(st, st.variant("supervised"), False)
    assert defs.flag_value(f, "layers").endswith("dense(6)")


def test_recorded_command_reproduces_the_whole_study(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("study_cli", os.path.join(os.path.dirname(__file__), "..", "..", "study.py"))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path)
    cmd = cli.record_command(out, "smoke", ["run", "smoke", "--only", "k3", "--out", out, "--seeds", "2"], "smoke")
    assert cmd == f"scripts/study.py run smoke --out {out} --seeds 2"
    cmd = cli.record_command(out, "guide-choices", ["run", "all", "--full"], "all")
    assert cmd == "scripts/study.py run guide-choices --full"
    assert open(os.path.join(out, "guide-choices", "command.txt")).read().strip() == cmd

"""The driver on a tiny study (`smoke`: digits, default + k3 sharing its baseline, 1 seed) against
the real gtl binary: $GTL_BIN, else .build/release/gtl. Skips when neither exists."""
import csv
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
STUDY = os.path.join(ROOT, "scripts", "study.py")
GTL = os.environ.get("GTL_BIN") or os.path.join(ROOT, ".build", "release", "gtl")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isfile(GTL), reason=f"no gtl binary at {GTL} (build it: swift build -c release)")
def test_smoke_study_end_to_end(tmp_path):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "studies")
    cmd = [sys.executable, STUDY, "run", "smoke", "--out", out, "--gtl", GTL, "--workers", "0"]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    d = os.path.join(out, "smoke")
    for v in ("default", "k3"):
        job = os.path.join(d, v, "seed-1")
        for f in ("report.json", "guide.safetensors", "base.safetensors", "run.log", "command.json"):
            assert os.path.isfile(os.path.join(job, f)), f"{job}/{f}"
    results = list(csv.DictReader(open(os.path.join(d, "results.csv"))))
    assert len(results) == 2 * 5   # 2 variants x 1 seed x 1 shot x 5 arms
    k3 = {row["arm"]: row for row in results if row["variant"] == "k3"}
    assert k3["gtl"]["source"] == "k3" and k3["finetune"]["source"] == "default"
    assert all(row["per_episode"] == "1" and row["test_n"] == "10" for row in results)
    summary = list(csv.DictReader(open(os.path.join(d, "summary.csv"))))
    assert len(summary) == 10
    g = next(s for s in summary if s["variant"] == "k3" and s["arm"] == "gtl")
    assert g["best_diff_mean"] and g["ft_diff_mean"] and g["ft_paired"] == "yes"
    md = open(os.path.join(d, "summary.md")).read()
    assert md.startswith("Reproduce: `scripts/study.py run smoke --out ")
    assert "### 5-way 1-shot" in md
    pngs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
    assert pngs == ["smoke-arms.png", "smoke-factors-1shot.png", "smoke-gtl-differences.png",
                    "smoke-guide-histograms.png", "smoke-scout-loss.png"]
    for p in pngs:
        with open(os.path.join(d, p), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(os.path.join(d, p)) > 10_000
    # Resumable: the same command again runs no job.
    first = time.monotonic() - t0
    r2 = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "2 job(s) already have a report.json: skipped" in r2.stdout
    assert "start " not in r2.stdout
    assert first < 120

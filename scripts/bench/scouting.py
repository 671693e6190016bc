#!/usr/bin/env python3
"""Whole scouting runs: `gtl run` with local worker processes against the same scouts trained in
one process, wall time of pre-training + scouting (report.json "seconds"; evaluation is cut to the
minimum and not counted). Configurations are interleaved repeat by repeat.

  1 core  : `taskset -c 0 gtl run --workers 0` (parallelMap then has one core) against
            `taskset -c 0 gtl run --workers 1` (coordinator and its one worker share that core):
            the distribution overhead, everything else equal.
  2 cores : `gtl run --workers 0` (parallelMap on both cores) against `--workers 2`.

  scouting.py GTL_BINARY [--repeats N] [--scouts N] [--baseline OTHER_GTL] [extra job flags...]

With --baseline, every configuration is repeated with OTHER_GTL (e.g. the build of the parent
commit) in the same interleaved order, and each binary's overhead is against its own in-process
run, so a change to the cluster is measured side by side even when the engine changed too.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CONFIGS = [
    ("1 core, in-process", ["taskset", "-c", "0"], 0),
    ("1 core, 1 worker", ["taskset", "-c", "0"], 1),
    ("2 cores, in-process", [], 0),
    ("2 cores, 2 workers", [], 2),
]
EVAL = ["--shots", "1", "--episodes", "2", "--validation-episodes", "1"]


def one(gtl, prefix, workers, job, tmp):
    """Wall seconds of pre-training + scouting of one `gtl run`, and report.json's "seconds"."""
    out = os.path.join(tmp, "run")
    shutil.rmtree(out, ignore_errors=True)
    cmd = prefix + [gtl, "run", "--out", out, "--workers", str(workers)] + job + EVAL
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    with open(os.path.join(out, "report.json")) as f:
        s = json.load(f)["seconds"]
    return s["pretrain+scouts"] if "pretrain+scouts" in s else s["pretrain"] + s["scouts"], s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("gtl")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scouts", type=int)
    p.add_argument("--baseline", help="another gtl binary whose runs with workers are interleaved with these")
    a, job = p.parse_known_args()
    if a.scouts:
        job = ["--scouts", str(a.scouts)] + job
    configs = [(name, prefix, workers, a.gtl) for name, prefix, workers in CONFIGS]
    if a.baseline:
        configs += [(name + " (baseline)", prefix, workers, a.baseline) for name, prefix, workers in CONFIGS]
        configs.sort(key=lambda c: (c[0].split(",")[0], c[2]))   # each core count's runs back to back
    tmp = tempfile.mkdtemp(prefix="gtl-bench-scouting-")
    times = {c[0]: [] for c in configs}
    pretrain = []
    try:
        for r in range(a.repeats):
            for name, prefix, workers, gtl in configs:
                t, s = one(gtl, prefix, workers, job, tmp)
                times[name].append(t)
                if "pretrain" in s and prefix:
                    pretrain.append(s["pretrain"])
            print(f"repeat {r + 1}/{a.repeats} done", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.baseline:
        print(f"binary: {a.gtl}; baseline: {a.baseline}")
    print(f"job flags: {' '.join(job) or '(defaults)'}; {a.repeats} interleaved repeats; "
          f"pre-training alone (1 core, in-process): {statistics.median(pretrain):.2f} s")
    print(f"{'configuration':30s} {'pretrain+scouts s (min..max)':>30s}  vs in-process same cores")
    for name, _, workers, _ in configs:
        v = times[name]
        # Each binary against its own in-process run: the engine may have changed too.
        ref = times[name.split(",")[0] + ", in-process" + (" (baseline)" if name.endswith("(baseline)") else "")]
        over = [x / y - 1 for x, y in zip(v, ref)]
        print(f"{name:30s} {statistics.median(v):12.2f} ({min(v):.2f}..{max(v):.2f})".ljust(63)
              + ("" if workers == 0 else f"{100 * statistics.median(over):+6.1f}% ({100 * min(over):+.1f}..{100 * max(over):+.1f})"))


if __name__ == "__main__":
    main()

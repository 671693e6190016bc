#!/usr/bin/env python3
"""gtl against PyTorch CPU, side by side: for each repeat and model, one `gtl bench engine` repeat
(its own process, 1 OpenBLAS thread) then one PyTorch repeat (this process, 1 thread), so slow
phases of the shared machine hit both sides alike. Prints medians, ranges and the ratio.

  compare_engine.py GTL_BINARY [--repeats N] [--seconds S] [--json-out FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import pytorch_bench  # noqa: E402

MODELS = ["mlp784", "mlp64", "cnn"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("gtl")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--json-out")
    a = p.parse_args()
    torch.set_num_threads(1)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    benches = {m: pytorch_bench.Bench(m) for m in MODELS}
    rows = {m: {"gtl": [], "torch": [], "ratio": [], "sgemm": [], "bound_fraction": []} for m in MODELS}
    for r in range(a.repeats):
        for m in MODELS:
            out = subprocess.run([a.gtl, "bench", "engine", "--model", m, "--repeats", "1", "--seconds", str(a.seconds), "--json"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            g = json.loads(out.strip().splitlines()[-1])
            t = benches[m].rate(a.seconds)
            rows[m]["gtl"].append(g["steps_per_s"])
            rows[m]["torch"].append(t)
            rows[m]["ratio"].append(g["steps_per_s"] / t)
            rows[m]["sgemm"].append(g["sgemm_gflops"])
            rows[m]["bound_fraction"].append(g["fraction_of_bound"])
        print(f"repeat {r + 1}/{a.repeats} done", file=sys.stderr)
    info = pytorch_bench.describe()
    print(f"PyTorch {info['torch']} ({info['threads']} thread, CPU capability {info['cpu_capability']}, "
          f"MKL {info['mkl']}, oneDNN {info['mkldnn']}); gtl with OPENBLAS_NUM_THREADS=1; "
          f"{a.repeats} interleaved repeats of {a.seconds} s")
    print(f"{'model':8s} {'gtl steps/s (min..max)':>28s} {'torch steps/s (min..max)':>28s} {'gtl/torch (min..max)':>24s} "
          f"{'sgemm GFLOP/s':>14s} {'gtl of bound':>13s}")
    summary = {"torch": info, "repeats": a.repeats, "seconds": a.seconds, "models": {}}
    for m in MODELS:
        d = rows[m]
        med = {k: statistics.median(v) for k, v in d.items()}
        rng = {k: (min(v), max(v)) for k, v in d.items()}
        print(f"{m:8s} {med['gtl']:12.0f} ({rng['gtl'][0]:.0f}..{rng['gtl'][1]:.0f})".ljust(38)
              + f"{med['torch']:12.0f} ({rng['torch'][0]:.0f}..{rng['torch'][1]:.0f})".ljust(30)
              + f"{med['ratio']:8.2f} ({rng['ratio'][0]:.2f}..{rng['ratio'][1]:.2f})".ljust(26)
              + f"{med['sgemm']:10.1f}      {100 * med['bound_fraction']:6.1f}%")
        summary["models"][m] = {"median": med, "range": rng, "samples": d}
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()

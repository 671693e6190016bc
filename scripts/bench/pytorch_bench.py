#!/usr/bin/env python3
"""PyTorch CPU side of the engine comparison: the same models, step and timing as `gtl bench engine`.

Step = forward, cross-entropy loss (mean over the batch), backward, plain SGD update, exactly what
a PyTorch user writes: tensors created once and reused, `zero_grad(set_to_none=True)`, the input
does not require grad (so, as in gtl, the first layer's input gradient is not computed).
Data: uniform [0, 1) inputs and uniform random labels, like gtl's bench (same distribution, not the
same bits; the step's cost does not depend on the values).

Timing: 20 warm-up steps, then each repeat runs steps in groups of 8 for about `seconds` and
reports steps/s (gtl's EngineBench.rate does the same).

  pytorch_bench.py [--model mlp784|mlp64|cnn|all] [--repeats N] [--seconds S] [--threads T] [--json]
  pytorch_bench.py --kernels      # which ATen/oneDNN/MKL kernels one step of each model runs
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 32


def make_model(name):
    if name == "mlp784":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)), (784,)
    if name == "mlp64":
        return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), (64,)
    if name == "cnn":
        # gtl: 1x28x28: conv2d(8,3,1,1) relu maxpool(2,2) conv2d(16,3,1,1) relu maxpool(2,2) flatten dense(10)
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, 10)), (1, 28, 28)
    raise ValueError(name)


class Bench:
    """One model with its optimiser and a fixed random batch, ready to step."""

    def __init__(self, name, seed=1):
        torch.manual_seed(seed)
        self.model, shape = make_model(name)
        self.model.train()
        self.x = torch.rand((BATCH,) + shape)
        self.y = torch.randint(0, 10, (BATCH,))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
        for _ in range(20):
            self.step()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()

    def rate(self, seconds):
        calls = 0
        start = time.perf_counter()
        while True:
            for _ in range(8):
                self.step()
            calls += 8
            now = time.perf_counter()
            if now - start >= seconds:
                return calls / (now - start)


def kernels(name):
    """The ATen ops (and so the backend kernels) one training step runs, by self CPU time."""
    b = Bench(name)
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(20):
            b.step()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    return [(e.key, round(e.self_cpu_time_total / 20, 1)) for e in rows[:8]]


def describe():
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "mkl": torch.backends.mkl.is_available(),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="all", choices=["mlp784", "mlp64", "cnn", "all"])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument("--kernels", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    models = ["mlp784", "mlp64", "cnn"] if a.model == "all" else [a.model]
    info = describe()
    if a.kernels:
        print(json.dumps(info))
        for m in models:
            print(m, "top ops by self CPU us/step:", kernels(m))
        return
    if not a.json:
        print(f"torch {info['torch']}, {info['threads']} thread(s), CPU capability {info['cpu_capability']}")
    for m in models:
        b = Bench(m)
        xs = sorted(b.rate(a.seconds) for _ in range(a.repeats))
        r = {"model": m, "steps_per_s": statistics.median(xs), "min": xs[0], "max": xs[-1], **info}
        print(json.dumps(r) if a.json else f"{m:8s} {r['steps_per_s']:10.0f} steps/s ({xs[0]:.0f}..{xs[-1]:.0f})")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

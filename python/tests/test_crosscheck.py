"""Cross-check against the gtl binary (GTL_BIN): the same base, guide and data fine-tuned by
`gtl finetune --train-all` and by PyTorch + GuidedOptimizer must end at the same weights, and a
gtl model imported into PyTorch must score what gtl reports."""

import json
import os
import re
import subprocess

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from safetensors.torch import load_file, save_file

from conftest import digits
from gtl_torch import GuidedOptimizer, export_base, import_base, load_guide

CLASSES = [5, 6, 7, 8, 9]
STEPS = 40
LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01}
REPORT = os.environ.get("GTL_INTEROP_REPORT")


def report(**row):
    if REPORT:
        with open(REPORT, "a") as f:
            f.write(json.dumps(row) + "\n")


@pytest.fixture(scope="module")
def data():
    return digits(CLASSES)


def gtl_finetune(gtl_bin, base, out, kind, steps, guide=None):
    cmd = [gtl_bin, "finetune", "--train-all", "--base", str(base), "--classes", "5-9", "--dataset", "digits",
           "--optimizer", kind, "--lr", str(LR[kind]), "--steps", str(steps), "--out", str(out)]
    if guide is not None:
        cmd += ["--guide", str(guide)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{' '.join(cmd)} failed: {run.stderr}"
    m = re.search(r"(\d+) samples of .* training loss ([\d.]+) -> ([\d.]+), training accuracy [\d.]+% \((\d+)/(\d+)\)",
                  run.stdout)
    assert m, f"unexpected gtl output: {run.stdout}"
    return {"samples": int(m[1]), "loss_before": float(m[2]), "loss_after": float(m[3]), "correct": int(m[4])}


def torch_finetune(model, kind, steps, x, y, guide=None):
    inner = {"sgd": lambda ps: torch.optim.SGD(ps, lr=LR[kind]),
             "momentum": lambda ps: torch.optim.SGD(ps, lr=LR[kind], momentum=0.9),
             "adam": lambda ps: torch.optim.Adam(ps, lr=LR[kind])}[kind](model.parameters())
    opt = GuidedOptimizer(inner, guide, model) if guide is not None else inner
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def score(model, x, y):
    """Mean cross-entropy, correct count (argmax over the first len(CLASSES) outputs, as gtl
    scores), and how many samples have their top two logits within 1e-4 (a tie either side may
    break differently)."""
    with torch.no_grad():
        logits = model.eval()(x)
        loss = F.cross_entropy(logits, y).item()
        head = logits[:, : len(CLASSES)]
        correct = int((head.argmax(1) == y).sum())
        top2 = head.topk(2, dim=1).values
        near = int(((top2[:, 0] - top2[:, 1]) < 1e-4).sum())
    return loss, correct, near


def compare(gtl_file, model, base_file):
    """Max |gtl - torch| over all weights, relative to the largest weight and to the largest
    distance training moved a weight."""
    a = load_file(str(gtl_file))
    b = {n: p.detach() for n, p in model.named_parameters()}
    w0 = load_file(str(base_file))
    assert sorted(a) == sorted(b)
    diff = max(float((a[n] - b[n]).abs().max()) for n in a)
    scale = max(float(a[n].abs().max()) for n in a)
    moved = max(float((a[n] - w0[n]).abs().max()) for n in a)
    return diff, scale, moved


def check_same_training(gtl_bin, tmp_path, base, guide, kind, x, y, case):
    out = tmp_path / f"{case}-{kind}.safetensors"
    g = gtl_finetune(gtl_bin, base, out, kind, STEPS, guide)
    assert g["samples"] == len(y)
    model = import_base(base)
    torch_finetune(model, kind, STEPS, x, y, load_guide(guide, model))
    diff, scale, moved = compare(out, model, base)
    # The guide must matter here, or the comparison proves nothing: unguided training ends elsewhere.
    unguided = torch_finetune(import_base(base), kind, STEPS, x, y)
    away, _, _ = compare(out, unguided, base)
    report(case=case, optimizer=kind, lr=LR[kind], steps=STEPS, max_abs_diff=diff, max_abs_weight=scale,
           max_moved=moved, rel_to_weight=diff / scale, rel_to_moved=diff / moved, unguided_distance=away)
    assert moved > 0.05, f"{case}/{kind}: training barely moved the weights ({moved:g})"
    assert away > 100 * diff, f"{case}/{kind}: guided and unguided runs are not told apart ({away:g} vs {diff:g})"
    assert diff <= 1e-4 * scale and diff <= 1e-3 * moved, \
        f"{case}/{kind}: gtl and PyTorch differ by {diff:g} (largest weight {scale:g}, largest move {moved:g})"
    # Parameters with guide 0 stay exactly at the base in both.
    w0, gv, a = load_file(str(base)), load_file(str(guide)), load_file(str(out))
    for n, p in model.named_parameters():
        frozen = gv[n] == 0
        assert torch.equal(a[n][frozen], w0[n][frozen]) and torch.equal(p.detach()[frozen], w0[n][frozen])
    # The fine-tuned gtl model, imported, scores in PyTorch what gtl reported for it.
    loss, correct, near = score(import_base(out), x, y)
    assert abs(loss - g["loss_after"]) <= 2e-5 * max(1.0, loss), (loss, g)
    assert abs(correct - g["correct"]) <= near, (correct, near, g)


@pytest.fixture(scope="module")
def scouted(gtl_bin, tmp_path_factory):
    """A real gtl scouting run (small): its base.safetensors and guide.safetensors."""
    d = tmp_path_factory.mktemp("scouted")
    cmd = [gtl_bin, "run", "--workers", "0", "--out", str(d / "run"), "--layers", "flatten dense(16) relu dense(10)",
           "--pretrain-classes", "0-4", "--downstream-classes", "5-9", "--pretrain-steps", "150",
           "--scouts", "8", "--scout-steps", "40", "--episodes", "4", "--validation-episodes", "2", "--shots", "1"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return d / "run" / "base.safetensors", d / "run" / "guide.safetensors"


@pytest.fixture(scope="module")
def torch_base(tmp_path_factory):
    """A PyTorch CNN exported as a gtl base, with a hand-made guide (a quarter frozen)."""
    d = tmp_path_factory.mktemp("torchbase")
    torch.manual_seed(11)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 5))
    export_base(model, (1, 8, 8), d / "base.safetensors")
    gen = torch.Generator().manual_seed(12)
    guide = {}
    for n, p in model.named_parameters():
        g = torch.rand(p.shape, generator=gen)
        g[torch.rand(p.shape, generator=gen) < 0.25] = 0
        guide[n] = g
    save_file(guide, str(d / "guide.safetensors"), metadata={"gtl.kind": "guide"})
    return d / "base.safetensors", d / "guide.safetensors"


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_gtl_guide_in_pytorch_trains_like_gtl(gtl_bin, scouted, data, kind, tmp_path):
    base, guide = scouted
    check_same_training(gtl_bin, tmp_path, base, guide, kind, *data, case="gtl-scouted-mlp")


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_pytorch_base_trains_in_gtl_like_in_pytorch(gtl_bin, torch_base, data, kind, tmp_path):
    base, guide = torch_base
    check_same_training(gtl_bin, tmp_path, base, guide, kind, *data, case="torch-cnn")


def test_imported_gtl_base_predicts_like_gtl(gtl_bin, scouted, data, tmp_path):
    base, _ = scouted
    g = gtl_finetune(gtl_bin, base, tmp_path / "same.safetensors", "adam", 0)
    x, y = data
    model = import_base(base)
    loss, correct, near = score(model, x, y)
    report(case="import-gtl-base", loss_gtl=g["loss_before"], loss_torch=loss, correct_gtl=g["correct"],
           correct_torch=correct, samples=len(y))
    assert g["loss_before"] == g["loss_after"]
    assert abs(loss - g["loss_before"]) <= 2e-5 * max(1.0, loss), (loss, g)
    assert abs(correct - g["correct"]) <= near, (correct, near, g)
    # A pre-trained base predicts far from chance on its own classes (0-4): the weights really loaded.
    x0, y0 = digits([0, 1, 2, 3, 4])
    _, correct0, _ = score(model, x0, y0)
    assert correct0 > 0.8 * len(y0)

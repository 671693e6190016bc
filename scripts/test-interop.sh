#!/usr/bin/env bash
# PyTorch interop (python/gtl_torch): unit tests and the cross-check against the gtl binary
# (same base, guide and data fine-tuned by `gtl finetune --train-all` and by PyTorch must end at
# the same weights; gtl models imported into PyTorch must score what gtl reports).
# Uses a venv in .venv-interop (created once, then reused) with the CPU-only torch wheel.
# Skips (exit 0) only when that torch wheel cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
t0=$SECONDS

swift build
gtl=$root/.build/debug/gtl

venv=$root/.venv-interop
py=$venv/bin/python
if [ ! -x "$py" ]; then
    python3 -m venv "$venv"
fi
if ! "$py" -c 'import torch, numpy, safetensors, pytest' 2>/dev/null; then
    # Never a plain `pip install torch`: that pulls the CUDA build (gigabytes).
    if ! "$py" -m pip install -q "torch==2.13.0+cpu" numpy safetensors pytest; then
        if ! "$py" -c 'import torch' 2>/dev/null; then
            echo "test-interop: SKIPPED: the wheel torch==2.13.0+cpu cannot be installed here"
            exit 0
        fi
        echo "test-interop: installing numpy, safetensors or pytest failed" >&2
        exit 1
    fi
fi
# The package under test, installed as a user would (the tests import it from the venv).
"$py" -m pip install -q --no-build-isolation --no-deps --force-reinstall "$root/python" \
    || "$py" -m pip install -q --no-deps --force-reinstall "$root/python"
rm -rf "$root/python/build" "$root/python/gtl_torch.egg-info"
echo "test-interop: $("$py" -c 'import torch, gtl_torch; print("torch", torch.__version__, "gtl_torch", gtl_torch.__version__)') (setup $((SECONDS - t0)) s)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t1=$SECONDS
set +e
GTL_BIN=$gtl GTL_INTEROP_REPORT=$work/report.jsonl OMP_NUM_THREADS=1 \
    "$py" -m pytest -q -p no:cacheprovider --junitxml="$work/junit.xml" python/tests
rc=$?
set -e
echo "test-interop: tests took $((SECONDS - t1)) s"

if [ -s "$work/report.jsonl" ]; then
    "$py" - "$work/report.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("cross-check gtl vs PyTorch (final weights after full-batch fine-tuning on digits 5-9):")
for r in rows:
    if "optimizer" in r:
        print(f"  {r['case']:16} {r['optimizer']:8} lr {r['lr']:<5} {r['steps']} steps: max|diff| {r['max_abs_diff']:.3g}"
              f"  (x{r['rel_to_weight']:.2g} of the largest weight, x{r['rel_to_moved']:.2g} of the largest move;"
              f" unguided run ends {r['unguided_distance']:.3g} away)")
    else:
        print(f"  {r['case']:16} loss gtl {r['loss_gtl']:.6f} torch {r['loss_torch']:.6f},"
              f" correct gtl {r['correct_gtl']}/{r['samples']} torch {r['correct_torch']}/{r['samples']}")
PY
fi

read -r passed failed < <("$py" - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) + int(s.get("skipped", 0)) for s in suites)
print(total - bad, bad)
PY
) || { passed=0; failed=1; }
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # pytest failed outside any test
echo "test-interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

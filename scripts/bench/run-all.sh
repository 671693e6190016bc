#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md, in one go: builds release, sets up PyTorch CPU in .venv-bench,
# runs the engine comparison, the scouting runs, the cluster benchmarks and the memory check.
# Output goes to the terminal and to bench-results/ (one file per benchmark).
# Usage: scripts/bench/run-all.sh [--quick]   (--quick: fewer repeats, for a smoke test)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS=7; SREPEATS=9; SECONDS_PER=0.5
[[ "${1:-}" == "--quick" ]] && { REPEATS=2; SREPEATS=1; SECONDS_PER=0.2; }
OUT=bench-results
mkdir -p "$OUT"
echo '*' > "$OUT/.gitignore"

swift build -c release
GTL=.build/release/gtl
if [[ ! -x .venv-bench/bin/python ]] || ! .venv-bench/bin/python -c 'import torch, numpy' 2>/dev/null; then
  python3 -m venv .venv-bench
  echo '*' > .venv-bench/.gitignore
  # The CPU wheel only: a plain `pip install torch` pulls gigabytes of CUDA libraries.
  .venv-bench/bin/pip install "torch==2.13.0+cpu" numpy
fi
PY=.venv-bench/bin/python
export OPENBLAS_NUM_THREADS=1   # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left as the machine sets them
run() { local name=$1; shift; echo; echo "== $name: $*"; "$@" 2>&1 | grep -v '^\[bench\] worker\|^repeat ' | tee "$OUT/$name.txt"; }

{ date -u; uname -a; grep -m1 'model name' /proc/cpuinfo; nproc; env | grep '^OPENBLAS' || true; } > "$OUT/machine.txt"
cat "$OUT/machine.txt"

run engine-vs-pytorch $PY scripts/bench/compare_engine.py $GTL --repeats $REPEATS --seconds $SECONDS_PER --json-out "$OUT/engine-vs-pytorch.json"
run pytorch-kernels $PY scripts/bench/pytorch_bench.py --kernels
run scouting-default $PY scripts/bench/scouting.py $GTL --repeats $SREPEATS
run scouting-128 $PY scripts/bench/scouting.py $GTL --repeats $SREPEATS --scouts 128
run scouting-128-long $PY scripts/bench/scouting.py $GTL --repeats $SREPEATS --scouts 128 --scout-steps 2000
for w in 1 10 50 100; do run dispatch-$w $GTL bench cluster dispatch --workers $w --tasks 5000; done
run snapshot-plain $GTL bench cluster snapshot --repeats 11
run snapshot-curve $GTL bench cluster snapshot --repeats 11 --curve
for n in 10 100 500; do run reducer-$n $GTL bench cluster reducer --scouts $n; done
run memory-10M scripts/bench/memory.sh $GTL

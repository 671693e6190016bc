#!/usr/bin/env bash
# Runs the embedded job in several variants (scout design, statistic, normalisation, base) and
# writes a Markdown table of every arm's test accuracy per variant to OUT/summary.md.
# Usage: scripts/experiments.sh [OUT]   (default out/experiments; each variant ~1-2 min on 2 cores)
# Scouts run in-process (--workers 0): the guide is bit-identical to a cluster run of the same job.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/experiments}
mkdir -p "$out"
swift build -c release >/dev/null
gtl=.build/release/gtl

variants=(
  "default|"
  "k3|--classes-per-scout 3"
  "k5|--classes-per-scout 5"
  "scouts256|--scouts 256"
  "auto|--scouts auto"
  "absolute|--statistic absolute"
  "path|--statistic path"
  "fisher|--statistic fisher"
  "model-scope|--normalization model"
  "short-pretrain|--pretrain-steps 300"
  "short-pretrain-k3|--pretrain-steps 300 --classes-per-scout 3"
  "all-samples|--samples-per-class all --scout-steps 300"
)
for v in "${variants[@]}"; do
  name=${v%%|*}; flags=${v#*|}
  if [ -f "$out/$name/report.json" ]; then echo "skip $name (done)"; continue; fi
  echo "== $name: gtl run $flags"
  # shellcheck disable=SC2086
  $gtl run --workers 0 --out "$out/$name" $flags > "$out/$name.log" 2>&1 || { echo "variant $name failed, see $out/$name.log"; exit 1; }
done
python3 scripts/summarize-reports.py "$out" > "$out/summary.md"
cat "$out/summary.md"

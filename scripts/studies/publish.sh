#!/usr/bin/env bash
# Copies what STUDIES.md shows from a study run into the tree: each study's summary.md,
# summary.csv, results.csv, command.txt and PNG plots, and every job's report.json as one gzipped
# JSON-lines file (reports.jsonl.gz: {"variant", "seed", "report"} per line, the raw per-episode
# accuracies and per-scout losses included). Models and journals stay behind.
#   scripts/studies/publish.sh [OUT [DEST]]   (defaults: studies-out, scripts/studies/results)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-studies-out} dest=${2:-scripts/studies/results}
found=0
for s in scout-design unsupervised architectures genes guide-choices; do
  src=$out/$s
  [ -f "$src/summary.md" ] || { echo "publish: $src/summary.md missing (run scripts/study.py run $s); skipped"; continue; }
  found=1
  rm -rf "${dest:?}/$s"; mkdir -p "$dest/$s"
  cp "$src/summary.md" "$src/summary.csv" "$src/results.csv" "$src/command.txt" "$src"/*.png "$dest/$s/"
  python3 - "$src" "$dest/$s/reports.jsonl.gz" <<'PY'
import glob, gzip, io, json, os, sys
src, out = sys.argv[1], sys.argv[2]
n = 0
# mtime=0 and no file name in the gzip header: the same reports give the same bytes.
with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as z, \
        io.TextIOWrapper(z, encoding="utf-8") as f:
    for p in sorted(glob.glob(os.path.join(src, "*", "seed-*", "report.json"))):
        variant, seed = p.split(os.sep)[-3], p.split(os.sep)[-2]
        with open(p) as r:
            f.write(json.dumps({"variant": variant, "seed": int(seed.split("-")[1]), "report": json.load(r)}, sort_keys=True) + "\n")
        n += 1
print(f"publish: {src}: {n} reports -> {out}")
PY
done
[ "$found" = 1 ] || { echo "publish: nothing to publish in $out" >&2; exit 1; }

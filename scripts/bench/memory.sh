#!/usr/bin/env bash
# Peak memory (VmHWM = maximum resident set, as GNU time reports it) of a coordinator and of a
# worker for a ~10M-parameter model: `gtl coordinator` and one `gtl worker` as separate processes
# on tcp loopback, 2 scouts of 5 steps (the size of the model, not the work, sets the memory).
# Usage: scripts/bench/memory.sh GTL_BINARY
set -euo pipefail
GTL=${1:?usage: memory.sh GTL_BINARY}
LAYERS=${LAYERS:-"flatten dense(3150) relu dense(3150) relu dense(5)"}
dir=$(mktemp -d /tmp/gtl-bench-memory-XXXXXX)
trap 'rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OPENBLAS_NUM_THREADS=1
/usr/bin/time -f "%M" -o "$dir/coordinator.kb" "$GTL" coordinator --bind "tcp://127.0.0.1:$port" --out "$dir/out" \
  --layers "$LAYERS" --pretrain-steps 5 --scouts 2 --scout-steps 5 --heartbeat-ms 10000 >"$dir/coordinator.log" 2>&1 &
coord=$!
# A long heartbeat: a 160 MB result keeps the coordinator busy for seconds, and a worker that
# reconnects meanwhile misses the job-over message (it would then retry forever; see BENCHMARKS.md).
/usr/bin/time -f "%M" -o "$dir/worker.kb" "$GTL" worker --connect "tcp://127.0.0.1:$port" --heartbeat-ms 10000 >"$dir/worker.log" 2>&1 &
worker=$!
wait "$coord"
for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
kill "$worker" 2>/dev/null && echo "(worker still running 10 s after the coordinator exited: stopped with SIGTERM)"
wait "$worker" || true
params=$(grep -o 'snapshot [0-9]* bytes' "$dir/coordinator.log" | head -1 | grep -o '[0-9]*')
echo "layers: $LAYERS (snapshot $params bytes)"
echo "coordinator peak RSS: $(( $(cat "$dir/coordinator.kb") / 1024 )) MiB"
echo "worker peak RSS:      $(( $(tail -n 1 "$dir/worker.kb") / 1024 )) MiB"

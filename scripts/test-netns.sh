#!/usr/bin/env bash
# Multi-host test: a coordinator and workers on separate "hosts" (network namespaces joined by a
# bridge, each with its own address), over TCP with CURVE. The guide must be bit-identical to the
# same job run on loopback. Needs root and iproute2; skips with a clear message otherwise.
# Usage: scripts/test-netns.sh [path/to/gtl]   (default: .build/debug/gtl)
set -euo pipefail
cd "$(dirname "$0")/.."
gtl=$(realpath "${1:-.build/debug/gtl}")

if [ "$(id -u)" -ne 0 ]; then echo "test-netns: SKIPPED (needs root to create network namespaces)"; exit 0; fi
if ! command -v ip >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
if ! ip netns add gtl-probe-$$ 2>/dev/null; then echo "test-netns: SKIPPED (this kernel or sandbox does not allow network namespaces)"; exit 0; fi
ip netns del gtl-probe-$$

[ -x "$gtl" ] || { echo "test-netns: $gtl not built (run swift build)"; exit 1; }
tag=$$
sw=gtlsw$tag; hosts=(gtla$tag gtlb$tag gtlc$tag)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for h in "${hosts[@]}" "$sw"; do ip netns del "$h" 2>/dev/null || true; done
  [ -n "${GTL_NETNS_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# A switch namespace with a bridge, and one namespace per host, each with its own address.
ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for i in 0 1 2; do
  h=${hosts[$i]}
  ip netns add "$h"
  ip link add "v$i$tag" type veth peer name "p$i$tag"
  ip link set "v$i$tag" netns "$h"
  ip link set "p$i$tag" netns "$sw"
  ip -n "$sw" link set "p$i$tag" master br0 up
  ip -n "$h" addr add "10.250.0.$((i + 1))/24" dev "v$i$tag"
  ip -n "$h" link set "v$i$tag" up
  ip -n "$h" link set lo up
done

# The job, keys, and the reference run on loopback.
cat > "$work/job.json" <<JOB
{"dataset":"digits","layers":"flatten dense(16) relu dense(5)","seed":7,"scouts":12,"classesPerScout":2,"samplesPerClass":20,
 "bootstrap":false,"pretrainClasses":[0,1,2,3,4],"downstreamClasses":[5,6,7,8,9],"statistics":["squared","absolute","path","fisher"],
 "pretrain":{"steps":40,"batchSize":32,"optimizer":{"kind":"adam","learningRate":0.001}},
 "scout":{"steps":60,"batchSize":16,"optimizer":{"kind":"sgd","learningRate":0.05}},
 "guide":{"statistic":"squared","scope":"tensor","focus":"minmax","temperature":{"none":{}},"scale":1,"sparsifyBelow":0,"rescaleToMeanOne":false},
 "evaluation":{"ways":5,"shots":[1],"queriesPerClass":10,"testEpisodes":10,"validationEpisodes":2,"validationFraction":0.4,
   "optimizer":"adam","learningRates":[0.01],"stepCounts":[10],"includeMeanOneArm":true}}
JOB
for n in coordinator w1 w2; do "$gtl" keys generate --out "$work/keys" --name "$n" >/dev/null; done
mkdir -p "$work/allowed" && cp "$work/keys/w1.pub" "$work/keys/w2.pub" "$work/allowed/"

"$gtl" coordinator --bind tcp://127.0.0.1:25555 --out "$work/ref" --job "$work/job.json" 2>"$work/ref.log" & pids+=($!); ref=$!
"$gtl" worker --connect tcp://127.0.0.1:25555 2>>"$work/ref.log" & pids+=($!)
wait "$ref"

# The same job across three hosts: coordinator on 10.250.0.1, one worker on each other host.
ip netns exec "${hosts[0]}" "$gtl" coordinator --bind tcp://10.250.0.1:5555 --out "$work/multi" --job "$work/job.json" \
  --curve-secret "$work/keys/coordinator.key" --allow "$work/allowed" --heartbeat-ms 200 2>"$work/coordinator.log" & pids+=($!); coord=$!
for i in 1 2; do
  ip netns exec "${hosts[$i]}" "$gtl" worker --connect tcp://10.250.0.1:5555 --name "host$i" --heartbeat-ms 200 \
    --curve-secret "$work/keys/w$i.key" --server-key "$work/keys/coordinator.pub" 2>"$work/worker$i.log" & pids+=($!)
done
if ! timeout "${GTL_NETNS_TIMEOUT:-180}" tail --pid="$coord" -f /dev/null; then echo "test-netns: coordinator did not finish"; cat "$work/coordinator.log" "$work"/worker*.log; exit 1; fi
wait "$coord" || { echo "test-netns: coordinator failed"; cat "$work/coordinator.log"; exit 1; }

joined=$(grep -c "joined" "$work/coordinator.log" || true)
if cmp -s "$work/ref/guide.safetensors" "$work/multi/guide.safetensors"; then
  echo "test-netns: 3 hosts over CURVE, $joined workers joined; guide identical to the loopback run"
  echo "test-netns: 1 passed, 0 failed"
else
  echo "test-netns: guide differs between the multi-host and the loopback run"; cat "$work/coordinator.log"; exit 1
fi

#!/usr/bin/env bash
# The Slurm deployment, tested on a real (one-node) Slurm: installs Debian's slurm-wlm and munge if
# missing, starts munged, slurmctld and slurmd with a throw-away configuration, and submits the real
# deploy/slurm/gtl.sbatch and gtl-workers-array.sbatch with sbatch. Checks:
#   1. a CURVE job (GTL_KEY_DIR, bind 0.0.0.0, workers connect by host name) with one worker of its
#      own plus one from the worker array writes a guide bit-identical to a plain loopback run;
#   2. `scancel --signal=USR1 --batch` mid-run makes the script checkpoint (coordinator exit 3) and
#      requeue the job; the requeued run resumes from the journal ("resuming: K of N", 0 < K < N)
#      and its guide is bit-identical to an uninterrupted run.
# Needs root; prints SKIPPED and exits 0 where it cannot run. Stops every daemon it started (by PID)
# and removes its files. Usage: scripts/test-slurm.sh [path/to/gtl]
#   (default .build/release/gtl, else .build/debug/gtl). GTL_SLURM_KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
skip() { echo "test-slurm: SKIPPED ($*)"; exit 0; }

if [ -n "${1:-}" ]; then gtl=$1; elif [ -x .build/release/gtl ]; then gtl=.build/release/gtl; else gtl=.build/debug/gtl; fi
[ -x "$gtl" ] || { echo "test-slurm: $gtl not built (run swift build)"; exit 1; }
gtl=$(realpath "$gtl")
# Scout length: long enough that a worker from another allocation joins and that USR1 lands
# mid-run, short enough to be quick. A debug build trains about 8 times slower.
case "$gtl" in */debug/*) steps1=125 steps2=250 ;; *) steps1=1000 steps2=2000 ;; esac
steps1=${GTL_SLURM_STEPS1:-$steps1} steps2=${GTL_SLURM_STEPS2:-$steps2}
[ "$(id -u)" -eq 0 ] || skip "needs root to run the Slurm and munge daemons"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed and there is no apt-get"
  echo "test-slurm: installing slurm-wlm and munge"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge; } >/dev/null 2>&1 \
    || skip "could not install slurm-wlm and munge with apt-get"
fi
for cmd in slurmctld slurmd sbatch squeue scontrol scancel sinfo munged; do
  command -v "$cmd" >/dev/null || skip "$cmd is missing after installing slurm-wlm and munge"
done

work=$(mktemp -d /tmp/gtl-slurm.XXXXXX)
chmod 755 "$work"
node=$(hostname -s)
pids=() made=() passed=0 failed=0
started_munge=""
cleanup() {
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -n "${ctld:-}" ] && kill -0 "$ctld" 2>/dev/null; then
    scancel --quiet --full $(squeue -h -o %A 2>/dev/null) 2>/dev/null
    for _ in $(seq 20); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done; kill -KILL "$p" 2>/dev/null; done
  # slurmstepd processes of this cluster, if any outlived their jobs (matched by our config folder).
  for p in $(pgrep -x slurmstepd 2>/dev/null); do
    { tr '\0' '\n' < "/proc/$p/environ" | grep -qx "SLURM_CONF=$work/slurm.conf" && kill -KILL "$p"; } 2>/dev/null
  done
  if [ -n "$started_munge" ]; then
    kill -TERM "$started_munge" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$started_munge" 2>/dev/null || break; sleep 0.25; done
  fi
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do rm -rf "${made[$i]}"; done
  if [ -n "${GTL_SLURM_KEEP:-}" ]; then echo "test-slurm: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "test-slurm: FAILED: $*"; failed=$((failed + 1)); }
pass() { echo "test-slurm: ok: $*"; passed=$((passed + 1)); }

# --- munge: start munged unless one is running; make the key and run folders it needs.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  for d in /run/munge /var/lib/munge /var/log/munge /etc/munge; do
    if [ ! -d "$d" ]; then
      mkdir -p "$d"; made+=("$d"); chown munge:munge "$d"; chmod 0700 "$d"
      if [ "$d" = /run/munge ]; then chmod 0755 "$d"; fi
    fi
  done
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then runuser -u munge -- mungekey --create --keyfile /etc/munge/munge.key
    else create-munge-key -f; fi
    made+=(/etc/munge/munge.key)
  fi
  for f in /var/log/munge/munged.log /var/lib/munge/munged.seed; do [ -e "$f" ] || made+=("$f"); done
  runuser -u munge -- /usr/sbin/munged || skip "munged does not start here"
  for _ in $(seq 40); do [ -s /run/munge/munged.pid ] && break; sleep 0.25; done
  started_munge=$(cat /run/munge/munged.pid 2>/dev/null || true)
  munge -n | unmunge >/dev/null 2>&1 || { echo "test-slurm: munge does not work"; exit 1; }
fi

# --- a one-node Slurm cluster whose state lives in $work.
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$work/slurm.conf" <<CONF
ClusterName=gtltest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=${GTL_SLURM_CTLD_PORT:-26817}
SlurmdPort=${GTL_SLURM_SLURMD_PORT:-26818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
# A requeued job may start again only after its old credential expires (default 120 s): shorter here.
AuthInfo=cred_expire=10
# Schedule often, so the requeued job starts soon after that.
SchedulerParameters=bf_interval=2,sched_interval=2
MinJobAge=600
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
setsid slurmctld -D -i >"$work/log/slurmctld.out" 2>&1 & ctld=$!; pids+=("$ctld")
setsid slurmd -D >"$work/log/slurmd.out" 2>&1 & pids+=($!)
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  echo "test-slurm: the node did not become idle (state '$state')"; tail -n 20 "$work"/log/*; exit 1
fi
echo "test-slurm: Slurm $(sinfo -V | awk '{print $2}') up, node $node idle"

job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }
wait_gone() { # JOBID SECONDS: until the job has left the queue (completed, failed, cancelled)
  for _ in $(seq $(($2 * 2))); do
    case "$(job_field "$1" JobState)" in PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|REQUEUE_HOLD|SUSPENDED|"") sleep 0.5 ;; *) return 0 ;; esac
  done
  return 1
}
reference() { # OUT PORT FLAGS...: the same job, coordinator and two workers on loopback, outside Slurm
  local out=$1 port=$2; shift 2
  "$gtl" coordinator --bind "tcp://127.0.0.1:$port" --out "$out" "$@" 2>"$out.log" & local c=$!
  "$gtl" worker --connect "tcp://127.0.0.1:$port" 2>>"$out.log" & local w1=$!
  "$gtl" worker --connect "tcp://127.0.0.1:$port" 2>>"$out.log" & local w2=$!
  wait "$c" && wait "$w1" && wait "$w2"
}
# sbatch with the job's settings in GTL_* variables (sbatch exports the environment to the job).
sb() { GTL_BINARY="$gtl" GTL_HEARTBEAT_MS=200 GTL_WORKER_GRACE=10 sbatch --parsable --chdir="$work" "$@" | cut -d';' -f1; }

# --- 1. CURVE job, one worker in the allocation plus one from the worker array. The array is
# submitted first: its task waits for the endpoint file that gtl.sbatch writes, then connects.
t0=$SECONDS
layers="flatten dense(256) relu dense(256) relu dense(5)"
flags1=(--seed 11 --scouts 16 --scout-steps "$steps1" --pretrain-steps 50 --layers "$layers")
reference "$work/ref1" 26901 "${flags1[@]}"
keys=$work/keys
"$gtl" keys generate --out "$keys" --name coordinator >/dev/null
"$gtl" keys generate --out "$keys" --name worker >/dev/null
arr=$(export GTL_OUT="$work/out1" GTL_KEY_DIR="$keys" GTL_ENDPOINT_WAIT=120
  sb --array=0-0 --output="$work/array-%A_%a.out" "$repo/deploy/slurm/gtl-workers-array.sbatch")
job1=$(export GTL_OUT="$work/out1" GTL_KEY_DIR="$keys" GTL_PORT=26902 GTL_SEED=11 GTL_SCOUTS=16 GTL_SCOUT_STEPS="$steps1" GTL_PRETRAIN_STEPS=50 GTL_LAYERS="$layers"
  sb --ntasks=1 --output="$work/job1.out" "$repo/deploy/slurm/gtl.sbatch")
echo "test-slurm: submitted worker array $arr and job $job1 (gtl.sbatch, CURVE, 1 task)"
wait_gone "$job1" 180 || fail "job $job1 did not finish in 180 s"
wait_gone "${arr}_0" 60 || fail "worker array $arr did not finish"
s1=$(job_field "$job1" JobState) e1=$(job_field "$job1" ExitCode) sa=$(job_field "${arr}_0" JobState) ea=$(job_field "${arr}_0" ExitCode)
joined=$(grep -c " joined" "$work/job1.out" || true)
array_joined=$(grep -c "worker array-${arr}_0.* joined" "$work/job1.out" || true)
if [ "$s1" = COMPLETED ] && [ "$e1" = 0:0 ] && [ "$sa" = COMPLETED ] && [ "$ea" = 0:0 ] && grep -q "(CURVE)" "$work/job1.out" \
   && [ "$array_joined" -ge 1 ] && cmp -s "$work/ref1/guide.safetensors" "$work/out1/guide.safetensors"; then
  pass "CURVE job $job1: $joined workers joined (one from array $arr), guide identical to the loopback run ($((SECONDS - t0)) s)"
else
  fail "CURVE job $job1: state $s1 exit $e1, array $sa exit $ea, $joined joined ($array_joined from the array), guide $(cmp "$work/ref1/guide.safetensors" "$work/out1/guide.safetensors" 2>&1 || true)"
  cat "$work/job1.out" "$work"/array-*.out 2>/dev/null | tail -n 40
fi

# --- 2. Checkpoint on USR1, requeue, resume.
t0=$SECONDS
flags2=(--seed 5 --scouts 12 --scout-steps "$steps2" --pretrain-steps 50 --layers "$layers")
reference "$work/ref2" 26903 "${flags2[@]}"
full=$(stat -c %s "$work/ref2/journal.gtlj")
job2=$(export GTL_OUT="$work/out2" GTL_PORT=26904 GTL_SEED=5 GTL_SCOUTS=12 GTL_SCOUT_STEPS="$steps2" GTL_PRETRAIN_STEPS=50 GTL_LAYERS="$layers"
  sb --ntasks=2 --output="$work/job2.out" "$repo/deploy/slurm/gtl.sbatch")
echo "test-slurm: submitted job $job2 (gtl.sbatch, loopback, 2 tasks); USR1 once 2 of 12 scouts are journalled"
signalled=""
for _ in $(seq 600); do
  size=$(stat -c %s "$work/out2/journal.gtlj" 2>/dev/null || echo 0)
  if [ "$size" -ge $((full * 2 / 12)) ]; then scancel --signal=USR1 --batch "$job2"; signalled=1; break; fi
  sleep 0.1
done
[ -n "$signalled" ] || fail "job $job2 journalled nothing within 60 s"
wait_gone "$job2" 240 || fail "job $job2 did not finish in 240 s after the requeue"
s2=$(job_field "$job2" JobState) e2=$(job_field "$job2" ExitCode) r2=$(job_field "$job2" Restarts)
resumed=$(sed -n 's/.*resuming: \([0-9]*\) of 12 scouts.*/\1/p' "$work/job2.out" | head -n1)
if [ "$s2" = COMPLETED ] && [ "$e2" = 0:0 ] && [ "$r2" = 1 ] && grep -q "coordinator exited 3" "$work/job2.out" \
   && grep -q "requeued job $job2" "$work/job2.out" && [ -n "$resumed" ] && [ "$resumed" -gt 0 ] && [ "$resumed" -lt 12 ] \
   && cmp -s "$work/ref2/guide.safetensors" "$work/out2/guide.safetensors"; then
  pass "job $job2 checkpointed on USR1 (exit 3), requeued, resumed with $resumed of 12 scouts journalled; guide identical to the uninterrupted run ($((SECONDS - t0)) s)"
else
  fail "requeue job $job2: state $s2 exit $e2 restarts $r2, resumed '${resumed}', guide $(cmp "$work/ref2/guide.safetensors" "$work/out2/guide.safetensors" 2>&1 || true)"
  tail -n 40 "$work/job2.out"
fi

echo "test-slurm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

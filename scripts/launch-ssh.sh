#!/usr/bin/env bash
# Starts a gtl cluster over ssh, for machines without a scheduler: the coordinator on the first
# host of HOSTFILE, and workers on every host listed (the coordinator's host too).
#
#   scripts/launch-ssh.sh HOSTFILE
#
# HOSTFILE: one host per line, `host [workers]` (workers defaults to the host's core count);
# blank lines and lines starting with # are skipped. The first host runs the coordinator.
# Settings: every GTL_* variable set here that is a gtl flag (GTL_OUT, GTL_SCOUTS, GTL_SEED, GTL_JOB,
# GTL_HEARTBEAT_MS, GTL_LOG_FORMAT, GTL_INSECURE, ...) is passed to the remote commands. Variables of
# this script, not of gtl:
#   GTL_BINARY   gtl on the remote hosts (default: gtl on their PATH); gtl_GTL.resources must sit
#                next to it
#   GTL_PORT     coordinator TCP port (default 5555)
#   GTL_KEY_DIR  folder with coordinator.key, coordinator.pub, worker.key, worker.pub (made by
#                `gtl keys generate`), at this path on every host: CURVE. Without it the launch
#                needs GTL_INSECURE=1 (trusted network), or a single host (then on 127.0.0.1).
#   GTL_RUN_DIR  remote folder for logs and pid files (default /tmp/gtl-ssh-USER)
#   GTL_SSH      the ssh command (default: ssh -o BatchMode=yes)
# The coordinator writes to GTL_OUT on its host (default ~/gtl-out); add GTL_RESUME=1 to continue
# a job stopped earlier. Nothing is installed: gtl must already be on every host.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
[ $# -eq 1 ] && [ "$1" != --help ] && [ "$1" != -h ] || usage
hostfile=$1
[ -r "$hostfile" ] || { echo "launch-ssh: cannot read $hostfile" >&2; exit 2; }

hosts=() counts=()
while read -r host n _; do
  [ -z "${host:-}" ] || [[ "$host" == \#* ]] && continue
  if [ -n "${n:-}" ] && ! [[ "$n" =~ ^[0-9]+$ ]]; then echo "launch-ssh: $hostfile: '$host $n': the worker count must be a number" >&2; exit 2; fi
  hosts+=("$host"); counts+=("${n:-}")
done < "$hostfile"
[ ${#hosts[@]} -gt 0 ] || { echo "launch-ssh: no hosts in $hostfile" >&2; exit 2; }

read -r -a ssh_cmd <<< "${GTL_SSH:-ssh -o BatchMode=yes}"
gtl=${GTL_BINARY:-gtl}
port=${GTL_PORT:-5555}
run_dir=${GTL_RUN_DIR:-/tmp/gtl-ssh-$(id -un)}
coord=${hosts[0]}
for v in GTL_CURVE_SECRET GTL_SERVER_KEY GTL_ALLOW GTL_BIND GTL_CONNECT GTL_NAME; do
  if [ -n "${!v:-}" ]; then echo "launch-ssh: $v is set, but coordinator and workers would share it: use GTL_KEY_DIR and GTL_PORT" >&2; exit 2; fi
done

coord_args=() worker_args=()
if [ -n "${GTL_KEY_DIR:-}" ]; then
  bind=tcp://0.0.0.0:$port connect=tcp://$coord:$port
  coord_args=(--curve-secret "$GTL_KEY_DIR/coordinator.key" --allow "$GTL_KEY_DIR/worker.pub")
  worker_args=(--curve-secret "$GTL_KEY_DIR/worker.key" --server-key "$GTL_KEY_DIR/coordinator.pub")
elif [[ "${GTL_INSECURE:-}" =~ ^(1|true|yes)$ ]]; then
  bind=tcp://0.0.0.0:$port connect=tcp://$coord:$port
elif [ ${#hosts[@]} -eq 1 ]; then
  bind=tcp://127.0.0.1:$port connect=tcp://127.0.0.1:$port
else
  echo "launch-ssh: several hosts and no GTL_KEY_DIR: set GTL_KEY_DIR (CURVE keys) or GTL_INSECURE=1 (trusted network)" >&2; exit 2
fi

# The GTL_* settings for the remote commands, quoted for the remote shell (this script's own
# variables stay here).
env_words=(env)
while IFS='=' read -r name _; do
  case "$name" in GTL_BINARY|GTL_PORT|GTL_KEY_DIR|GTL_RUN_DIR|GTL_SSH) continue ;; esac
  env_words+=("$name=${!name}")
done < <(env | grep -o '^GTL_[A-Z0-9_]*=' | sort -u)
quote() { local out="" w; for w in "$@"; do out+=" $(printf '%q' "$w")"; done; printf '%s' "${out# }"; }

# start HOST NAME COMMAND...: runs COMMAND detached on HOST, logging to RUN_DIR/NAME.log, its pid in RUN_DIR/NAME.pid
start() {
  local host=$1 name=$2; shift 2
  local q_dir; q_dir=$(quote "$run_dir")
  "${ssh_cmd[@]}" "$host" "mkdir -p $q_dir && cd && { nohup $(quote "${env_words[@]}" "$@") > $q_dir/$name.log 2>&1 < /dev/null & echo \$! > $q_dir/$name.pid; }"
}

echo "launch-ssh: coordinator on $coord ($bind), output ${GTL_OUT:-~/gtl-out} on $coord, logs in $run_dir"
start "$coord" coordinator "$gtl" coordinator --bind "$bind" --out "${GTL_OUT:-gtl-out}" "${coord_args[@]}"
total=0
for i in "${!hosts[@]}"; do
  host=${hosts[$i]} n=${counts[$i]}
  if [ -z "$n" ]; then n=$("${ssh_cmd[@]}" "$host" nproc); fi
  for ((k = 1; k <= n; k++)); do
    start "$host" "worker-$k" "$gtl" worker --connect "$connect" --threads 1 --name "$host-$k" "${worker_args[@]}"
  done
  echo "launch-ssh: $n workers on $host"
  total=$((total + n))
done

q_dir=$(quote "$run_dir")
cat <<MSG
launch-ssh: started 1 coordinator and $total workers. The coordinator exits 0 when
  $coord:${GTL_OUT:-~/gtl-out}/guide.safetensors is written; the workers then exit on their own.
Follow:  ${ssh_cmd[*]} $coord tail -f $q_dir/coordinator.log
Stop (the coordinator checkpoints and exits 3; rerun with GTL_RESUME=1 to continue):
$(for h in $(printf '%s\n' "${hosts[@]}" | sort -u); do echo "  ${ssh_cmd[*]} $h 'kill -TERM \$(cat $q_dir/*.pid) 2>/dev/null; rm -f $q_dir/*.pid'"; done)
MSG

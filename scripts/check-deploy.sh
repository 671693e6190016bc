#!/usr/bin/env bash
# Static checks of deploy/ (nothing here runs Kubernetes, Docker or systemd) plus one functional
# check of scripts/launch-ssh.sh with ssh replaced by a local shell:
#   - every YAML manifest parses; kinds and required fields; volumes, Secret, Service and port agree;
#   - every gtl flag in container args, systemd ExecStart lines and the scripts is one that
#     `gtl COMMAND --help` documents, and every GTL_* variable is a flag's variable (or one of the
#     deployment scripts' own, which must not collide with a flag);
#   - systemd units pass `systemd-analyze verify` (where available) and a structural check;
#   - the Dockerfile's runtime packages provide every shared library the binary needs;
#   - shell scripts pass `bash -n`;
#   - deploy/README.md's table of GTL_* variables is what scripts/gen-config-table makes of --help;
#   - launch-ssh.sh starts a coordinator and workers whose guide equals a direct loopback run.
# Usage: scripts/check-deploy.sh [path/to/gtl]   (default .build/release/gtl, else .build/debug/gtl)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then gtl=$1; elif [ -x .build/release/gtl ]; then gtl=.build/release/gtl; else gtl=.build/debug/gtl; fi
[ -x "$gtl" ] || { echo "check-deploy: $gtl not built (run swift build)"; exit 1; }
gtl=$(realpath "$gtl")
if ! python3 -c 'import yaml' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml; } >/dev/null 2>&1 || true
  fi
  python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml >/dev/null 2>&1 || true
  python3 -c 'import yaml' 2>/dev/null || { echo "check-deploy: needs PyYAML (apt-get install python3-yaml)"; exit 1; }
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The flags each command documents: its option lines, its usage line, and `override --job FILE`.
for c in coordinator worker run keys; do
  "$gtl" "$c" --help | grep -oE '^\s+--[a-z][a-z0-9-]*|^Usage:.*|override --[a-z-]+' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u > "$work/flags.$c"
done

# Everything static, in one Python program; it prints "ok: ..." / "FAIL: ..." lines.
python3 - "$work" "$gtl" > "$work/static.out" <<'PY' || true
import glob, os, re, shlex, subprocess, sys
import yaml

work, gtl = sys.argv[1], sys.argv[2]
flags = {c: set(open(f"{work}/flags.{c}").read().split()) for c in ("coordinator", "worker", "run", "keys")}
def var(flag): return "GTL_" + flag[2:].upper().replace("-", "_")
flag_vars = {c: {var(f) for f in fs} for c, fs in flags.items()}
all_flag_vars = set().union(*flag_vars.values())
# The deployment scripts' own variables (not gtl flags).
DEPLOY_VARS = {"GTL_BINARY", "GTL_PORT", "GTL_KEY_DIR", "GTL_MAX_REQUEUES", "GTL_WORKER_GRACE",
               "GTL_ENDPOINT_WAIT", "GTL_RUN_DIR", "GTL_SSH"}
results = []
def check(ok, what): results.append(("ok" if ok else "FAIL", what)); return ok

def check_command(words, where, env=()):
    """words: a gtl command line without the binary; env: GTL_* names given to it."""
    if not words or words[0] not in ("coordinator", "worker"):
        return check(False, f"{where}: '{' '.join(words)}' is not gtl coordinator/worker")
    cmd = words[0]
    used = [w.split("=")[0] for w in words[1:] if w.startswith("--")]
    bad = [f for f in used if f not in flags[cmd]]
    bad_env = [e for e in env if e not in flag_vars[cmd]]
    return check(not bad and not bad_env,
                 f"{where}: gtl {cmd} flags {' '.join(used) or '(none)'}, variables {' '.join(env) or '(none)'}"
                 + (f" -- undocumented: {' '.join(bad + bad_env)}" if bad or bad_env else " all documented"))

check(not (DEPLOY_VARS & all_flag_vars), "deployment-script variables do not collide with gtl flags: " + " ".join(sorted(DEPLOY_VARS)))

# --- Kubernetes
docs = {}
for path in sorted(glob.glob("deploy/k8s/*.yaml")):
    try:
        loaded = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"{path}: YAML does not parse: {e}"); continue
    docs[path] = loaded
    check(bool(loaded), f"{path}: parses ({', '.join(d.get('kind', '?') for d in loaded)})")
objects = [(p, d) for p, ds in docs.items() for d in ds if d.get("kind") != "Kustomization"]
KNOWN = {("v1", "PersistentVolumeClaim"), ("v1", "Service"), ("v1", "Secret"), ("batch/v1", "Job"), ("apps/v1", "Deployment")}
for p, d in objects:
    name = d.get("metadata", {}).get("name")
    check((d.get("apiVersion"), d.get("kind")) in KNOWN and bool(name), f"{p}: {d.get('apiVersion')} {d.get('kind')} {name}: known kind, named")
by_kind = {}
for p, d in objects: by_kind.setdefault(d["kind"], []).append((p, d))
secrets = {d["metadata"]["name"]: d for _, d in by_kind.get("Secret", [])}
pvcs = {d["metadata"]["name"] for _, d in by_kind.get("PersistentVolumeClaim", [])}
services = {d["metadata"]["name"]: d for _, d in by_kind.get("Service", [])}
for p, d in by_kind.get("PersistentVolumeClaim", []):
    s = d["spec"]
    check(bool(s.get("accessModes")) and "storage" in s.get("resources", {}).get("requests", {}), f"{p}: PVC {d['metadata']['name']} has access modes and a size")
for p, d in by_kind.get("Service", []):
    s = d["spec"]
    check(s.get("clusterIP") == "None" and s.get("selector") and s.get("ports"), f"{p}: Service {d['metadata']['name']} is headless with a selector and ports")
pod_specs = []
for kind in ("Job", "Deployment"):
    for p, d in by_kind.get(kind, []):
        t = d["spec"]["template"]
        pod_specs.append((p, d, t))
        rp = t["spec"].get("restartPolicy")
        if kind == "Job":
            check(rp in ("Never", "OnFailure") and (rp == "Never" or "podFailurePolicy" not in d["spec"]),
                  f"{p}: Job {d['metadata']['name']}: restartPolicy {rp}" + (" (podFailurePolicy needs Never)" if "podFailurePolicy" in d["spec"] else ""))
        for cname in {r.get("onExitCodes", {}).get("containerName") for r in d["spec"].get("podFailurePolicy", {}).get("rules", [])} - {None}:
            check(cname in [c["name"] for c in t["spec"]["containers"]], f"{p}: podFailurePolicy names container {cname}, which exists")
for p, d, t in pod_specs:
    spec = t["spec"]
    labels = t.get("metadata", {}).get("labels", {})
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec.get("initContainers", []) + spec["containers"]:
        where = f"{p}: {d['metadata']['name']}/{c['name']}"
        res = c.get("resources", {})
        if c in spec["containers"]:
            check(bool(c.get("image")) and "requests" in res and "limits" in res, f"{where}: image, resource requests and limits")
        missing = [m["name"] for m in c.get("volumeMounts", []) if m["name"] not in vols]
        check(not missing, f"{where}: every volumeMount names a volume" + (f" (missing {missing})" if missing else ""))
        if c in spec["containers"]:
            env = [e["name"] for e in c.get("env", []) if e["name"].startswith("GTL_")]
            check_command([str(a) for a in c.get("args", [])], where, env)
            sec = c.get("securityContext", {})
            check(sec.get("allowPrivilegeEscalation") is False and sec.get("readOnlyRootFilesystem") is True,
                  f"{where}: no privilege escalation, read-only root file system")
            args = [str(a) for a in c.get("args", [])]
            if "--connect" in args:
                host, port = re.match(r"tcp://([^:]+):(\d+)", args[args.index("--connect") + 1]).groups()
                svc = services.get(host)
                check(svc is not None and int(port) in [pp["port"] for pp in svc["spec"]["ports"]],
                      f"{where}: connects to Service {host}:{port}, which exists with that port")
            if "--bind" in args:
                port = int(args[args.index("--bind") + 1].rsplit(":", 1)[1])
                sel = [s for s in services.values() if all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
                check(bool(sel) and any(pp.get("targetPort", pp["port"]) == port for s in sel for pp in s["spec"]["ports"]),
                      f"{where}: binds port {port}; a Service selects this pod and targets that port")
            # Files named by GTL_* variables must be mounted.
            mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
            for e in c.get("env", []):
                v = str(e.get("value", ""))
                if v.startswith("/"):
                    check(any(v.startswith(m.rstrip("/") + "/") for m in mounts), f"{where}: {e['name']}={v} lies on a mounted volume")
    for v in vols.values():
        if "secret" in v:
            s = secrets.get(v["secret"]["secretName"])
            keys = [i["key"] for i in v["secret"].get("items", [])]
            check(s is not None and all(k in s.get("stringData", {}) or k in s.get("data", {}) for k in keys),
                  f"{p}: secret volume {v['name']} uses Secret {v['secret']['secretName']} keys {keys}, as in secret.example.yaml")
        if "persistentVolumeClaim" in v:
            check(v["persistentVolumeClaim"]["claimName"] in pvcs, f"{p}: volume {v['name']} claims PVC {v['persistentVolumeClaim']['claimName']}, which exists")
for p, ds in docs.items():
    for d in ds:
        if d.get("kind") == "Kustomization":
            missing = [r for r in d.get("resources", []) if not os.path.exists(os.path.join(os.path.dirname(p), r))]
            check(not missing, f"{p}: kustomization resources exist" + (f" (missing {missing})" if missing else ""))

# --- systemd
def unit_sections(path):
    sections, cur = {}, None
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line[0] in "#;": continue
        if line.startswith("["): cur = line.strip("[]"); sections.setdefault(cur, {}); continue
        k, sep, v = line.partition("=")
        if cur is None or not sep: raise ValueError(f"{path}:{n}: not 'Key=value' inside a section")
        sections[cur].setdefault(k, []).append(v)
    return sections
HARDENING = ["NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"]
for path in sorted(glob.glob("deploy/systemd/*.service")):
    try: s = unit_sections(path)
    except ValueError as e: check(False, str(e)); continue
    svc = s.get("Service", {})
    ok = {"Unit", "Service", "Install"} <= set(s) and len(svc.get("ExecStart", [])) == 1
    check(ok and svc.get("Restart") == ["on-failure"] and "/etc/gtl/gtl.env" in svc.get("EnvironmentFile", [])
          and all(svc.get(h) for h in HARDENING) and svc.get("ProtectSystem") == ["strict"] and (svc.get("User") or svc.get("DynamicUser")),
          f"{path}: sections, one ExecStart, Restart=on-failure, EnvironmentFile=/etc/gtl/gtl.env, a service user, {', '.join(HARDENING)}")
    check("3" in " ".join(svc.get("SuccessExitStatus", [])).split(), f"{path}: exit 3 (stopped after checkpointing) is not a failure")
    words = shlex.split(svc["ExecStart"][0].lstrip("-@:+!"))
    words = [w for w in words if not re.fullmatch(r".*%[a-zA-Z].*", w) or w.startswith("--")]
    check_command(words[1:], f"{path}: ExecStart")
    if "coordinator" in words:
        check(bool(svc.get("ReadWritePaths")) or bool(svc.get("StateDirectory")), f"{path}: the output folder is writable (ReadWritePaths/StateDirectory)")
for path in sorted(glob.glob("deploy/systemd/*.env")):
    role = {"coordinator.env": ["coordinator"], "worker.env": ["worker"]}.get(os.path.basename(path), ["coordinator", "worker"])
    names = re.findall(r"^#?\s*(GTL_[A-Z0-9_]+)=", open(path).read(), re.M)
    bad = [n for n in names if not any(n in flag_vars[r] for r in role)]
    check(bool(names) and not bad, f"{path}: {len(names)} variables, all flags of gtl {'/'.join(role)}" + (f" -- not flags: {bad}" if bad else ""))

# --- Variables and flags in the deployment scripts
for path in sorted(glob.glob("deploy/slurm/*.sbatch")) + ["scripts/launch-ssh.sh"]:
    text = open(path).read()
    names = sorted(set(re.findall(r"\bGTL_[A-Z0-9_]*[A-Z0-9]\b", text)))
    bad = [n for n in names if n not in all_flag_vars and n not in DEPLOY_VARS]
    check(not bad, f"{path}: GTL_* variables are gtl flags or the scripts' own ({len(names)} names)" + (f" -- unknown: {bad}" if bad else ""))
    for cmd in ("coordinator", "worker"):
        for m in re.finditer(r'"\$gtl" ' + cmd + r"\b(.*?)(?:&\s*$|$)", text, re.M):
            used = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", m.group(1))
            bad = [f for f in used if f not in flags[cmd]]
            check(not bad, f"{path}: gtl {cmd} {' '.join(used)} documented" + (f" -- undocumented: {bad}" if bad else ""))
    for arr in re.findall(r"(\w+_args)=\((.*?)\)", text):
        used = re.findall(r"--[a-z][a-z0-9-]*", arr[1])
        cmd = "coordinator" if arr[0].startswith("coord") else "worker"
        bad = [f for f in used if f not in flags[cmd]]
        check(not bad, f"{path}: {arr[0]} ({' '.join(used) or 'empty'}) documented for gtl {cmd}" + (f" -- undocumented: {bad}" if bad else ""))
sb = open("deploy/slurm/gtl.sbatch").read()
check(all(s in sb for s in ("#SBATCH --signal=B:USR1@120", "#SBATCH --requeue", "scontrol requeue", "trap ")),
      "deploy/slurm/gtl.sbatch: --signal=B:USR1@120, --requeue, a trap, scontrol requeue")

# --- Docker: the runtime stage installs what the binary links (the Swift runtime is static there).
df = open("deploy/docker/Dockerfile").read()
stages = re.findall(r"^FROM\s+(\S+)", df, re.M)
check(len(stages) == 2 and "--static-swift-stdlib" in df and "gtl_GTL.resources" in df,
      f"deploy/docker/Dockerfile: two stages ({' -> '.join(stages)}), static Swift runtime, resource bundle copied")
runtime = df.split(re.findall(r"^FROM .*$", df, re.M)[-1])[1]
pkgs = set()
for m in re.finditer(r"apt-get install(.*?)(?:&&|$)", runtime.replace("\\\n", " "), re.M):
    pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
try:
    needed = re.findall(r"NEEDED.*\[(.*)\]", subprocess.run(["readelf", "-d", gtl], capture_output=True, text=True, check=True).stdout)
    swift = re.compile(r"^(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime)")
    base = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "libpthread.so.0", "libdl.so.2", "libstdc++.so.6", "libgcc_s.so.1"}
    provided = set(pkgs)
    for p in pkgs:  # one level of dependencies (libopenblas0 -> libopenblas0-pthread)
        out = subprocess.run(["apt-cache", "depends", p], capture_output=True, text=True).stdout
        provided |= set(re.findall(r"Depends: <?([\w.+-]+)>?", out))
    for lib in needed:
        if swift.match(lib) or lib in base: continue
        path = subprocess.run(["bash", "-c", f"ldconfig -p | awk '$1==\"{lib}\" {{print $NF; exit}}'"], capture_output=True, text=True).stdout.strip()
        owner = ""
        for candidate in (os.path.realpath(path), re.sub(r"^/usr/lib/", "/lib/", os.path.realpath(path)), path) if path else ():
            owner = owner or subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True).stdout.split(":")[0]
        check(owner in provided, f"deploy/docker/Dockerfile: {lib} comes from {owner or '?'}, installed by the runtime stage")
except (OSError, subprocess.CalledProcessError) as e:
    check(False, f"deploy/docker/Dockerfile: could not inspect the binary's libraries: {e}")

for status, what in results: print(f"{status}: {what}")
PY
passed=$(grep -c '^ok: ' "$work/static.out" || true)
failed=$(grep -c '^FAIL: ' "$work/static.out" || true)
sed 's/^/check-deploy: /' "$work/static.out"
[ -s "$work/static.out" ] || { echo "check-deploy: the static checks did not run"; failed=$((failed + 1)); }
echo "check-deploy: $passed static checks passed, $failed failed"
ok() { echo "check-deploy: ok: $*"; passed=$((passed + 1)); }
bad() { echo "check-deploy: FAIL: $*"; failed=$((failed + 1)); }

# --- deploy/README.md's flag <-> GTL_* table is the one `gtl --help` gives today.
if out=$(scripts/gen-config-table "$gtl" --check 2>&1); then ok "deploy/README.md lists every flag's GTL_* variable (scripts/gen-config-table)"
else bad "$out"; fi

# --- systemd-analyze verify, with ExecStart pointing at the built binary.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/units"
  for u in deploy/systemd/*.service; do sed "s#/usr/local/bin/gtl#$gtl#" "$u" > "$work/units/$(basename "$u")"; done
  for u in "$work"/units/*.service; do
    name=$(basename "$u"); [[ "$name" == *@.service ]] && name=${name/@.service/@1.service}
    if out=$(cd "$work/units" && systemd-analyze verify "./$name" 2>&1) && [ -z "$out" ]; then ok "systemd-analyze verify $name"
    else bad "systemd-analyze verify $name: $out"; fi
  done
else
  echo "check-deploy: systemd-analyze not installed: units checked structurally only"
fi

# --- bash -n on every shell script of the deployment.
for s in deploy/slurm/*.sbatch scripts/launch-ssh.sh scripts/test-slurm.sh scripts/check-deploy.sh; do
  if bash -n "$s" 2>"$work/bash-n"; then ok "bash -n $s"; else bad "bash -n $s: $(cat "$work/bash-n")"; fi
done
if command -v shellcheck >/dev/null; then
  for s in deploy/slurm/*.sbatch scripts/launch-ssh.sh; do
    if shellcheck -S warning "$s" >"$work/sc" 2>&1; then ok "shellcheck $s"; else bad "shellcheck $s: $(head -n 20 "$work/sc")"; fi
  done
fi

# --- launch-ssh.sh for real, with ssh replaced by a local shell (one host, so loopback).
cat > "$work/ssh" <<'SH'
#!/usr/bin/env bash
# A stand-in for ssh: ignores the host and runs the command here.
while [[ "${1:-}" == -* ]]; do [ "$1" = -o ] && shift; shift; done
shift
exec bash -c "$*"
SH
chmod +x "$work/ssh"
echo "localhost 2" > "$work/hosts"
job=(--seed 3 --scouts 16 --scout-steps 50 --pretrain-steps 50)
"$gtl" coordinator --bind tcp://127.0.0.1:26961 --out "$work/ref" "${job[@]}" >/dev/null 2>"$work/ref.log" & c=$!; pids+=("$c")
"$gtl" worker --connect tcp://127.0.0.1:26961 2>/dev/null & pids+=($!)
wait "$c" || bad "reference run failed: $(tail -n 3 "$work/ref.log")"
if env GTL_SSH="$work/ssh" GTL_BINARY="$gtl" GTL_PORT=26962 GTL_RUN_DIR="$work/run" GTL_OUT="$work/ssh-out" \
     GTL_SEED=3 GTL_SCOUTS=16 GTL_SCOUT_STEPS=50 GTL_PRETRAIN_STEPS=50 scripts/launch-ssh.sh "$work/hosts" > "$work/launch.out" 2>&1; then
  for p in $(cat "$work"/run/*.pid 2>/dev/null); do pids+=("$p"); done
  for _ in $(seq 240); do
    alive=0; for p in $(cat "$work"/run/*.pid); do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.25
  done
  workers=$(ls "$work"/run/worker-*.pid 2>/dev/null | wc -l)
  if [ "$alive" = 0 ] && [ "$workers" = 2 ] && grep -q "Stop (" "$work/launch.out" && grep -q "guide values from 16 scouts" "$work/run/coordinator.log" \
     && cmp -s "$work/ref/guide.safetensors" "$work/ssh-out/guide.safetensors"; then
    ok "launch-ssh.sh (ssh replaced by a local shell): coordinator and $workers workers ran to the end; guide identical to a direct run"
  else
    bad "launch-ssh.sh: processes still running: $alive, workers $workers; $(tail -n 5 "$work/run/coordinator.log" 2>/dev/null)"
  fi
else
  bad "launch-ssh.sh failed: $(tail -n 5 "$work/launch.out")"
fi
if scripts/launch-ssh.sh /dev/null >/dev/null 2>&1; then bad "launch-ssh.sh accepted an empty host file"; else ok "launch-ssh.sh refuses an empty host file"; fi
printf 'a 1\nb 1\n' > "$work/two"
if env -u GTL_KEY_DIR -u GTL_INSECURE GTL_SSH=false scripts/launch-ssh.sh "$work/two" >/dev/null 2>"$work/two.err"; then bad "launch-ssh.sh started two hosts without CURVE or GTL_INSECURE"
else grep -q "GTL_KEY_DIR" "$work/two.err" && ok "launch-ssh.sh refuses two hosts without CURVE keys or GTL_INSECURE=1" || bad "launch-ssh.sh: unexpected error: $(cat "$work/two.err")"; fi

echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

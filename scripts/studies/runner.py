"""Plans a study's `gtl run` jobs and runs them, resumably. Standard library only.

A job's folder is OUT/STUDY/VARIANT/seed-S/. A job whose report.json exists is skipped; a job
interrupted halfway is simply run again (gtl resumes from its own journal). Each job's command is
recorded in its folder (command.json) so that a report produced by a different command (the
study definition changed) is refused instead of silently reused.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from . import definitions as defs

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


@dataclass
class Job:
    study: str
    variant: str
    seed: int
    directory: str
    flags: List[str]                   # job flags including --seed (no --out/--workers)
    skip_reason: Optional[str] = None  # set: the job cannot run here (missing data), say why

    @property
    def name(self) -> str:
        return f"{self.study}/{self.variant}/seed-{self.seed}"

    @property
    def report(self) -> str:
        return os.path.join(self.directory, "report.json")

    @property
    def log(self) -> str:
        return os.path.join(self.directory, "run.log")

    def argv(self, gtl: str, workers: int, launcher: Sequence[str] = ()) -> List[str]:
        return list(launcher) + [gtl, "run", "--workers", str(workers), "--out", self.directory] + self.flags

    def done(self) -> bool:
        return os.path.isfile(self.report)


@dataclass
class Outcome:
    job: Job
    status: str          # done | skipped (report existed) | failed | missing-data | stale | dry-run
    code: Optional[int] = None
    seconds: float = 0.0
    message: str = ""


def seeds_for(study: defs.Study, seeds: Optional[int], full: bool) -> List[int]:
    n = seeds if seeds is not None else (study.default_seeds or (5 if full else 3))
    if n < 1:
        raise defs.StudyError("--seeds must be at least 1")
    return list(range(1, n + 1))


def data_problem(flags: Sequence[str]) -> Optional[str]:
    """Why the dataset a job names is not available here (None: it is, or cannot be checked)."""
    spec = defs.flag_value(flags, "dataset") or "digits"
    if spec == "digits":
        return None
    if spec in ("fashion-mnist", "fashion-mnist:train", "fashion-mnist:test"):
        missing = [f for f in (FASHION_FILES if not spec.endswith(":test") else
                               ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
                   if not os.path.isfile(os.path.join(FASHION_DIR, f))]
        if missing:
            return (f"Fashion-MNIST is not installed ({FASHION_DIR}/{missing[0]} is missing): "
                    f"run `scripts/fetch-data.sh` (it installs Debian's dataset-fashion-mnist)")
        return None
    if spec.startswith("tu:"):
        prefix = spec[3:]
        need = prefix + "_graph_indicator.txt"
        if not os.path.isfile(need):
            return f"the TU graph set {prefix} is not installed ({need} is missing): run `scripts/fetch-data.sh tu`"
        return None
    if spec.startswith("csv:"):
        path = spec[4:]
        if not os.path.isfile(path):
            return f"the CSV data {path} is missing: run `scripts/fetch-data.sh genes` (or fix --genes-flags)"
        return None
    if spec.startswith("idx:"):
        for p in spec[4:].split(","):
            if not os.path.isfile(p):
                return f"the IDX file {p} is missing"
    return None


def plan(study: defs.Study, out: str, seeds: List[int], full: bool, only: Optional[List[str]] = None,
         check_data: bool = True, say: Callable[[str], None] = print) -> List[Job]:
    """The study's jobs, seed-major (every variant of seed 1 first, so a partial run already
    gives complete seeds). `only` restricts the variants; the baseline is added back when a
    chosen variant shares it."""
    variants = study.variants
    if only:
        unknown = [o for o in only if o not in {v.name for v in variants}]
        if unknown:
            raise defs.StudyError(f"--only: study {study.name} has no variant {', '.join(unknown)} "
                                  f"(has: {', '.join(v.name for v in variants)})")
        wanted = set(only)
        if any(study.variant(o).shares_baseline for o in only) and defs.BASELINE not in wanted:
            say(f"note: --only {','.join(only)}: adding '{defs.BASELINE}', whose scratch/finetune/last-layer arms "
                f"the chosen variants share")
            wanted.add(defs.BASELINE)
        variants = [v for v in variants if v.name in wanted]
    jobs = []
    for seed in seeds:
        for v in variants:
            flags = defs.job_flags(study, v, full) + ["--seed", str(seed)]
            reason = study.skip_reason or (data_problem(flags) if check_data else None)
            jobs.append(Job(study.name, v.name, seed, os.path.join(out, study.name, v.name, f"seed-{seed}"),
                            flags, reason))
    return jobs


def _record(job: Job) -> dict:
    return {"study": job.study, "variant": job.variant, "seed": job.seed, "flags": job.flags}


def stale(job: Job) -> Optional[str]:
    """Why a finished job's report does not belong to the planned job (None: it does, or the
    folder has no record of its command)."""
    path = os.path.join(job.directory, "command.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if rec.get("flags") != job.flags:
        return (f"{job.report} was produced by different job flags ({shlex.join(rec.get('flags') or [])}); "
                f"the study now asks for {shlex.join(job.flags)}: delete {job.directory} to rerun it")
    return None


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def run_job(job: Job, gtl: str, workers: int, launcher: Sequence[str], env: Optional[dict] = None) -> Outcome:
    os.makedirs(job.directory, exist_ok=True)
    argv = job.argv(gtl, workers, launcher)
    rec = _record(job)
    rec["argv"] = argv
    with open(os.path.join(job.directory, "command.json"), "w") as f:
        json.dump(rec, f, indent=1)
    t0 = time.monotonic()
    with open(job.log, "ab") as log:
        log.write(f"\n$ {shlex.join(argv)}\n".encode())
        log.flush()
        try:
            code = subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        except OSError as e:
            log.write(f"cannot start: {e}\n".encode())
            code = 127
    dt = time.monotonic() - t0
    if code == 0 and not job.done():
        return Outcome(job, "failed", code, dt, f"exit 0 but no {job.report}\n" + tail(job.log))
    if code != 0:
        why = {2: "usage error (a flag this gtl does not know? rebuild it)", 3: "interrupted (run again to resume)"}
        return Outcome(job, "failed", code, dt, (why.get(code, "") + "\n" if code in why else "") + tail(job.log))
    return Outcome(job, "done", 0, dt)


def execute(jobs: List[Job], gtl: str, workers: int, launcher: Sequence[str] = (), parallel: int = 1,
            dry_run: bool = False, say: Callable[[str], None] = print) -> List[Outcome]:
    """Runs every job not yet done, `parallel` at a time; returns one outcome per job."""
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    todo = []
    told = set()
    for i, j in enumerate(jobs):
        if j.skip_reason:
            outcomes[i] = Outcome(j, "missing-data", message=j.skip_reason)
            if (j.variant, j.skip_reason) not in told:
                told.add((j.variant, j.skip_reason))
                say(f"skip {j.study}/{j.variant} (every seed): {j.skip_reason}")
        elif j.done():
            s = stale(j)
            outcomes[i] = Outcome(j, "stale", message=s) if s else Outcome(j, "skipped")
            if s:
                say(f"STALE {j.name}: {s}")
        elif dry_run:
            outcomes[i] = Outcome(j, "dry-run")
            say(f"would run {j.name}:\n  {shlex.join(j.argv(gtl, workers, launcher))} > {j.log} 2>&1")
        else:
            todo.append(i)
    done_before = sum(1 for o in outcomes if o and o.status == "skipped")
    if done_before:
        say(f"{done_before} job(s) already have a report.json: skipped")
    if dry_run or not todo:
        return [o for o in outcomes if o is not None]
    lock = threading.Lock()
    started = time.monotonic()
    finished = [0]

    def one(i: int) -> None:
        j = jobs[i]
        with lock:
            say(f"start {j.name}")
        o = run_job(j, gtl, workers, launcher)
        outcomes[i] = o
        with lock:
            finished[0] += 1
            k = finished[0]
            eta = (time.monotonic() - started) / k * (len(todo) - k)
            status = f"done in {o.seconds:.0f} s" if o.status == "done" else f"FAILED (exit {o.code}) after {o.seconds:.0f} s, log {j.log}"
            say(f"[{k}/{len(todo)}] {j.name}: {status}" + (f"; about {eta / 60:.0f} min left" if k < len(todo) else ""))

    if parallel <= 1:
        for i in todo:
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(one, todo))
    return [o for o in outcomes if o is not None]


def flags_unknown_to(gtl: str, jobs: List[Job]) -> List[str]:
    """Job flags that `gtl run --help` does not list (an out-of-date binary)."""
    try:
        text = subprocess.run([gtl, "run", "--help"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    used = sorted({t.split("=")[0] for j in jobs for t in j.flags if t.startswith("--")})
    return [f for f in used if f not in text]


def summarize(outcomes: List[Outcome], say: Callable[[str], None] = print) -> bool:
    """Prints the failures and skips; True when every job has a report (nothing failed)."""
    bad = [o for o in outcomes if o.status in ("failed", "missing-data", "stale")]
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    say("jobs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    not_run = {}
    for o in bad:
        if o.status == "failed":
            say(f"FAILED {o.job.name} (exit {o.code}); last lines of {o.job.log}:\n"
                + "\n".join("    " + line for line in o.message.rstrip().splitlines()))
        elif o.status == "missing-data":
            not_run.setdefault((o.job.study, o.job.variant, o.message), []).append(o.job.seed)
        else:
            say(f"STALE {o.job.name}: {o.message}")
    for (study, variant, message), seeds in not_run.items():
        say(f"NOT RUN {study}/{variant} (seeds {','.join(map(str, seeds))}): {message}")
    return not bad

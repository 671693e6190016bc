#!/usr/bin/env python3
"""Runs the project's studies as many `gtl run` jobs, resumably, and turns their reports into
CSV, Markdown tables and PNG plots.

  scripts/study.py run STUDY [--out DIR] [--full] [--seeds N] [--workers W] [--parallel J]
                             [--gtl PATH] [--launcher "PREFIX"] [--only VARIANT,...]
                             [--genes-flags "FLAGS"] [--dry-run]
  scripts/study.py report STUDY [--out DIR] [--full]
  scripts/study.py list [STUDY]

STUDY: scout-design | unsupervised | architectures | genes | guide-choices | all.

Each variant of a study runs once per seed (3 seeds quick, 5 with --full) as
  [LAUNCHER...] GTL run --workers W --out OUT/STUDY/VARIANT/seed-S FLAGS --seed S   > .../run.log
A job whose report.json exists is skipped, so killing the driver and running the same command
again resumes (gtl resumes a half-done job from its journal). `run` ends with `report`, which
writes OUT/STUDY/results.csv, summary.csv, summary.md and *.png. Failed jobs are listed with
their exit code and the end of their log, and the driver exits 1 after running the rest.

Default --out: studies-out (quick) or studies-out-full (--full), so the two sizes never mix.
On a cluster: --launcher "srun -N1 -n1 --exclusive" --parallel 16 (each job on its own node).
The genes study needs its data: see `scripts/study.py list genes`.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from studies import aggregate, definitions as defs, runner  # noqa: E402

ALT_PYTHON = "/usr/bin/python3"   # Debian's, where python3-matplotlib installs


def plotting_available() -> bool:
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def reexec_for_plotting() -> None:
    """When this interpreter lacks numpy/matplotlib but Debian's python3 has them (a pyenv or
    venv python3 first on PATH), continue under Debian's so the report can draw its plots."""
    if plotting_available() or os.environ.get("GTL_STUDY_REEXEC"):
        return
    if os.path.exists(ALT_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(ALT_PYTHON):
        ok = subprocess.run([ALT_PYTHON, "-c", "import numpy, matplotlib"], capture_output=True).returncode == 0
        if ok:
            os.environ["GTL_STUDY_REEXEC"] = "1"
            os.execv(ALT_PYTHON, [ALT_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def default_out(full: bool) -> str:
    return "studies-out-full" if full else "studies-out"


def parse(argv):
    p = argparse.ArgumentParser(prog="scripts/study.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True)
    names = defs.PUBLIC_STUDIES + ["all"] + defs.HIDDEN_STUDIES

    r = sub.add_parser("run", help="run a study's jobs (skipping finished ones), then report")
    r.add_argument("study", choices=names, metavar="STUDY")
    r.add_argument("--out", help="output folder (default studies-out; studies-out-full with --full)")
    r.add_argument("--full", action="store_true", help="5 seeds and the full-size settings (gtl's grids, 400 test episodes)")
    r.add_argument("--seeds", type=int, help="seeds 1..N (default 3, 5 with --full)")
    r.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="gtl run --workers per job (default: this machine's cores; 0 = scouts in-process)")
    r.add_argument("--parallel", type=int, default=1, help="jobs at once (default 1)")
    r.add_argument("--gtl", default=os.path.join(ROOT, ".build", "release", "gtl"),
                   help="the gtl binary (default .build/release/gtl, built with `swift build -c release` if missing)")
    r.add_argument("--launcher", default="", help='prefix for every job, e.g. "srun -N1 -n1 --exclusive"')
    r.add_argument("--only", help="only these variants (comma-separated); a shared baseline is added back")
    r.add_argument("--genes-flags", help="the genes study's data flags, e.g. "
                   '"--dataset csv:/path/genes.csv --pretrain-classes 0-4 --downstream-classes 5-9"')
    r.add_argument("--dry-run", action="store_true", help="print the jobs and what would be skipped; run nothing")
    r.add_argument("--skip-data-check", action="store_true", help="do not check here that each job's dataset is installed "
                   "(a launcher's nodes may see other files)")

    q = sub.add_parser("report", help="aggregate a study's reports into CSV, Markdown and PNG")
    q.add_argument("study", choices=names, metavar="STUDY")
    q.add_argument("--out")
    q.add_argument("--full", action="store_true", help="only chooses the default --out (studies-out-full)")
    q.add_argument("--genes-flags", help="as for run (only the variant list matters here)")

    ls = sub.add_parser("list", help="show the studies, their variants and job flags")
    ls.add_argument("study", nargs="?", default="all", choices=names, metavar="STUDY")
    ls.add_argument("--full", action="store_true")
    ls.add_argument("--genes-flags")
    return p.parse_args(argv)


def study_dir(out: str, name: str) -> str:
    return os.path.join(out, name)


def record_command(out: str, name: str, argv, study_arg: str) -> str:
    """The command that reproduces this study, saved beside its outputs."""
    words, skip = ["scripts/study.py"], False
    for w in argv:   # --only runs part of the study: the whole study is reproduced without it
        if skip:
            skip = False
        elif w == "--only":
            skip = True
        elif not w.startswith("--only="):
            words.append(name if (w == study_arg and study_arg == "all") else w)
    cmd = shlex.join(words)
    os.makedirs(study_dir(out, name), exist_ok=True)
    with open(os.path.join(study_dir(out, name), "command.txt"), "w") as f:
        f.write(cmd + "\n")
    return cmd


def report(name: str, out: str, genes_flags=None, full: bool = False) -> int:
    """Writes the study's CSV, plots and summary.md; 0 when complete, 1 on missing jobs, no data
    or no plots."""
    st = defs.build(name, genes_flags)
    d = study_dir(out, name)
    try:
        data = aggregate.load(st, out)
    except aggregate.AggregationError as e:
        print(f"report {name}: ERROR: {e}", file=sys.stderr)
        return 1
    if not data.cells:
        print(f"report {name}: no report.json under {d}/*/seed-*/ yet" + (f" ({st.skip_reason})" if st.skip_reason else ""))
        return 1
    os.makedirs(d, exist_ok=True)
    n = aggregate.write_results_csv(data, os.path.join(d, "results.csv"))
    m = aggregate.write_summary_csv(data, os.path.join(d, "summary.csv"))
    code = 0
    pngs = []
    if plotting_available():
        from studies import plots
        for old in (f for f in os.listdir(d) if f.endswith(".png")):
            os.remove(os.path.join(d, old))
        pngs = plots.draw(data, d)
    else:
        print(f"report {name}: numpy/matplotlib are missing, so no plots: `apt-get install python3-matplotlib` "
              f"(Debian's python3 at {ALT_PYTHON}) or `pip install matplotlib`", file=sys.stderr)
        code = 1
    cmd_file = os.path.join(d, "command.txt")
    if os.path.isfile(cmd_file):
        with open(cmd_file) as f:
            command = f.read().strip()
    else:
        command = shlex.join(["scripts/study.py", "run", name, "--out", out] + (["--full"] if full else []))
        command += "   (reconstructed: no command.txt was recorded)"
    rep_cmd = shlex.join(["scripts/study.py", "report", name, "--out", out])
    aggregate.write_summary_md(data, os.path.join(d, "summary.md"), command, rep_cmd)
    print(f"report {name}: {len(data.cells)} job reports, {n} result rows, {m} summary rows, {len(pngs)} plots -> "
          f"{d}/summary.md")
    if data.missing:
        print(f"report {name}: missing jobs: {', '.join(data.missing)}")
        code = 1
    return code


def cmd_list(args) -> int:
    for name in defs.expand(args.study):
        st = defs.build(name, args.genes_flags)
        print(f"{name}: {st.title}" + (f"\n  NOT RUNNABLE HERE: {st.skip_reason}" if st.skip_reason else ""))
        for v in st.variants:
            share = f"  [arms {','.join(v.arms())}; the rest from {defs.BASELINE}]" if v.shares_baseline else ""
            print(f"  {v.name:15s} {shlex.join(defs.job_flags(st, v, args.full))}{share}")
    if args.study in ("all", "genes"):
        print("\ngenes data: --genes-flags \"...\", or $GTL_GENES_FLAGS, or a JSON file in $GTL_GENES_DIR "
              f"(default {defs.DEFAULT_GENES_DIR}; study.json or the only *.json) written by "
              "`scripts/fetch-data.sh genes`: {\"flags\": \"--dataset csv:PATH --pretrain-classes 0-4 "
              "--downstream-classes 5-9\"} or {\"dataset\": \"csv:PATH\", \"pretrainClasses\": \"0-4\", "
              "\"downstreamClasses\": \"5-9\", \"ways\": 5}. The MLP's head is max(pre-training classes, ways).")
    return 0


def ensure_gtl(path: str) -> str:
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    default = os.path.join(ROOT, ".build", "release", "gtl")
    if os.path.abspath(path) != default:
        raise SystemExit(f"study.py: --gtl {path} is not an executable file")
    print(f"{path} is missing: building it with `swift build -c release` (a few minutes)")
    rc = subprocess.call(["swift", "build", "-c", "release"], cwd=ROOT)
    if rc != 0 or not os.path.isfile(path):
        raise SystemExit(f"study.py: `swift build -c release` failed (exit {rc})")
    return path


def cmd_run(args, argv) -> int:
    out = args.out or default_out(args.full)
    launcher = shlex.split(args.launcher)
    only = [o for o in (args.only or "").split(",") if o] or None
    names = defs.expand(args.study)
    if only and len(names) > 1:
        raise SystemExit("study.py: --only needs a single study")
    plans = []
    for name in names:
        st = defs.build(name, args.genes_flags)
        if st.skip_reason:
            print(f"study {name}: cannot run here: {st.skip_reason}")
        seeds = runner.seeds_for(st, args.seeds, args.full)
        plans.append((name, st, runner.plan(st, out, seeds, args.full, only, check_data=not args.skip_data_check)))
    gtl = args.gtl
    if not args.dry_run:
        if not plotting_available():
            print("warning: numpy/matplotlib are missing: the jobs will run, the report will have no plots "
                  "(apt-get install python3-matplotlib)", file=sys.stderr)
        gtl = ensure_gtl(gtl)
        unknown = runner.flags_unknown_to(gtl, [j for _, _, jobs in plans for j in jobs])
        if unknown:
            print(f"study.py: {gtl} does not know {', '.join(unknown)} (see `{gtl} run --help`): rebuild it "
                  f"(`swift build -c release`) from a tree that has these flags", file=sys.stderr)
            return 2
    ok = True
    for name, st, jobs in plans:
        total = len(jobs)
        print(f"== study {name}: {len(st.variants)} variants, {total} jobs ({'full' if args.full else 'quick'} size), "
              f"out {study_dir(out, name)}")
        outcomes = runner.execute(jobs, gtl, args.workers, launcher, args.parallel, args.dry_run)
        if args.dry_run:
            continue
        ok = runner.summarize(outcomes) and ok
        record_command(out, name, argv, args.study)
        if any(j.done() for j in jobs):
            ok = (report(name, out, args.genes_flags, args.full) == 0) and ok
    return 0 if ok else 1


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.command == "list":
        return cmd_list(args)
    if not (args.command == "run" and args.dry_run):
        reexec_for_plotting()
    try:
        if args.command == "report":
            out = args.out or default_out(args.full)
            codes = [report(n, out, args.genes_flags, args.full) for n in defs.expand(args.study)]
            return 0 if all(c == 0 for c in codes) else 1
        return cmd_run(args, argv)
    except defs.StudyError as e:
        print(f"study.py: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume (finished jobs are kept)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

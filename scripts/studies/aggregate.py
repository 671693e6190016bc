"""Turns a study's report.json files into results.csv, summary.csv and summary.md (standard
library only; plots.py draws the PNGs from the same data).

Honesty rules implemented here:
- A variant that shares the baseline takes scratch/finetune/last-layer from the `default`
  variant's report of the same seed only after check_baseline_compatible() found that both jobs
  have the same data, model, seed, classes, pre-training, objective and evaluation (so the same
  base and the same episodes), and that their base.safetensors hold the same tensors. Otherwise
  it is an error that names the fields.
- Differences between arms are paired over the same test episodes (perEpisode), per seed; across
  seeds they are pooled with a t-interval over the seeds' means.
"""
from __future__ import annotations

import csv
import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from . import definitions as defs
from . import stats
from .safetensors import SafetensorsError, tensor_digests

# Evaluation keys that only select which arms run: they do not change the episodes or the grids.
ARM_SELECTION_KEYS = {"arms", "includeMeanOneArm"}
# Job keys that determine the base and the episodes (besides `evaluation`).
BASE_KEYS = ["dataset", "layers", "seed", "pretrainClasses", "downstreamClasses", "pretrain",
             "unsupervised", "objective", "clusters"]


class AggregationError(RuntimeError):
    pass


class BaselineMismatch(AggregationError):
    pass


def _diff_paths(a, b, prefix: str) -> List[str]:
    """Dotted paths where two JSON values differ (a missing key differs from any value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff_paths(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{prefix}.{k}")
        return out
    return [] if a == b else [f"{prefix}: {json.dumps(a)} vs {json.dumps(b)}"]


def baseline_mismatches(job: dict, base_job: dict) -> List[str]:
    """Fields (with both values) in which a variant's job and the baseline's job differ in what
    determines the base or the episodes; empty when sharing the baseline's arms is valid."""
    out: List[str] = []
    for k in BASE_KEYS:
        if k in job or k in base_job:
            out += _diff_paths(job.get(k, "<absent>"), base_job.get(k, "<absent>"), k)
    ev = {k: v for k, v in (job.get("evaluation") or {}).items() if k not in ARM_SELECTION_KEYS}
    bev = {k: v for k, v in (base_job.get("evaluation") or {}).items() if k not in ARM_SELECTION_KEYS}
    if not ev or not bev:
        out.append("evaluation: missing from a report")
    out += _diff_paths(ev, bev, "evaluation")
    return out


def check_baseline_compatible(job: dict, base_job: dict, what: str = "variant", base_what: str = "default") -> None:
    bad = baseline_mismatches(job, base_job)
    if bad:
        raise BaselineMismatch(f"{what} cannot share the arms of {base_what}: their jobs differ in "
                               + "; ".join(bad))


def check_same_base(dir_a: str, dir_b: str) -> None:
    """The two jobs' base.safetensors must hold identical tensors (skipped when a file is absent)."""
    pa, pb = os.path.join(dir_a, "base.safetensors"), os.path.join(dir_b, "base.safetensors")
    if not (os.path.isfile(pa) and os.path.isfile(pb)):
        return
    try:
        da, db = tensor_digests(pa), tensor_digests(pb)
    except SafetensorsError as e:
        raise BaselineMismatch(f"cannot compare bases: {e}") from None
    if da != db:
        names = sorted(n for n in set(da) | set(db) if da.get(n) != db.get(n))
        raise BaselineMismatch(f"{pa} and {pb} differ in tensors {', '.join(names)}: not the same base")


# ---------------------------------------------------------------------------------------------

@dataclass
class Arm:
    """One arm's result at one shot setting in one seed, and where it came from."""
    arm: str
    shots: int
    source: str            # the variant whose report it came from
    lr: float
    steps: int
    at_grid_edge: bool
    validation: float
    test: stats.Interval
    per_episode: List[float]
    difference_to_finetune: Optional[dict] = None


@dataclass
class Cell:
    """Per-(variant, seed): the merged arms by shots, and the report."""
    variant: str
    seed: int
    report: dict
    directory: str
    arms: Dict[int, Dict[str, Arm]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


@dataclass
class Diff:
    """A guided arm minus another arm, per seed and pooled."""
    arm: str
    against: str                       # "finetune" or "best other"
    per_seed: Dict[int, stats.Interval]
    other_arm: Dict[int, str]          # seed -> the arm compared with
    paired: Dict[int, bool]            # seed -> computed from perEpisode (False: from the report / unpaired)
    pooled: Optional[stats.Pooled]
    flips: str


@dataclass
class SummaryRow:
    variant: str
    shots: int
    arm: str
    seeds: List[int]
    per_seed: Dict[int, float]
    pooled: stats.Pooled
    grid_edge_seeds: int
    source: str
    vs_best: Optional[Diff] = None
    vs_finetune: Optional[Diff] = None


@dataclass
class StudyData:
    study: defs.Study
    out: str
    cells: Dict[Tuple[str, int], Cell]
    missing: List[str]
    rows: List[SummaryRow]
    seeds: List[int]
    shots: List[int]

    def row(self, variant: str, shots: int, arm: str) -> Optional[SummaryRow]:
        return next((r for r in self.rows if (r.variant, r.shots, r.arm) == (variant, shots, arm)), None)

    def report(self, variant: str, seed: int) -> Optional[dict]:
        c = self.cells.get((variant, seed))
        return c.report if c else None

    def any_report(self) -> Optional[dict]:
        return next((c.report for c in self.cells.values()), None)


def _arm(r: dict, source: str) -> Arm:
    t = r["test"]
    return Arm(r["arm"], int(r["shots"]), source, float(r["learningRate"]), int(r["steps"]), bool(r.get("atGridEdge", False)),
               float(r["validationAccuracy"]), stats.Interval(float(t["mean"]), t.get("ci95"), t.get("sd"), int(t["n"])),
               [float(x) for x in r.get("perEpisode") or []], r.get("differenceToFinetune"))


def _read(path: str) -> dict:
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise AggregationError(f"{path}: cannot read the report: {e}") from None
    for k in ("job", "results"):
        if k not in rep:
            raise AggregationError(f"{path}: not a gtl run report (no '{k}')")
    return rep


def discover_seeds(study: defs.Study, out: str) -> List[int]:
    seeds = set()
    for v in study.variants:
        d = os.path.join(out, study.name, v.name)
        if os.path.isdir(d):
            for e in os.listdir(d):
                if e.startswith("seed-") and e[5:].isdigit() and os.path.isfile(os.path.join(d, e, "report.json")):
                    seeds.add(int(e[5:]))
    return sorted(seeds)


def load(study: defs.Study, out: str, seeds: Optional[List[int]] = None) -> StudyData:
    """Reads every report of the study, merges shared baselines (checked) and summarises."""
    seeds = seeds if seeds is not None else discover_seeds(study, out)
    cells: Dict[Tuple[str, int], Cell] = {}
    missing: List[str] = []
    for v in study.variants:
        for s in seeds:
            d = os.path.join(out, study.name, v.name, f"seed-{s}")
            p = os.path.join(d, "report.json")
            if not os.path.isfile(p):
                missing.append(f"{v.name}/seed-{s}")
                continue
            rep = _read(p)
            got_seed = rep["job"].get("seed")
            if got_seed is not None and int(got_seed) != s:
                raise AggregationError(f"{p}: the report's job has seed {got_seed}, its folder says seed {s}")
            c = Cell(v.name, s, rep, d)
            for r in rep["results"]:
                a = _arm(r, v.name)
                c.arms.setdefault(a.shots, {})[a.arm] = a
            cells[(v.name, s)] = c
    # Shared baselines: fill the unguided arms from `default`, after checking it is valid.
    for (vname, s), c in cells.items():
        v = study.variant(vname)
        if not v.shares_baseline:
            continue
        base = cells.get((defs.BASELINE, s))
        if base is None:
            c.notes.append(f"no {defs.BASELINE}/seed-{s} report: its scratch/finetune/last-layer arms are missing")
            continue
        check_baseline_compatible(c.report["job"], base.report["job"], f"{study.name}/{vname}/seed-{s}",
                                  f"{study.name}/{defs.BASELINE}/seed-{s}")
        check_same_base(c.directory, base.directory)
        for shots, arms in base.arms.items():
            mine = c.arms.setdefault(shots, {})
            for name, a in arms.items():
                if name not in mine:
                    mine[name] = a
    shots = sorted({sh for c in cells.values() for sh in c.arms})
    rows = _summarise(study, cells, shots)
    return StudyData(study, out, cells, missing, rows, seeds, shots)


def _pair(a: Arm, b: Arm) -> Tuple[Optional[stats.Interval], bool]:
    """a − b for one seed: paired over perEpisode when both have it; else the report's own
    differenceToFinetune when b is finetune from the same report; else None."""
    if a.per_episode and b.per_episode:
        if len(a.per_episode) != len(b.per_episode):
            raise AggregationError(f"{a.arm} ({a.source}) and {b.arm} ({b.source}) at {a.shots} shots have "
                                   f"{len(a.per_episode)} vs {len(b.per_episode)} episodes: not the same episodes")
        return stats.paired_difference(a.per_episode, b.per_episode), True
    if b.arm == "finetune" and a.source == b.source and a.difference_to_finetune:
        d = a.difference_to_finetune
        return stats.Interval(float(d["mean"]), d.get("ci95"), d.get("sd"), int(d["n"])), True
    return None, False


def best_other(arms: Dict[str, Arm]) -> Optional[Arm]:
    """The best unguided arm of one seed by test mean (ties: the first of scratch, finetune,
    last-layer)."""
    cands = [arms[a] for a in defs.OTHER_ARMS if a in arms]
    return max(cands, key=lambda a: a.test.mean) if cands else None


def _diff(cells: List[Cell], shots: int, arm: str, against: str) -> Optional[Diff]:
    per_seed, other, paired, values = {}, {}, {}, []
    for c in cells:
        arms = c.arms.get(shots, {})
        a = arms.get(arm)
        b = arms.get("finetune") if against == "finetune" else best_other(arms)
        if a is None or b is None:
            continue
        d, ok = _pair(a, b)
        if d is None:
            continue
        per_seed[c.seed], other[c.seed], paired[c.seed] = d, b.arm, ok
        if a.per_episode and b.per_episode:
            values.append([x - y for x, y in zip(a.per_episode, b.per_episode)])
    if not per_seed:
        return None
    ivs = [per_seed[s] for s in sorted(per_seed)]
    pooled = stats.pool(ivs, values if len(values) == len(ivs) else None)
    return Diff(arm, against, per_seed, other, paired, pooled, stats.sign_flip(ivs))


def _summarise(study: defs.Study, cells: Dict[Tuple[str, int], Cell], shots: List[int]) -> List[SummaryRow]:
    rows = []
    for v in study.variants:
        vc = [cells[k] for k in sorted(cells) if k[0] == v.name]
        for sh in shots:
            for arm in defs.ARMS:
                got = [(c.seed, c.arms[sh][arm]) for c in vc if arm in c.arms.get(sh, {})]
                if not got:
                    continue
                ivs = [a.test for _, a in got]
                pooled = stats.pool(ivs, [a.per_episode for _, a in got] if all(a.per_episode for _, a in got) else None)
                row = SummaryRow(v.name, sh, arm, [s for s, _ in got], {s: a.test.mean for s, a in got}, pooled,
                                 sum(a.at_grid_edge for _, a in got), got[0][1].source)
                if arm in defs.GUIDED_ARMS:
                    row.vs_best = _diff(vc, sh, arm, "best other")
                    row.vs_finetune = _diff(vc, sh, arm, "finetune")
                rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Files.

def pct(x: Optional[float], sign: bool = False) -> str:
    if x is None:
        return ""
    return f"{100 * x:+.1f}" if sign else f"{100 * x:.1f}"


def _fmt(x: Optional[float], digits: int = 5) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def write_results_csv(data: StudyData, path: str) -> int:
    cols = ["study", "variant", "seed", "dataset", "ways", "shots", "arm", "source", "learning_rate", "steps",
            "at_grid_edge", "validation_accuracy", "test_mean", "test_ci95", "test_sd", "test_n", "per_episode"]
    n = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for (vname, seed) in sorted(data.cells, key=lambda k: ([v.name for v in data.study.variants].index(k[0]), k[1])):
            c = data.cells[(vname, seed)]
            job = c.report["job"]
            for sh in sorted(c.arms):
                for arm in defs.ARMS:
                    a = c.arms[sh].get(arm)
                    if a is None:
                        continue
                    w.writerow([data.study.name, vname, seed, job.get("dataset", ""), job.get("evaluation", {}).get("ways", ""),
                                sh, arm, a.source, _fmt(a.lr), a.steps, int(a.at_grid_edge), _fmt(a.validation),
                                _fmt(a.test.mean), _fmt(a.test.ci95), _fmt(a.test.sd), a.test.n, int(bool(a.per_episode))])
                    n += 1
    return n


def _diff_cols(d: Optional[Diff]) -> List[str]:
    if d is None:
        return [""] * 8
    p = d.pooled
    per = ";".join(f"{s}:{_fmt(iv.mean)}±{_fmt(iv.ci95)}" for s, iv in sorted(d.per_seed.items()))
    others = ";".join(f"{s}:{a}" for s, a in sorted(d.other_arm.items()))
    return [others, per, _fmt(p.mean), _fmt(p.across_seeds.ci95 if p.across_seeds else None),
            _fmt(p.episodes.ci95 if p.episodes else None), _fmt(p.within_seed_ci), d.flips,
            "yes" if all(d.paired.values()) else "no"]


def write_summary_csv(data: StudyData, path: str) -> int:
    cols = ["study", "variant", "shots", "arm", "source", "seeds", "test_mean", "test_ci95_across_seeds",
            "test_sd_across_seeds", "test_ci95_within_seed_mean", "test_ci95_episodes_pooled", "per_seed_test_mean",
            "seeds_at_grid_edge"]
    for pre in ("best", "ft"):
        cols += [f"{pre}_other_arm", f"{pre}_diff_per_seed", f"{pre}_diff_mean", f"{pre}_diff_ci95_across_seeds",
                 f"{pre}_diff_ci95_episodes_pooled", f"{pre}_diff_ci95_within_seed_mean", f"{pre}_sign_flips",
                 f"{pre}_paired"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in data.rows:
            p = r.pooled
            w.writerow([data.study.name, r.variant, r.shots, r.arm, r.source, len(r.seeds), _fmt(p.mean),
                        _fmt(p.across_seeds.ci95 if p.across_seeds else None),
                        _fmt(p.across_seeds.sd if p.across_seeds else None), _fmt(p.within_seed_ci),
                        _fmt(p.episodes.ci95 if p.episodes else None),
                        ";".join(f"{s}:{_fmt(m)}" for s, m in sorted(r.per_seed.items())), r.grid_edge_seeds]
                       + _diff_cols(r.vs_best) + _diff_cols(r.vs_finetune))
    return len(data.rows)


def _acc_cell(r: Optional[SummaryRow]) -> str:
    if r is None:
        return "-"
    p = r.pooled
    s = pct(p.mean)
    if p.across_seeds is not None:
        s += f" ± {pct(p.across_seeds.ci95)}"
    if p.within_seed_ci is not None:
        s += f" [±{pct(p.within_seed_ci)}]"
    if r.grid_edge_seeds:
        s += "*"
    if r.source != r.variant:
        s += "†"
    return s


def _diff_cell(d: Optional[Diff]) -> Tuple[str, str, str, str]:
    """(per seed, pooled, arms compared, flips)"""
    if d is None:
        return "-", "-", "-", "-"
    per = ", ".join(f"{pct(iv.mean, True)} ± {pct(iv.ci95)}" + ("" if d.paired[s] else " (unpaired)")
                    for s, iv in sorted(d.per_seed.items()))
    p = d.pooled
    pooled = pct(p.mean, True)
    if p.across_seeds is not None:
        pooled += f" ± {pct(p.across_seeds.ci95)}"
    elif p.within_seed_ci is not None:
        pooled += f" ± {pct(p.within_seed_ci)} (one seed)"
    if p.episodes is not None and p.across_seeds is not None:
        pooled += f" [episodes ±{pct(p.episodes.ci95)}]"
    arms = sorted(set(d.other_arm.values()))
    return per, pooled, "/".join(arms), d.flips


def _setup_lines(data: StudyData) -> List[str]:
    lines = []
    rep = data.any_report()
    if rep is None:
        return ["No reports yet."]
    ev = rep["job"].get("evaluation", {})

    def setup(c: Cell):
        j = c.report["job"]
        e = j.get("evaluation", {})
        return (j.get("dataset", "?"), c.report.get("architecture", "?"), str(j.get("pretrainClasses")),
                str(j.get("downstreamClasses")), str(e.get("shots")), str(e.get("queriesPerClass")))
    per_variant = {}
    for (v, _), c in sorted(data.cells.items()):
        per_variant.setdefault(v, setup(c))
    uniform = len(set(per_variant.values())) == 1
    if uniform:
        d, a, pc, dc, _, _ = next(iter(per_variant.values()))
        lines.append(f"- Data: {d}; pre-training (and scouting) classes {pc}, downstream classes {dc}.")
        lines.append(f"- Model: `{a}`")
    else:
        lines.append("- Data and models per variant:\n")
        lines.append("  | variant | data | model | pre-training classes | downstream classes | shots | queries |")
        lines.append("  |---|---|---|---|---|---|---|")
        for v in [x.name for x in data.study.variants if x.name in per_variant]:
            d, a, pc, dc, sh, q = per_variant[v]
            lines.append(f"  | {v} | {d} | `{a}` | {pc} | {dc} | {sh} | {q} |")
        lines.append("")
    lines.append(f"- Seeds: {', '.join(map(str, data.seeds)) or '-'}. Each seed is a new base, new scouts and new "
                 f"episodes (the job seed drives every random choice).")
    shots = (f"shots {ev.get('shots')}, {ev.get('queriesPerClass')} queries per class" if uniform
             else "shots and queries per class as above")
    lines.append(f"- Episodes: {ev.get('ways')}-way, {shots}; {ev.get('testEpisodes')} test and {ev.get('validationEpisodes')} validation episodes per seed "
                 f"and shot setting; learning-rate grid {ev.get('learningRates')}, step grid {ev.get('stepCounts')} "
                 f"({ev.get('optimizer')}), chosen per arm on the validation episodes.")
    return lines


def write_summary_md(data: StudyData, path: str, command: str, report_command: str) -> None:
    st = data.study
    L: List[str] = []
    L.append(f"Reproduce: `{command}`\n")
    L.append(f"# {st.name}: {st.title}\n")
    L.append(f"(this file was written by `{report_command}`; the command above runs every job that is missing "
             f"and then writes it)\n")
    L.append(st.question + "\n")
    L += _setup_lines(data)
    L.append("")
    L.append("| variant | job flags (on top of the study's) | arms run | what it is |")
    L.append("|---|---|---|---|")
    for v in st.variants:
        arms = ",".join(v.arms()) + f" (others from `{defs.BASELINE}`)" if v.shares_baseline else "all"
        flags = f"`{shlex.join(v.flags)}`" if v.flags else "—"
        L.append(f"| {v.name} | {flags} | {arms} | {v.note} |")
    if st.common_flags:
        L.append(f"\nStudy flags: `{shlex.join(st.common_flags)}`")
    if data.missing:
        L.append(f"\n**Missing jobs (no report.json)**: {', '.join(data.missing)}. Every number below uses only the "
                 f"seeds that are present.")
    notes = [f"{c.variant}/seed-{c.seed}: {n}" for c in data.cells.values() for n in c.notes]
    if notes:
        L.append("\n**Notes**: " + "; ".join(notes))
    ways = (data.any_report() or {}).get("job", {}).get("evaluation", {}).get("ways", "?")
    L.append("\n## Test accuracy (%)\n")
    L.append("Mean over seeds ± 95 % t-interval across seeds (when ≥ 2 seeds) [± mean within-seed CI over test "
             "episodes]. `*`: in at least one seed the chosen learning rate or step count is at an end of its grid."
             + (f" `†`: taken from the `{defs.BASELINE}` variant's report of the same seed (shared base and episodes; "
                "checked)." if any(v.shares_baseline for v in st.variants) else "") + "\n")
    for sh in data.shots:
        L.append(f"### {ways}-way {sh}-shot\n")
        L.append("| variant | " + " | ".join(defs.ARMS) + " |")
        L.append("|---|" + "---|" * len(defs.ARMS))
        for v in st.variants:
            if not any(data.row(v.name, sh, a) for a in defs.ARMS):
                continue
            L.append(f"| {v.name} | " + " | ".join(_acc_cell(data.row(v.name, sh, a)) for a in defs.ARMS) + " |")
        L.append("")
    for against, title in (("best other", "GTL − best unguided arm"), ("finetune", "GTL − plain fine-tuning")):
        L.append(f"## {title} (percentage points, paired over the same test episodes)\n")
        if against == "best other":
            L.append("The best unguided arm is chosen per seed among scratch, finetune and last-layer by its test mean; "
                     "choosing on the same test episodes favours that arm, so this comparison is conservative for GTL.\n")
        L.append("| variant | shots | arm | compared with | per seed (± episode CI) | pooled over seeds | sign flips with seed |")
        L.append("|---|---|---|---|---|---|---|")
        for r in data.rows:
            if r.arm not in defs.GUIDED_ARMS:
                continue
            d = r.vs_best if against == "best other" else r.vs_finetune
            per, pooled, arms, flips = _diff_cell(d)
            L.append(f"| {r.variant} | {r.shots} | {r.arm} | {arms} | {per} | {pooled} | {flips} |")
        L.append("")
    L.append("Pooled over seeds: the mean of the per-seed paired differences ± a 95 % t-interval across seeds (df = seeds − 1), "
             "which includes seed-to-seed variation (a new base and new scouts); [episodes ±x]: the CI treating every "
             "episode of every seed as one sample, which ignores that variation. With one seed, the episode CI.\n")
    L.append("Sign flips with seed: **yes** when at least two seeds' paired differences have 95 % CIs that exclude 0 "
             "in opposite directions; **sign only** when the per-seed means differ in sign but no two significant "
             "differences disagree; **no** when every seed has the same sign; **-** with one seed.\n")
    # Scouts and guides.
    L.append("## Bases, scouts and guides\n")
    L.append("Base train acc: the base's accuracy on its own pre-training data (on the pseudo-labels when unsupervised); "
             "purity: the fraction of pre-training samples whose k-means cluster's majority class is their own; scout loss: "
             "each scout's loss on its whole subproblem after training (all scouts of all seeds); guide: the whole model's "
             "guide values (mean over seeds).\n")
    L.append("| variant | seeds | base train acc (or reconstruction MSE) | purity | scouts | scout loss median [IQR] | guide mean | guide median | below 0.01 | job seconds (mean) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for v in st.variants:
        cs = [c for (n, _), c in sorted(data.cells.items()) if n == v.name]
        if not cs:
            continue
        def avg(xs):
            xs = [x for x in xs if x is not None]
            return stats.mean(xs) if xs else None
        losses = sorted(x for c in cs for x in (c.report.get("scoutLoss") or []))
        if losses:
            q = lambda p: losses[min(len(losses) - 1, int(p * (len(losses) - 1)))]
            loss = f"{q(0.5):.3g} [{q(0.25):.3g}, {q(0.75):.3g}]"
        else:
            loss = "-"
        gs = [c.report.get("guideSummary", [{}])[0] for c in cs if c.report.get("guideSummary")]
        secs = avg([sum((c.report.get("seconds") or {}).values()) for c in cs])
        purity = avg([(c.report.get("pseudoLabels") or {}).get("purity") for c in cs])
        acc = avg([c.report.get('baseTrainAccuracy') for c in cs])
        mse = avg([c.report.get('baseReconstructionError') for c in cs])
        base = f"{pct(acc)} %" if acc is not None else (f"MSE {mse:.3g}" if mse is not None else "-")
        L.append(f"| {v.name} | {len(cs)} | {base} | "
                 f"{'-' if purity is None else pct(purity) + ' %'} | "
                 f"{avg([c.report.get('scouts') for c in cs]):.0f} | {loss} | {_fmt(avg([g.get('mean') for g in gs]), 3)} | "
                 f"{_fmt(avg([g.get('p50') for g in gs]), 3)} | {pct(avg([g.get('nearZero') for g in gs]))} % | "
                 f"{'' if secs is None else (f'{secs:.0f}' if secs >= 10 else f'{secs:.1f}')} |")
    L.append("")
    pngs = sorted(f for f in os.listdir(os.path.dirname(path)) if f.endswith(".png")) if os.path.isdir(os.path.dirname(path)) else []
    if pngs:
        L.append("## Plots\n")
        for p in pngs:
            L.append(f"![{p}]({p})\n")
    L.append("Files: `results.csv` (one row per variant, seed, shots and arm), `summary.csv` (per variant, shots and arm, "
             "with the paired differences), the PNG plots, and every job's folder `VARIANT/seed-S/` (report.json, guide, "
             "base, run.log).")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")

"""The studies' plots (matplotlib, Agg backend, 150 dpi PNG). Every pixel of the project's
figures comes from here; gtl itself writes only data."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

from . import definitions as defs
from .aggregate import StudyData, SummaryRow
from . import safetensors

DPI = 150
ARM_COLORS = {"scratch": "#7f7f7f", "finetune": "#1f77b4", "gtl": "#d62728", "gtl-mean1": "#ff7f0e", "last-layer": "#2ca02c"}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "figure.titlesize": 11})
    return plt


def _err(r: Optional[SummaryRow]) -> Tuple[float, float]:
    """(mean, CI half-width): across seeds when there are ≥ 2, else the episode CI of the one seed."""
    if r is None:
        return float("nan"), 0.0
    p = r.pooled
    ci = p.across_seeds.ci95 if p.across_seeds is not None else (p.within_seed_ci or 0.0)
    return p.mean, ci or 0.0


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def context(data: StudyData, shots: Optional[int] = None, episodes: bool = True) -> str:
    """dataset · model · N-way K-shot · seeds × test episodes, for titles."""
    rep = data.any_report() or {"job": {}}
    job = rep["job"]
    ev = job.get("evaluation", {})
    datasets = sorted({c.report["job"].get("dataset", "?") for c in data.cells.values()})
    archs = sorted({c.report.get("architecture", "?") for c in data.cells.values()})
    model = archs[0] if len(archs) == 1 else f"{len(archs)} models"
    ds = ", ".join(d.split("/")[-1] if d.startswith("tu:") else d for d in datasets)
    shot = f"{ev.get('ways', '?')}-way {shots}-shot" if shots is not None else f"{ev.get('ways', '?')}-way"
    n = len(data.seeds)
    if not episodes:
        return f"{ds} · {_short(model, 60)}"
    return f"{ds} · {_short(model, 60)} · {shot} · {n} seed{'s' if n != 1 else ''} × {ev.get('testEpisodes', '?')} test episodes"


def _shot_title(data: StudyData, shots: int) -> str:
    ev = (data.any_report() or {"job": {}})["job"].get("evaluation", {})
    return f"{ev.get('ways', '?')}-way {shots}-shot"


def _save(fig, path: str) -> str:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def _legend(target, axes, **kw) -> None:
    """One legend with every label of `axes` (a panel may lack a variant that another has)."""
    seen = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if seen:
        target.legend(list(seen.values()), list(seen), fontsize=7, loc="best", **kw)


def factors(data: StudyData, outdir: str) -> List[str]:
    """Per shot setting: one panel per scout-design factor; GTL (and GTL mean-1) with 95 % CI
    against horizontal bands for fine-tune and scratch."""
    plt = _plt()
    st = data.study
    paths = []
    for sh in data.shots:
        fs = [(name, [(lab, v) for lab, v in vals if data.row(v, sh, "gtl")]) for name, vals in st.factors]
        fs = [f for f in fs if f[1]]
        if not fs:
            continue
        fig, axes = plt.subplots(1, len(fs), figsize=(3.6 * len(fs), 3.6), sharey=True, squeeze=False)
        for ax, (fname, vals) in zip(axes[0], fs):
            x = list(range(len(vals)))
            for arm, dx, marker in (("gtl", -0.08, "o"), ("gtl-mean1", 0.08, "s")):
                pts = [_err(data.row(v, sh, arm)) for _, v in vals]
                if all(m != m for m, _ in pts):
                    continue
                ax.errorbar([i + dx for i in x], [m * 100 for m, _ in pts], yerr=[c * 100 for _, c in pts],
                            fmt=marker + "-", color=ARM_COLORS[arm], capsize=3, label=arm, lw=1.2, ms=4)
            for arm in ("finetune", "scratch"):
                m, c = _err(data.row(defs.BASELINE, sh, arm))
                if m == m:
                    ax.axhspan((m - c) * 100, (m + c) * 100, color=ARM_COLORS[arm], alpha=0.15, lw=0)
                    ax.axhline(m * 100, color=ARM_COLORS[arm], lw=1, ls="--", label=f"{arm} (band: 95 % CI)")
            ax.set_xticks(x)
            ax.set_xticklabels([lab + ("\n(default)" if v == defs.BASELINE else "") for lab, v in vals])
            ax.set_xlabel(fname)
            ax.grid(axis="y", alpha=0.3)
        axes[0][0].set_ylabel("test accuracy (%)")
        axes[0][-1].legend(fontsize=7, loc="best")
        fig.suptitle(f"{st.name}: GTL test accuracy per scout-design factor (mean ± 95 % CI across seeds)\n{context(data, sh)}")
        fig.tight_layout()
        paths.append(_save(fig, os.path.join(outdir, f"{st.name}-factors-{sh}shot.png")))
    return paths


def scout_loss(data: StudyData, outdir: str) -> List[str]:
    """Box plot of every scout's final loss on its subproblem, per variant (all seeds pooled)."""
    st = data.study
    series = []
    for v in st.variants:
        xs = [x for (n, _), c in sorted(data.cells.items()) if n == v.name for x in (c.report.get("scoutLoss") or [])]
        if xs:
            series.append((v.name, xs))
    if not series:
        return []
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(series) + 2), 4))
    ax.boxplot([xs for _, xs in series], labels=[n for n, _ in series], showfliers=True, flierprops={"ms": 2})
    lo = min(min(xs) for _, xs in series)
    hi = max(max(xs) for _, xs in series)
    if lo > 0 and hi / lo > 50:
        ax.set_yscale("log")
    ax.set_ylabel("scout loss on its whole subproblem after training")
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{st.name}: scout convergence (each box: every scout of every seed, {len(data.seeds)} seeds)\n"
                 f"{context(data, episodes=False)}")
    fig.tight_layout()
    return [_save(fig, os.path.join(outdir, f"{st.name}-scout-loss.png"))]


def guide_histograms(data: StudyData, outdir: str) -> List[str]:
    """Guide values per tensor for the study's chosen variants, from guide.safetensors of the
    lowest seed present (seed 1 normally). Same tensors in every variant: one panel per tensor,
    variants overlaid; different models: one panel per variant, its tensors overlaid."""
    import numpy as np

    st = data.study
    guides: Dict[str, Dict[str, "np.ndarray"]] = {}
    seed_used = {}
    for v in st.guide_histograms:
        seeds = sorted(s for (n, s) in data.cells if n == v)
        for s in seeds:
            p = os.path.join(data.cells[(v, s)].directory, "guide.safetensors")
            if os.path.isfile(p):
                guides[v], _ = safetensors.read(p)
                seed_used[v] = s
                break
    if not guides:
        return []
    plt = _plt()
    names = list(guides)
    layouts = {tuple((k, t.shape) for k, t in g.items()) for g in guides.values()}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    seeds = sorted(set(seed_used.values()))
    seed_txt = f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ",".join(map(str, seeds))
    if len(layouts) == 1:
        tensors = list(guides[names[0]])
        panels = [(t, [(v, guides[v][t]) for v in names]) for t in tensors]
    else:
        panels = [(f"{v} (all tensors)", [(t, a) for t, a in guides[v].items()]) for v in names]
    ncol = min(4, len(panels))
    nrow = (len(panels) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.7 * nrow), squeeze=False)
    for ax, (title, series) in zip(axes.flat, panels):
        allv = np.concatenate([a.ravel().astype(np.float64) for _, a in series])
        lo, hi = float(allv.min()), float(allv.max())
        if hi <= lo:
            hi = lo + 1e-9
        bins = np.linspace(min(lo, 0.0) if lo >= 0 else lo, hi, 41)
        for i, (lab, a) in enumerate(series):
            ax.hist(a.ravel(), bins=bins, histtype="step", lw=1.3, color=colors[i % len(colors)],
                    label=f"{lab} (n={a.size}, <0.01: {100 * float((a < 0.01).mean()):.0f} %)")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("guide value")
        ax.set_ylabel("parameters")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"{st.name}: guide values per tensor ({seed_txt}; log count)\n{context(data, episodes=False)}")
    fig.tight_layout()
    return [_save(fig, os.path.join(outdir, f"{st.name}-guide-histograms.png"))]


def arm_bars(data: StudyData, outdir: str) -> List[str]:
    """Grouped bars: test accuracy per arm (groups) and variant (bars), one panel per shot."""
    plt = _plt()
    st = data.study
    variants = [v.name for v in st.variants if any(data.row(v.name, sh, a) for sh in data.shots for a in defs.ARMS)]
    if not variants or not data.shots:
        return []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, len(data.shots), figsize=(max(6, 1.1 * len(defs.ARMS) * max(1, len(variants)) / 2.2) * len(data.shots) / 1.3, 4.2),
                             squeeze=False, sharey=True)
    width = 0.8 / len(variants)
    for ax, sh in zip(axes[0], data.shots):
        for j, v in enumerate(variants):
            pts = [(i, _err(data.row(v, sh, a))) for i, a in enumerate(defs.ARMS)]
            pts = [(i, m, c) for i, (m, c) in pts if m == m]   # no bar where the arm was not run
            if not pts:
                continue
            ax.bar([i - 0.4 + width * (j + 0.5) for i, _, _ in pts], [m * 100 for _, m, _ in pts], width,
                   yerr=[c * 100 for _, _, c in pts], capsize=2, color=colors[j % len(colors)], label=v)
        ax.set_xticks(range(len(defs.ARMS)))
        ax.set_xticklabels(defs.ARMS)
        ax.set_title(_shot_title(data, sh))
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%), mean ± 95 % CI")
    _legend(axes[0][-1], axes[0])
    fig.suptitle(f"{st.name}: test accuracy per arm and variant\n{context(data)}")
    fig.tight_layout()
    return [_save(fig, os.path.join(outdir, f"{st.name}-arms.png"))]


def diff_bars(data: StudyData, outdir: str) -> List[str]:
    """Horizontal bars: GTL (and GTL mean-1) minus fine-tune, and minus the best unguided arm,
    paired over the same episodes, pooled over seeds with 95 % CI; one column per shot."""
    plt = _plt()
    st = data.study
    variants = [v.name for v in st.variants if any(data.row(v.name, sh, "gtl") for sh in data.shots)]
    if not variants:
        return []
    rows = (("vs_finetune", "GTL − fine-tune"), ("vs_best", "GTL − best unguided arm"))
    fig, axes = plt.subplots(2, len(data.shots), figsize=(4.8 * len(data.shots), 0.32 * len(variants) * 2 + 3.2),
                             squeeze=False, sharey=True)
    h = 0.38
    for col, sh in enumerate(data.shots):
        for rix, (attr, label) in enumerate(rows):
            ax = axes[rix][col]
            for k, (arm, dy) in enumerate((("gtl", -h / 2), ("gtl-mean1", h / 2))):
                ms, cs, ys = [], [], []
                for i, v in enumerate(variants):
                    r = data.row(v, sh, arm)
                    d = getattr(r, attr) if r else None
                    if d is None:
                        continue
                    p = d.pooled
                    ci = p.across_seeds.ci95 if p.across_seeds else p.within_seed_ci
                    ms.append(p.mean * 100)
                    cs.append((ci or 0) * 100)
                    ys.append(i + dy)
                if ys:
                    ax.barh(ys, ms, h, xerr=cs, capsize=2, color=ARM_COLORS[arm], label=arm)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(range(len(variants)))
            ax.set_yticklabels(variants)
            if rix == 0 and col == 0:
                ax.invert_yaxis()   # the axes share y: inverting once inverts them all
            ax.grid(axis="x", alpha=0.3)
            ax.set_xlabel(f"{label} (points, paired; 95 % CI)")
            if rix == 0:
                ax.set_title(_shot_title(data, sh))
        _legend(axes[0][col], [axes[0][col], axes[1][col]])
    fig.suptitle(f"{st.name}: GTL minus the unguided arms, paired over the same test episodes, "
                 f"pooled over seeds\n{context(data)}")
    fig.tight_layout()
    return [_save(fig, os.path.join(outdir, f"{st.name}-gtl-differences.png"))]


KINDS = {"factors": factors, "scout-loss": scout_loss, "guide-hist": guide_histograms, "arm-bars": arm_bars,
         "diff-bars": diff_bars}


def draw(data: StudyData, outdir: str) -> List[str]:
    """Every plot the study asks for; returns the files written."""
    out = []
    for kind in data.study.plots:
        out += KINDS[kind](data, outdir)
    return out

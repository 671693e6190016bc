"""Pure statistics for the aggregator (standard library only): means, t-intervals, paired
differences over the same episodes, and pooling across seeds."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

# Two-sided 95 % quantiles of Student's t, t_{0.975, df}, for df = 1..30.
_T975 = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]
_Z975 = 1.959963984540054


def t975(df: int) -> float:
    """t_{0.975, df}: the table for df <= 30, a Cornish-Fisher expansion beyond (error < 1e-4)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= 30:
        return _T975[df - 1]
    z = _Z975
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3


@dataclass(frozen=True)
class Interval:
    """A mean with its 95 % confidence half-width (None when it cannot be estimated), the
    standard deviation of the values and their count."""
    mean: float
    ci95: Optional[float]
    sd: Optional[float]
    n: int

    def excludes_zero(self) -> Optional[int]:
        """+1 / -1 when the interval lies entirely above / below 0, 0 when it covers 0, None
        when there is no interval."""
        if self.ci95 is None:
            return None
        if self.mean - self.ci95 > 0:
            return 1
        if self.mean + self.ci95 < 0:
            return -1
        return 0


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def sd(values: Sequence[float]) -> Optional[float]:
    """Sample standard deviation (n - 1); None for fewer than two values."""
    n = len(values)
    if n < 2:
        return None
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))


def t_interval(values: Sequence[float]) -> Interval:
    """Mean with a t-interval (df = n - 1); no interval for a single value."""
    s = sd(values)
    n = len(values)
    return Interval(mean(values), None if s is None else t975(n - 1) * s / math.sqrt(n), s, n)


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Interval:
    """a − b over the same episodes (a[i] and b[i] are the same episode): the mean difference
    with a t-interval over episodes."""
    if len(a) != len(b):
        raise ValueError(f"paired difference needs the same episodes: {len(a)} vs {len(b)} values")
    if not a:
        raise ValueError("paired difference of no episodes")
    return t_interval([x - y for x, y in zip(a, b)])


@dataclass(frozen=True)
class Pooled:
    """Per-seed estimates combined.

    across_seeds: the mean of the per-seed means with a t-interval over seeds (df = seeds − 1):
        what a new seed (a new base, new scouts, new episodes) would give; None with one seed.
    episodes: every episode of every seed as one sample (n = sum of episodes), 1.96-style
        t-interval: the precision of this particular set of seeds, ignoring seed-to-seed variation.
    within_seed_ci: the mean of the per-seed (episode) CI half-widths.
    """
    mean: float
    across_seeds: Optional[Interval]
    episodes: Optional[Interval]
    within_seed_ci: Optional[float]
    seeds: int


def pool(per_seed: Sequence[Interval], per_seed_values: Optional[Sequence[Sequence[float]]] = None) -> Pooled:
    """Pools per-seed estimates (and, when given, the per-episode values behind them)."""
    if not per_seed:
        raise ValueError("nothing to pool")
    means = [p.mean for p in per_seed]
    across = t_interval(means) if len(means) >= 2 else None
    cis = [p.ci95 for p in per_seed if p.ci95 is not None]
    within = mean(cis) if cis else None
    episodes = None
    if per_seed_values is not None and all(len(v) for v in per_seed_values):
        flat = [x for v in per_seed_values for x in v]
        episodes = t_interval(flat)
    return Pooled(mean(means), across, episodes, within, len(per_seed))


def sign_flip(per_seed: Sequence[Interval]) -> str:
    """Whether a difference's sign depends on the seed.

    "yes": at least two seeds whose CIs exclude 0 in opposite directions (a significant flip);
    "sign only": the per-seed means have different signs but no two significant ones disagree;
    "no": every per-seed mean has the same sign (or is exactly 0); "-": fewer than two seeds.
    """
    if len(per_seed) < 2:
        return "-"
    sides = {p.excludes_zero() for p in per_seed}
    if 1 in sides and -1 in sides:
        return "yes"
    signs = {(p.mean > 0) - (p.mean < 0) for p in per_seed} - {0}
    return "sign only" if len(signs) > 1 else "no"

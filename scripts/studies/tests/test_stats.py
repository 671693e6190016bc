import math

import pytest

from studies import stats


def test_t_quantiles_match_tables_and_approach_normal():
    assert stats.t975(1) == pytest.approx(12.706, abs=1e-3)
    assert stats.t975(2) == pytest.approx(4.303, abs=1e-3)
    assert stats.t975(30) == pytest.approx(2.042, abs=1e-3)
    assert stats.t975(40) == pytest.approx(2.0211, abs=2e-4)    # expansion beyond the table
    assert stats.t975(120) == pytest.approx(1.9799, abs=2e-4)
    assert stats.t975(100000) == pytest.approx(1.95998, abs=1e-4)
    with pytest.raises(ValueError):
        stats.t975(0)


def test_paired_difference_is_per_episode():
    a = [0.8, 0.6, 0.7, 0.9]
    b = [0.6, 0.6, 0.5, 0.8]
    d = stats.paired_difference(a, b)
    diffs = [0.2, 0.0, 0.2, 0.1]
    m = sum(diffs) / 4
    sd = math.sqrt(sum((x - m) ** 2 for x in diffs) / 3)
    assert d.mean == pytest.approx(m)
    assert d.sd == pytest.approx(sd)
    assert d.ci95 == pytest.approx(stats.t975(3) * sd / 2)
    assert d.n == 4
    # Pairing matters: the unpaired spread would be far wider than the paired one.
    assert d.ci95 < stats.t_interval(a).ci95 + stats.t_interval(b).ci95


def test_paired_difference_needs_the_same_episodes():
    with pytest.raises(ValueError, match="same episodes"):
        stats.paired_difference([0.1, 0.2], [0.1])


def test_pool_across_seeds_uses_a_t_interval_over_seed_means():
    seeds = [stats.Interval(0.02, 0.01, 0.05, 200), stats.Interval(-0.01, 0.01, 0.05, 200),
             stats.Interval(0.03, 0.02, 0.05, 200)]
    p = stats.pool(seeds)
    means = [0.02, -0.01, 0.03]
    m = sum(means) / 3
    sd = math.sqrt(sum((x - m) ** 2 for x in means) / 2)
    assert p.mean == pytest.approx(m)
    assert p.across_seeds.ci95 == pytest.approx(4.3027 * sd / math.sqrt(3))
    assert p.within_seed_ci == pytest.approx((0.01 + 0.01 + 0.02) / 3)
    assert p.seeds == 3
    assert p.episodes is None


def test_pool_of_one_seed_has_no_across_seed_interval_and_pools_episodes():
    p = stats.pool([stats.Interval(0.5, 0.1, 0.2, 3)], [[0.4, 0.5, 0.6]])
    assert p.across_seeds is None
    assert p.episodes.mean == pytest.approx(0.5)
    assert p.episodes.n == 3


def test_sign_flip_rule():
    up = stats.Interval(0.03, 0.01, None, 100)
    down = stats.Interval(-0.03, 0.01, None, 100)
    weak_down = stats.Interval(-0.005, 0.01, None, 100)
    assert stats.sign_flip([up, down]) == "yes"
    assert stats.sign_flip([up, weak_down]) == "sign only"
    assert stats.sign_flip([up, up]) == "no"
    assert stats.sign_flip([up]) == "-"

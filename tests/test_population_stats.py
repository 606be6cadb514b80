"""Kaplan-Meier, log-rank, histogram quantile merge and crossing times of
hpgsim.population.stats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from hpgsim.population.stats import (
    BINS_PER_DECADE,
    LOW,
    cumulative_at,
    first_reached,
    histogram,
    kaplan_meier,
    km_on_grid,
    log_rank,
    quantiles,
)


def test_kaplan_meier_matches_hand_computation() -> None:
    # times 1, 2, 2+, 3, 4+: at 1 n=5 d=1 -> 0.8; at 2 n=4 d=1 -> 0.6; at 3 n=2 d=1 -> 0.3
    times = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    events = np.array([True, True, False, True, False])
    t, s, lo, hi = kaplan_meier(times, events)
    assert t == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert s == pytest.approx([1.0, 0.8, 0.6, 0.3])
    var3 = 0.3**2 * (1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1))
    assert lo[3] == pytest.approx(max(0.3 - 1.959964 * np.sqrt(var3), 0.0), rel=1e-6)
    assert hi[3] == pytest.approx(0.3 + 1.959964 * np.sqrt(var3), rel=1e-6)
    var1 = 0.8**2 * (1 / (5 * 4))
    assert s[1] - lo[1] == pytest.approx(1.959964 * np.sqrt(var1), rel=1e-6)


def test_merged_chunk_histograms_give_numpy_quantiles() -> None:
    rng = np.random.default_rng(3)
    x = np.exp(rng.normal(3.0, 1.0, size=(300, 5)))
    x[:20, :] = 0.0  # azoospermic subjects fall in the bin below LOW
    parts = [histogram(part) for part in np.array_split(x, 7)]
    merged = np.sum(parts, axis=0)
    assert np.array_equal(merged, histogram(x))
    got = quantiles(merged, (0.05, 0.5, 0.95))
    want = np.quantile(x, (0.05, 0.5, 0.95), axis=0, method="inverted_cdf")
    ratio = 10 ** (1 / BINS_PER_DECADE)
    assert np.all(got <= want * ratio + LOW)
    assert np.all(got >= want / ratio - LOW)


def test_first_reached_interpolates_and_censors() -> None:
    t = np.array([0.0, 24.0, 48.0])
    x = np.array([[0.0, 10.0, 30.0], [20.0, 20.0, 20.0], [0.0, 1.0, 2.0]])
    times, events = first_reached(t, x, 15.0, above=True)
    assert times == pytest.approx([24.0 + 24.0 * 0.25, 0.0, 48.0])
    assert events.tolist() == [True, True, False]


def _naive_km(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier by its definition, one event time at a time."""
    t_ev = np.unique(times[events])
    s = np.cumprod([1.0 - np.count_nonzero(events & (times == u)) / np.count_nonzero(times >= u)
                    for u in t_ev])
    return t_ev, s


@settings(max_examples=80, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=60))
def test_vectorised_kaplan_meier_matches_the_definition(data: list[tuple[int, bool]]) -> None:
    times = np.array([float(t) for t, _ in data])
    events = np.array([e for _, e in data])
    t, s, lo, hi = kaplan_meier(times, events)
    t_ev, s_naive = _naive_km(times, events)
    assert t[1:] == pytest.approx(t_ev)
    assert s[1:] == pytest.approx(s_naive)
    assert np.all((lo <= s + 1e-12) & (s <= hi + 1e-12))
    for at in (0.0, 5.5, 30.0):
        k = np.searchsorted(t, at, side="right") - 1
        assert cumulative_at(times, events, at)[0] == pytest.approx(1.0 - s[k])
        assert km_on_grid(times, events, np.array([at]))[0][0] == pytest.approx(s[k])


def test_log_rank_matches_hand_computation() -> None:
    # A: events at 1, 3; censored at 4.  B: events at 2, 3; censored at 5.
    # t=1: n=6 (3+3), d=1, E_B=0.5, V=1*.5*.5*5/5=.25
    # t=2: n=5 (2+3), d=1, E_B=.6, V=.6*.4=.24
    # t=3: n=4 (2+2), d=2, E_B=1, V=2*.5*.5*2/3=1/3
    ta, ea = np.array([1.0, 3.0, 4.0]), np.array([True, True, False])
    tb, eb = np.array([2.0, 3.0, 5.0]), np.array([True, True, False])
    c = log_rank(ta, ea, tb, eb)
    var = 0.25 + 0.24 + 1.0 / 3.0
    assert c.expected_b == pytest.approx(2.1)
    assert c.observed_b == 2.0
    assert c.chi2 == pytest.approx(0.1**2 / var)
    assert c.hazard_ratio == pytest.approx(np.exp(-0.1 / var))
    assert c.p_value == pytest.approx(chi2.sf(0.1**2 / var, 1))
    assert c.hr_lower < c.hazard_ratio < c.hr_upper


def test_log_rank_separates_different_recovery_rates() -> None:
    rng = np.random.default_rng(5)
    fast, slow = rng.exponential(10.0, 400), rng.exponential(20.0, 400)
    censor = 30.0
    c = log_rank(np.minimum(slow, censor), slow < censor, np.minimum(fast, censor),
                 fast < censor)
    assert c.p_value < 1e-6
    assert 1.5 < c.hazard_ratio < 2.7  # true ratio of rates: 2
    same = log_rank(np.minimum(slow, censor), slow < censor, np.minimum(slow, censor),
                    slow < censor)
    assert same.chi2 == pytest.approx(0.0, abs=1e-12)
    assert same.hazard_ratio == pytest.approx(1.0)

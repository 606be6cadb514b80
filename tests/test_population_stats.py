"""Kaplan-Meier, histogram quantile merge and crossing times of hpgsim.population.run."""

from __future__ import annotations

import numpy as np
import pytest

from hpgsim.population.run import (
    BINS_PER_DECADE,
    LOW,
    first_reached,
    histogram,
    kaplan_meier,
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

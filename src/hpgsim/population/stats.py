"""Statistics of trial outputs: streaming quantile histograms, crossing times, Kaplan-Meier
with Greenwood intervals, and the comparison of two arms (log-rank test, Peto hazard ratio,
difference in cumulative recovery).

Quantile bands are merged from per-chunk histograms, not from samples, so memory is bounded
whatever the cohort size: for each observable and each time of the grid, counts in
``BINS_PER_DECADE`` log-spaced bins over [``LOW``, ``HIGH``] (canonical units) plus one bin
[0, ``LOW``) for lower values; values above ``HIGH`` count in the top bin. A quantile is read
by log-linear interpolation inside its bin, so it is exact to within one bin (a ratio of
10**(1/BINS_PER_DECADE), 2.3 %), or to ``LOW`` absolute below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
LOW, HIGH, BINS_PER_DECADE = 1e-3, 1e5, 100
EDGES = np.concatenate(([0.0], np.logspace(np.log10(LOW), np.log10(HIGH),
                                           int(np.log10(HIGH / LOW)) * BINS_PER_DECADE + 1)))
QUANTILES = (0.05, 0.5, 0.95)
Z95 = 1.959963984540054


def histogram(x: FloatArray) -> NDArray[np.int64]:
    """Counts per (time, bin) of values ``x`` (subjects, times) over ``EDGES``; NaN ignored."""
    n_bins = len(EDGES) - 1
    idx = np.clip(np.searchsorted(EDGES, x, side="right") - 1, 0, n_bins - 1)
    flat = (np.arange(x.shape[1]) * n_bins + idx)[~np.isnan(x)]
    return np.bincount(flat, minlength=x.shape[1] * n_bins).reshape(x.shape[1], n_bins)


def quantiles(counts: NDArray[np.int64], qs: Sequence[float] = QUANTILES) -> FloatArray:
    """Quantiles (len(qs), times) from merged histogram counts (times, bins); NaN where empty."""
    out = np.full((len(qs), counts.shape[0]), np.nan)
    cum = np.cumsum(counts, axis=1)
    total = cum[:, -1]
    for j, q in enumerate(qs):
        for t in np.nonzero(total)[0]:
            target = q * total[t]
            k = int(np.searchsorted(cum[t], target, side="left"))
            before = cum[t, k - 1] if k else 0
            frac = (target - before) / counts[t, k]
            lo, hi = EDGES[k], EDGES[k + 1]
            out[j, t] = lo + frac * (hi - lo) if k == 0 else lo * (hi / lo) ** frac
    return out


def first_reached(t: FloatArray, x: FloatArray, threshold: float,
                  above: bool) -> tuple[FloatArray, BoolArray]:
    """Per row of ``x`` (subjects, times ``t``, h): the first time it reaches ``threshold``
    (linearly interpolated; ``t[0]`` if already there) and whether it did (else ``t[-1]``,
    censored)."""
    reached = x >= threshold if above else x <= threshold
    event = np.asarray(reached.any(axis=1), dtype=bool)
    i = np.argmax(reached, axis=1)
    prev = np.maximum(i - 1, 0)
    rows = np.arange(x.shape[0])
    x0, x1 = x[rows, prev], x[rows, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(i > 0, (threshold - x0) / (x1 - x0), 0.0)
    times = np.where(event, t[prev] + np.clip(frac, 0.0, 1.0) * (t[i] - t[prev]), t[-1])
    return times, event


def _at_risk(times: FloatArray, at: FloatArray) -> FloatArray:
    """Number of ``times`` >= each of ``at``."""
    return np.asarray(times.size - np.searchsorted(np.sort(times), at, side="left"), dtype=float)


def _count_at(times: FloatArray, at: FloatArray) -> FloatArray:
    """Number of ``times`` equal to each of ``at``."""
    ordered = np.sort(times)
    return np.asarray(np.searchsorted(ordered, at, side="right")
                      - np.searchsorted(ordered, at, side="left"), dtype=float)


def _km(times: FloatArray, events: BoolArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Event times, KM survival after each, and its Greenwood variance."""
    t_ev, d_int = np.unique(times[events], return_counts=True)
    d = d_int.astype(float)
    n_risk = _at_risk(times, t_ev)
    s = np.cumprod(1.0 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_risk > d, d / (n_risk * (n_risk - d)), 0.0)
    return t_ev, np.asarray(s, dtype=float), np.asarray(s**2 * np.cumsum(terms), dtype=float)


def kaplan_meier(times: FloatArray, events: BoolArray
                 ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Kaplan-Meier survival with a 95 % Greenwood confidence interval, O(n log n).

    ``times`` (any unit) and ``events`` (True: event, False: censored at that time; at equal
    times events come first). Returns ``(t, S, lower, upper)`` at 0 and each event time;
    the interval is S +- 1.96 sqrt(Var), Var = S**2 sum d / (n (n - d)), clipped to [0, 1].
    """
    t_ev, s, var = _km(times, events)
    half = Z95 * np.sqrt(var)
    return (np.concatenate(([0.0], t_ev)), np.concatenate(([1.0], s)),
            np.concatenate(([1.0], np.clip(s - half, 0.0, 1.0))),
            np.concatenate(([1.0], np.clip(s + half, 0.0, 1.0))))


def km_on_grid(times: FloatArray, events: BoolArray, grid: FloatArray
               ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Kaplan-Meier ``(S, lower, upper)`` read at each of ``grid`` (a step function, right-
    continuous): the curve at a fixed resolution, however many subjects."""
    t, s, lo, hi = kaplan_meier(times, events)
    k = np.searchsorted(t, grid, side="right") - 1
    return s[k], lo[k], hi[k]


def cumulative_at(times: FloatArray, events: BoolArray, at: float) -> tuple[float, float]:
    """KM cumulative fraction with the event by ``at`` (1 - S) and its Greenwood standard
    error."""
    t_ev, s, var = _km(times, events)
    k = int(np.searchsorted(t_ev, at, side="right")) - 1
    return (0.0, 0.0) if k < 0 else (1.0 - float(s[k]), float(np.sqrt(var[k])))


def median_time(times: FloatArray, events: BoolArray) -> float:
    """First time the KM survival falls to 0.5 or below; NaN if it never does."""
    t_ev, s, _ = _km(times, events)
    below = np.nonzero(s <= 0.5)[0]
    return float(t_ev[below[0]]) if below.size else float("nan")


@dataclass(frozen=True)
class Comparison:
    """Arm B against arm A for one time-to endpoint: the log-rank statistic (1 df) and p-value,
    Peto's hazard ratio of B to A with its 95 % interval, observed and expected events of B."""

    chi2: float
    p_value: float
    hazard_ratio: float
    hr_lower: float
    hr_upper: float
    observed_b: float
    expected_b: float


def log_rank(times_a: FloatArray, events_a: BoolArray, times_b: FloatArray,
             events_b: BoolArray) -> Comparison:
    """Log-rank test of B against A (Mantel 1966; Peto & Peto 1972), with Peto's one-step
    hazard ratio exp((O - E) / V) and interval exp(+-1.96 / sqrt(V)) (Berry et al., Stat Med
    1991;10:749). O(n log n) over the distinct event times of both arms."""
    t_ev = np.unique(np.concatenate((times_a[events_a], times_b[events_b])))
    n_a, n_b = _at_risk(times_a, t_ev), _at_risk(times_b, t_ev)
    d_b = _count_at(times_b[events_b], t_ev)
    n, d = n_a + n_b, _count_at(times_a[events_a], t_ev) + d_b
    expected = float(np.sum(d * n_b / n))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = float(np.sum(np.where(n > 1, d * (n_b / n) * (1.0 - n_b / n) * (n - d) / (n - 1),
                                    0.0)))
    observed = float(np.sum(d_b))
    if var <= 0.0:
        return Comparison(0.0, 1.0, float("nan"), float("nan"), float("nan"), observed, expected)
    stat = (observed - expected) ** 2 / var
    log_hr = (observed - expected) / var
    half = Z95 / np.sqrt(var)
    return Comparison(stat, float(chi2.sf(stat, 1)), float(np.exp(log_hr)),
                      float(np.exp(log_hr - half)), float(np.exp(log_hr + half)), observed,
                      expected)

"""Forecasts for a fitted patient: each candidate protocol simulated from his history over
posterior draws, with credible bands, endpoint probabilities, titration and a ranking.

Draws: the fitted parameters from the fit's posterior; the other parameters of the cohort
variability table, which his labs do not inform, from their population distribution
(:func:`hpgsim.validation.cohort.sample_parameters`), so bands carry both.

The protocol starts on ``start`` (a whole number of days after the fit's time 0; default: the
day after his last lab or dose) after his recorded doses. Endpoints, on the protocol's clock:

- ``p_sperm_6mo``/``p_sperm_12mo``: share of draws whose sperm concentration is at or above
  15 million/mL (WHO 2010 lower limit) for a week from some time by 6 and 12 months (None when
  the simulated span is shorter); a man already there at the start counts at day 0.
- ``t_T300_days``: days until total T is at or above 300 ng/dL (AUA 2018) for a week (median
  and 90% interval over the draws that get there), with ``p_T300`` the share that does.
- ``e2_peak``: highest E2 (pg/mL) during the protocol (median and 90% interval).

Ranking: by ``p_sperm_12mo``, then ``p_sperm_6mo`` (higher first), then the median time to
T >= 300, then the median E2 peak (lower first).

Titration rules (:mod:`hpgsim.patients.titration`) are evaluated per draw on the simulated lab
at the visit, with lab noise (:data:`hpgsim.patients.fit.LAB_NOISE`); draws are grouped by the
decisions taken and each group is simulated on its own regimen.

Next labs: the day in weeks 2-26 of the protocol where the draws disagree most relative to lab
noise, summed over T, LH, FSH, E2 and sperm: the expected information of one sample,
``0.5 log(1 + var(log predicted) / sigma^2)`` per analyte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hpgsim.errors import InputError
from hpgsim.patients.fit import LAB_NOISE, FitResult, PatientData, simulate_sets
from hpgsim.patients.titration import Candidate, shifted, with_decisions
from hpgsim.regimen.model import DAY, Regimen
from hpgsim.summary import RECOVERY_HOLD_H, RECOVERY_THRESHOLDS
from hpgsim.units import HOURS_PER
from hpgsim.validation.cohort import member_parameters, sample_parameters

FloatArray = NDArray[np.float64]
FORECAST_STEP_H = 12.0
BAND_QUANTILES = (0.05, 0.5, 0.95)
MONTH = HOURS_PER["mo"]
SHOWN = ("total_testosterone", "lh", "fsh", "estradiol", "sperm_concentration")
NEXT_LABS_WINDOW_H = (2 * HOURS_PER["w"], 26 * HOURS_PER["w"])


@dataclass(frozen=True)
class Forecast:
    """One candidate's forecast. ``days``: protocol clock; ``bands[analyte]``: (3, days) at
    ``BAND_QUANTILES`` in canonical units; endpoints as in the module docstring; ``fired``:
    share of draws in which each titration rule fired; ``next_labs_day``: suggested day."""

    name: str
    days: FloatArray
    bands: dict[str, FloatArray]
    p_sperm_6mo: float | None
    p_sperm_12mo: float | None
    p_T300: float
    t_T300_days: tuple[float, float, float] | None
    e2_peak: tuple[float, float, float]
    fired: dict[str, float]
    next_labs_day: float | None
    n_draws: int

    def rank_key(self) -> tuple[float, float, float, float]:
        t = self.t_T300_days[1] if self.t_T300_days and self.p_T300 >= 0.5 else math.inf
        return (-(self.p_sperm_12mo or 0.0), -(self.p_sperm_6mo or 0.0), t, self.e2_peak[1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (bands thinned to weekly points)."""
        week = slice(None, None, max(round(HOURS_PER["w"] / FORECAST_STEP_H), 1))
        return {"name": self.name, "n_draws": self.n_draws, "p_sperm_6mo": self.p_sperm_6mo,
                "p_sperm_12mo": self.p_sperm_12mo, "p_T300": self.p_T300,
                "t_T300_days": self.t_T300_days, "e2_peak_pg_ml": self.e2_peak,
                "titration_fired": self.fired, "next_labs_day": self.next_labs_day,
                "days": self.days[week].tolist(),
                "bands": {k: v[:, week].tolist() for k, v in self.bands.items()}}


def _draws(fit: FitResult, data: PatientData, n: int, seed: int) -> list[dict[str, float]]:
    """Parameter overrides: posterior draws of the fitted, population draws of the others."""
    rng = np.random.default_rng(seed)
    posterior = fit.overrides()
    picks = rng.integers(len(posterior), size=n)
    return [{**member_parameters(data.subject, m), **posterior[k]}
            for m, k in zip(sample_parameters(n, seed), picks, strict=True)]


def _combined(history: Regimen, plan: Regimen, offset_days: int) -> Regimen:
    moved = shifted(plan, offset_days)
    return replace(moved, lines=history.lines + moved.lines)


def _quantiles(x: FloatArray) -> tuple[float, float, float]:
    q = np.quantile(x, BAND_QUANTILES)
    return float(q[0]), float(q[1]), float(q[2])


def forecast(fit: FitResult, data: PatientData, candidate: Candidate, *,
             start: datetime | None = None, n_draws: int = 200, seed: int = 0) -> Forecast:
    """Forecast one candidate protocol for the fitted patient (see the module docstring)."""
    last = data.t0 + timedelta(hours=float(max(data.times.max(), data.regimen.treatment_end)))
    begin = start or last + timedelta(days=1)
    offset_days = math.ceil((begin - data.t0) / timedelta(days=1))
    if data.t0 + timedelta(days=offset_days) <= last:
        raise InputError("start", begin.isoformat(), "the protocol would start before the last "
                         "recorded lab or dose", "start after the recorded history")
    off = offset_days * DAY
    rng = np.random.default_rng([seed, 1])
    overrides = _draws(fit, data, n_draws, seed)
    rules = candidate.rules
    names = sorted(set(SHOWN) | {r.analyte for r in rules})
    fired = np.zeros((n_draws, len(rules)), dtype=bool)

    def run(idx: NDArray[np.intp], decisions: tuple[bool, ...]) -> tuple[FloatArray, Any]:
        reg = _combined(data.regimen, with_decisions(candidate, decisions), offset_days)
        return simulate_sets(data.subject, reg, [overrides[k] for k in idx], names,
                             FORECAST_STEP_H, reg.end)

    def groups(upto: int) -> dict[tuple[bool, ...], NDArray[np.intp]]:
        keys = [tuple(bool(v) for v in row[:upto]) for row in fired]
        return {key: np.array([i for i, k in enumerate(keys) if k == key], dtype=np.intp)
                for key in dict.fromkeys(keys)}

    for j, rule in enumerate(rules):
        for key, idx in groups(j).items():
            t, obs = run(idx, key)
            lab = np.array([np.interp(off + rule.at, t, row) for row in obs[rule.analyte]])
            lab *= np.exp(rng.standard_normal(len(idx)) * LAB_NOISE[rule.analyte].value)
            fired[idx, j] = [rule.fires(float(v)) for v in lab]
    end = _combined(data.regimen, candidate.regimen, offset_days).end
    grid = np.arange(off, end + 1e-9, FORECAST_STEP_H)  # shared by every decision group
    traj = {a: np.full((n_draws, len(grid)), np.nan) for a in names}
    for key, idx in groups(len(rules)).items():
        t, obs = run(idx, key)
        for a in names:
            traj[a][idx] = [np.interp(grid, t, row) for row in obs[a]]
    t_rel = grid - off
    ok = np.all(np.isfinite(traj["total_testosterone"]), axis=1)
    traj = {a: v[ok] for a, v in traj.items()}
    return Forecast(
        candidate.name, t_rel / DAY,
        {a: np.quantile(traj[a], BAND_QUANTILES, axis=0) for a in SHOWN},
        *_sperm(t_rel, traj["sperm_concentration"]), *_t300(t_rel, traj["total_testosterone"]),
        _quantiles(traj["estradiol"].max(axis=1)),
        {r.label + f" @ {r.at / DAY:g} d": float(fired[ok, j].mean())
         for j, r in enumerate(rules)},
        _next_labs(t_rel, traj), int(ok.sum()))


def _reached(t: FloatArray, x: FloatArray, threshold: float) -> FloatArray:
    """Per row of ``x``: the first time (h) from which it stays at or above ``threshold`` for
    ``RECOVERY_HOLD_H`` (or to the end of the span); NaN if never. On the output grid."""
    below = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x < threshold, axis=1)], axis=1)
    ends = np.searchsorted(t, t + RECOVERY_HOLD_H, side="right")
    holds = (below[:, ends] - below[:, :-1]) == 0
    first = np.argmax(holds, axis=1)
    return np.where(holds.any(axis=1), t[first], np.nan)


def _sperm(t: FloatArray, sperm: FloatArray) -> tuple[float | None, float | None]:
    reached = _reached(t, sperm, RECOVERY_THRESHOLDS["sperm_concentration"][0])
    out = []
    for months in (6, 12):
        horizon = months * MONTH
        out.append(None if t[-1] < horizon else float(np.mean(reached <= horizon)))
    return out[0], out[1]


def _t300(t: FloatArray, tt: FloatArray) -> tuple[float, tuple[float, float, float] | None]:
    reached = _reached(t, tt, RECOVERY_THRESHOLDS["total_testosterone"][0])
    hit = reached[np.isfinite(reached)] / DAY
    return float(np.mean(np.isfinite(reached))), (_quantiles(hit) if hit.size else None)


def _next_labs(t: FloatArray, traj: dict[str, FloatArray]) -> float | None:
    window = (t >= NEXT_LABS_WINDOW_H[0]) & (t <= NEXT_LABS_WINDOW_H[1])
    if not window.any():
        return None
    info = np.zeros(int(window.sum()))
    for a in SHOWN:
        spread = np.var(np.log(np.maximum(traj[a][:, window], 1e-9)), axis=0)
        info += 0.5 * np.log1p(spread / LAB_NOISE[a].value ** 2)
    return float(t[window][int(np.argmax(info))] / DAY)


def plan(fit: FitResult, data: PatientData, candidates: Sequence[Candidate], *,
         start: datetime | None = None, n_draws: int = 200, seed: int = 0) -> list[Forecast]:
    """Forecast every candidate (same draws for each) and rank them (best first)."""
    out = [forecast(fit, data, c, start=start, n_draws=n_draws, seed=seed) for c in candidates]
    return sorted(out, key=Forecast.rank_key)

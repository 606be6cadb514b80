"""Chunked trial runs with streaming aggregation.

A trial is arms x chunks. Chunk ``c`` of every arm holds the same subjects: covariates and
parameter multipliers drawn with seed ``cohort.seed * 1_000_003 + c`` (so results depend on the
seed and the chunk size, never on the backend or the order chunks finish in). Each chunk is one
``simulate_batch`` call; its summary is saved as ``chunks/arm<a>_chunk<c>.npz`` under the
output directory as soon as it arrives, and a rerun skips the chunks already there (resume).

Quantile bands are merged from per-chunk histograms, not from samples, so memory is bounded
whatever the cohort size: for each observable and each time of the fixed grid (``output_step``
from the arm start), counts in ``BINS_PER_DECADE`` log-spaced bins over [``LOW``, ``HIGH``]
(canonical units) plus one bin [0, ``LOW``) for lower values; values above ``HIGH`` count in
the top bin. A quantile is read by log-linear interpolation inside its bin, so it is exact to
within one bin (a ratio of 10**(1/BINS_PER_DECADE), 2.3 %), or to ``LOW`` absolute below it.
Endpoint events are kept per subject (one time and one flag, 9 bytes per subject and endpoint).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hpgsim.engine.batch import simulate_batch
from hpgsim.population.backends import Backend, InProcess
from hpgsim.population.spec import TrialSpec, trial_from_dict
from hpgsim.simulation import SimulationOptions
from hpgsim.validation.cohort import member_parameters, sample_parameters, sample_subjects

FloatArray = NDArray[np.float64]
LOW, HIGH, BINS_PER_DECADE = 1e-3, 1e5, 100
EDGES = np.concatenate(([0.0], np.logspace(np.log10(LOW), np.log10(HIGH),
                                           int(np.log10(HIGH / LOW)) * BINS_PER_DECADE + 1)))
QUANTILES = (0.05, 0.5, 0.95)
SEED_STRIDE = 1_000_003
Z95 = 1.959963984540054


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of a cohort seeded ``seed``."""
    return seed * SEED_STRIDE + chunk


def histogram(x: FloatArray) -> NDArray[np.int64]:
    """Counts per (time, bin) of values ``x`` (subjects, times) over ``EDGES``; NaN ignored."""
    n_bins = len(EDGES) - 1
    idx = np.clip(np.searchsorted(EDGES, x, side="right") - 1, 0, n_bins - 1)
    counts = np.zeros((x.shape[1], n_bins), dtype=np.int64)
    cols = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    ok = np.isfinite(x)
    np.add.at(counts, (cols[ok], idx[ok]), 1)
    return counts


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
                  above: bool) -> tuple[FloatArray, NDArray[np.bool_]]:
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


def kaplan_meier(times: FloatArray, events: NDArray[np.bool_]
                 ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Kaplan-Meier survival with a 95 % Greenwood confidence interval.

    ``times`` (any unit) and ``events`` (True: event, False: censored at that time; at equal
    times events come first). Returns ``(t, S, lower, upper)`` at 0 and each event time;
    the interval is S +- 1.96 sqrt(Var), Var = S**2 sum d / (n (n - d)), clipped to [0, 1].
    """
    t_ev = np.unique(times[events])
    n_risk = np.array([np.count_nonzero(times >= u) for u in t_ev], dtype=float)
    d = np.array([np.count_nonzero(events & (times == u)) for u in t_ev], dtype=float)
    s = np.cumprod(1.0 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_risk > d, d / (n_risk * (n_risk - d)), 0.0)
    half = Z95 * np.sqrt(s**2 * np.cumsum(terms))
    return (np.concatenate(([0.0], t_ev)), np.concatenate(([1.0], s)),
            np.concatenate(([1.0], np.clip(s - half, 0.0, 1.0))),
            np.concatenate(([1.0], np.clip(s + half, 0.0, 1.0))))


def _regrid(t: FloatArray, x: FloatArray, grid: FloatArray) -> FloatArray:
    """Rows of ``x`` on times ``t`` linearly interpolated onto ``grid`` (inside ``t``)."""
    i = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 2)
    w = (grid - t[i]) / (t[i + 1] - t[i])
    return x[:, i] * (1.0 - w) + x[:, i + 1] * w


def arm_grid(spec: TrialSpec, arm: int) -> FloatArray:
    """Output times (h from the arm start) of arm ``arm``."""
    span = spec.arms[arm][1].end - spec.offset
    return np.arange(0.0, span + 1e-9, spec.output_step)


def n_chunks(spec: TrialSpec) -> int:
    """Number of chunks of the cohort."""
    return -(-spec.cohort.size // spec.cohort.chunk_size)


def run_chunk(data: dict[str, object], base_dir: str, arm: int,
              chunk: int) -> dict[str, FloatArray | NDArray[np.int64] | NDArray[np.bool_]]:
    """Simulate chunk ``chunk`` of arm ``arm`` and summarise it (the unit of work of a backend;
    takes the raw trial mapping so that it pickles cheaply)."""
    spec = trial_from_dict(data, base_dir)
    c = spec.cohort
    size = min(c.chunk_size, c.size - chunk * c.chunk_size)
    seed = chunk_seed(c.seed, chunk)
    subjects = sample_subjects(c.subject, size, seed, "cohort.subject")
    members = [(s, member_parameters(s, m))
               for s, m in zip(subjects, sample_parameters(size, seed), strict=True)]
    regimen = spec.arms[arm][1]
    result = simulate_batch(members, regimen,
                            SimulationOptions(output_step=spec.output_step, t_end=regimen.end),
                            spec.observables)
    grid = arm_grid(spec, arm)
    ok = result.ok
    out: dict[str, FloatArray | NDArray[np.int64] | NDArray[np.bool_]] = {
        "n_ok": np.array([np.count_nonzero(ok)]),
        "n_failed": np.array([size - np.count_nonzero(ok)])}
    values = {k: _regrid(result.times - spec.offset, v[ok], grid)
              for k, v in result.observables.items()}
    for k, v in values.items():
        out[f"hist/{k}"] = histogram(v)
    for e in spec.endpoints:
        x = values[e.observable]
        if e.kind == "time_to":
            window = grid >= e.after
            out[f"time/{e.name}"], out[f"event/{e.name}"] = first_reached(
                grid[window], x[:, window], e.threshold, e.direction == "above")
        else:
            at = _regrid(grid, x, np.array([e.at]))[:, 0]
            beyond = at > e.threshold if e.direction == "above" else at < e.threshold
            out[f"beyond/{e.name}"] = np.array([np.count_nonzero(beyond)])
    return out


@dataclass
class ArmSummary:
    """Merged results of one arm: grid (h from arm start), quantile bands per observable
    (3, times: 5 %, 50 %, 95 %), endpoint times and events, ``fraction_at`` counts."""

    name: str
    grid: FloatArray
    bands: dict[str, FloatArray]
    times: dict[str, FloatArray]
    events: dict[str, NDArray[np.bool_]]
    beyond: dict[str, int]
    n_ok: int
    n_failed: int


@dataclass
class TrialSummary:
    """Per-arm summaries, and how many chunks this run computed (the rest were resumed)."""

    spec: TrialSpec
    arms: list[ArmSummary]
    computed: int


def _chunk_path(out: Path, arm: int, chunk: int) -> Path:
    return out / "chunks" / f"arm{arm}_chunk{chunk}.npz"


def _merge(spec: TrialSpec, out: Path, arm: int) -> ArmSummary:
    """Read the chunk files of ``arm`` one at a time and merge them."""
    hist: dict[str, NDArray[np.int64]] = {}
    times: dict[str, list[FloatArray]] = {}
    events: dict[str, list[NDArray[np.bool_]]] = {}
    beyond: dict[str, int] = {}
    n_ok = n_failed = 0
    for chunk in range(n_chunks(spec)):
        with np.load(_chunk_path(out, arm, chunk)) as f:
            n_ok += int(f["n_ok"][0])
            n_failed += int(f["n_failed"][0])
            for key in f.files:
                kind, _, name = key.partition("/")
                if kind == "hist":
                    hist[name] = hist[name] + f[key] if name in hist else f[key]
                elif kind == "time":
                    times.setdefault(name, []).append(f[key])
                elif kind == "event":
                    events.setdefault(name, []).append(f[key])
                elif kind == "beyond":
                    beyond[name] = beyond.get(name, 0) + int(f[key][0])
    return ArmSummary(spec.arms[arm][0], arm_grid(spec, arm),
                      {k: quantiles(v) for k, v in hist.items()},
                      {k: np.concatenate(v) for k, v in times.items()},
                      {k: np.concatenate(v) for k, v in events.items()}, beyond, n_ok, n_failed)


def run_trial(spec: TrialSpec, out_dir: str | Path, backend: Backend | None = None,
              progress: Callable[[int, int], None] | None = None) -> TrialSummary:
    """Run every (arm, chunk) not yet saved under ``out_dir`` on ``backend`` (default
    in-process), then merge. ``progress(done, total)`` is called as chunks finish."""
    out = Path(out_dir)
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    todo = [(a, c) for a in range(len(spec.arms)) for c in range(n_chunks(spec))
            if not _chunk_path(out, a, c).exists()]
    total = len(spec.arms) * n_chunks(spec)
    done = total - len(todo)
    tasks = [(spec.data, spec.base_dir, a, c) for a, c in todo]
    for (a, c), result in (backend or InProcess()).map(run_chunk, tasks, todo):
        path = _chunk_path(out, a, c)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **result)  # type: ignore[arg-type]
        os.replace(tmp, path)
        done += 1
        if progress is not None:
            progress(done, total)
    return TrialSummary(spec, [_merge(spec, out, a) for a in range(len(spec.arms))], len(todo))

"""The courses of one chunk of a trial: every arm, on the arm's output grid.

With the compiled engine the prior suppression, the same in every arm, is solved once per
chunk (from each subject's drug-free steady state to the arm start); every arm then continues
from the subjects' states at the arm start (``course_batch``), only the arm's grid is kept, and
the steady-state search starts from the typical man's steady state for every subject (no
per-subject Python work beyond the parameter vector). A two-arm trial with a one-year prior
thus integrates three subject-years per subject instead of four. Without numba each arm is a
``simulate_batch`` scipy loop over the whole regimen, regridded (same results within the
solver tolerance, far slower).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.pk import Exposure, build_exposure
from hpgsim.engine.batch import simulate_batch
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.population.spec import TrialSpec
from hpgsim.regimen.model import Regimen
from hpgsim.simulation import SimulationOptions, drug_free_state, resolve_engine
from hpgsim.subjects import Subject

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ArmCourses:
    """One arm of a chunk: ``values[name]`` (subjects, len(grid)) in canonical units on the
    grid (h from the arm start), NaN rows where ``ok`` is False (the solve failed)."""

    values: dict[str, FloatArray]
    ok: NDArray[np.bool_]
    steps: NDArray[np.int64]


def _exposure(regimen: Regimen, t_end: float) -> Exposure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dose warnings are simulate()'s to report, once
        return build_exposure(regimen.boluses(), regimen.pumps(), t_end)


def regrid(t: FloatArray, x: FloatArray, grid: FloatArray) -> FloatArray:
    """Rows of ``x`` on times ``t`` linearly interpolated onto ``grid`` (inside ``t``)."""
    i = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 2)
    w = (grid - t[i]) / (t[i + 1] - t[i])
    return np.asarray(x[:, i] * (1.0 - w) + x[:, i + 1] * w)


def arm_courses(spec: TrialSpec, params: Sequence[Mapping[str, float]],
                grids: Sequence[FloatArray]) -> Iterator[ArmCourses]:
    """The courses of subjects ``params`` (full parameter sets) in each arm, in arm order, on
    ``grids[arm]`` (h from the arm start); one arm's arrays are alive at a time."""
    names = spec.observables
    options = SimulationOptions(rtol=spec.rtol, atol=spec.atol)
    if resolve_engine("auto") != "numba":
        for (_, regimen), grid in zip(spec.arms, grids, strict=True):
            r = simulate_batch(params, regimen, SimulationOptions(
                output_step=spec.output_step, t_end=spec.offset + grid[-1], rtol=spec.rtol,
                atol=spec.atol, engine="scipy"), names)
            yield ArmCourses({k: regrid(r.times - spec.offset, v, grid)
                              for k, v in r.observables.items()}, r.ok,
                             np.zeros(len(params), dtype=np.int64))
        return
    from hpgsim.engine.link import load
    from hpgsim.engine.run import pack_inputs, parameter_vector

    mod = load()
    n = len(params)
    pv = np.array([parameter_vector(p, mod.PARAMETER_NAMES) for p in params]).reshape(
        n, len(mod.PARAMETER_NAMES))
    y = np.tile(drug_free_state(subject_parameters(Subject())), (n, 1))  # search's first guess
    status = np.zeros(n, dtype=np.int64)
    t_fail = np.zeros(n)
    steps = np.zeros(n, dtype=np.int64)
    order = list(mod.OBSERVABLE_NAMES)
    selected = np.array([order.index(k) for k in names], dtype=np.int64)

    def advance(state: FloatArray, st: NDArray[np.int64], regimen: Regimen, t0: float,
                out_t: FloatArray, from_steady: bool, k: int) -> FloatArray:
        exposure = _exposure(regimen, float(out_t[-1]))
        obs = np.full((n, k, len(out_t)), np.nan)
        mod.course_batch(pv, state, from_steady, pack_inputs(exposure), t0, out_t,
                         exposure.segment_of(out_t).astype(np.int64), selected[:k],
                         options.rtol, options.atol, options.max_steps, obs, st, t_fail, steps)
        return obs

    shared = spec.offset > 0.0
    if shared:
        advance(y, status, spec.prior, 0.0, np.array([spec.offset]), True, 0)
    prior_steps = steps.copy()
    for (_, regimen), grid in zip(spec.arms, grids, strict=True):
        state, st = y.copy(), status.copy()
        steps[:] = prior_steps
        obs = advance(state, st, regimen, spec.offset, spec.offset + grid, not shared,
                      len(names))
        yield ArmCourses({k: obs[:, j, :] for j, k in enumerate(names)}, st == 0, steps.copy())

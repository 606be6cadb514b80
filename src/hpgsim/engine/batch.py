"""``simulate_batch``: many subjects on one regimen in one compiled, parallel call.

Each subject is advanced by its own adaptive Dormand-Prince solve (its own steps, its own error
control), subjects spread over the CPU cores with numba's ``prange``; the drug exposure is
computed once, since PK parameters do not vary between subjects. Only the requested observables
are kept, as one (subjects, times) array per observable: at an hourly grid two years of 10,000
subjects is 1.4 GB per observable, so cohorts usually want ``output_step=24`` or coarser.
Without numba (or with ``engine="scipy"``) the same result comes from a loop of scipy solves.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.pk import build_exposure
from hpgsim.errors import InputError, SolverError
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import Physiology
from hpgsim.regimen.model import Regimen
from hpgsim.simulation import SimulationOptions, output_times, resolve_engine, simulate
from hpgsim.subjects import Subject
from hpgsim.units import ANALYTES, analyte

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
SubjectSpec = Subject | Mapping[str, float] | tuple[Subject, Mapping[str, float]]
SCIPY_FAILED = 100  # status of a subject whose scipy solve raised SolverError


@dataclass(frozen=True)
class BatchResult:
    """Courses of a cohort on one regimen.

    ``times`` (h, shared); ``observables[name]``: (subjects, times) in the canonical unit of
    ``hpgsim.units.ANALYTES[name]``, NaN rows for failed subjects; ``baseline[name]``: (subjects,)
    drug-free steady state; ``status``: 0 where the solve succeeded, else a code explained in
    ``messages``; ``parameters``: (subjects, parameters) in ``parameter_names`` order.
    """

    times: FloatArray
    observables: dict[str, FloatArray]
    baseline: dict[str, FloatArray]
    status: IntArray
    messages: tuple[str, ...]
    parameters: FloatArray
    parameter_names: tuple[str, ...]
    regimen: Regimen
    engine: str

    @property
    def ok(self) -> NDArray[np.bool_]:
        """True for subjects whose course was solved."""
        return np.asarray(self.status == 0)

    def __len__(self) -> int:
        return int(self.status.shape[0])


def _parameters(spec: SubjectSpec, index: int) -> dict[str, float]:
    subject, overrides = (spec if isinstance(spec, tuple)
                          else (spec, {}) if isinstance(spec, Subject) else (Subject(), spec))
    params = subject_parameters(subject)
    for name, value in overrides.items():
        if name not in params:
            raise InputError(f"subjects[{index}].{name}", value, "unknown model parameter",
                             "see hpgsim.physiology tables for names")
        params[name] = float(value)
    return params


def simulate_batch(subjects: Sequence[SubjectSpec], regimen: Regimen,
                   options: SimulationOptions | None = None,
                   observables: Sequence[str] | None = None) -> BatchResult:
    """Simulate every subject on ``regimen``.

    ``subjects``: each a ``Subject`` (covariates), a mapping of parameter overrides on the
    typical man, or a ``(Subject, overrides)`` pair. ``options``: ``SimulationOptions`` (output
    grid, tolerances, engine). ``observables``: names or aliases to keep (default: all).
    A subject whose solve fails gets a status and NaN rows; the others are unaffected.
    """
    opts = options or SimulationOptions()
    names = ([analyte(n, "observables").name for n in observables] if observables is not None
             else list(ANALYTES))
    params = [_parameters(s, i) for i, s in enumerate(subjects)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dose warnings are simulate()'s to report, once
        boluses, pumps = regimen.boluses(), regimen.pumps()
    t_end = opts.t_end if opts.t_end is not None else regimen.end
    exposure = build_exposure(boluses, pumps, t_end)
    times = output_times(exposure.starts, t_end, opts.output_step)
    engine = resolve_engine(opts.engine)
    if engine == "numba":
        from hpgsim.engine.link import load
        from hpgsim.engine.run import pack_inputs, parameter_vector, status_message

        mod = load()
        order = list(mod.OBSERVABLE_NAMES)
        pv = np.array([parameter_vector(p, mod.PARAMETER_NAMES) for p in params]).reshape(
            len(params), len(mod.PARAMETER_NAMES))
        guesses = np.array([Physiology(p).reference_state() for p in params]).reshape(
            len(params), mod.N_STATES)
        n = len(params)
        obs = np.full((n, len(names), len(times)), np.nan)
        base = np.full((n, len(order)), np.nan)
        status = np.zeros(n, dtype=np.int64)
        t_fail = np.zeros(n)
        steps = np.zeros(n, dtype=np.int64)
        mod.solve_batch(pv, guesses, pack_inputs(exposure), float(t_end), times,
                        exposure.segment_of(times).astype(np.int64),
                        np.array([order.index(k) for k in names], dtype=np.int64),
                        float(opts.rtol), float(opts.atol), int(opts.max_steps),
                        obs, base, status, t_fail, steps)
        messages = tuple("" if s == 0 else f"t={t:.3f} h: {status_message(int(s), opts.max_steps)}"
                         for s, t in zip(status, t_fail, strict=True))
        return BatchResult(times, {k: obs[:, j, :] for j, k in enumerate(names)},
                           {k: base[:, order.index(k)] for k in ANALYTES if k in order}, status,
                           messages, pv, tuple(mod.PARAMETER_NAMES), regimen, engine)
    return _scipy_loop(params, regimen, replace(opts, engine="scipy"), names, times)


def _scipy_loop(params: list[dict[str, float]], regimen: Regimen, opts: SimulationOptions,
                names: list[str], times: FloatArray) -> BatchResult:
    """The batch as a loop of scipy solves (no numba)."""
    n = len(params)
    obs = np.full((n, len(names), len(times)), np.nan)
    base = {k: np.full(n, np.nan) for k in ANALYTES}
    status = np.zeros(n, dtype=np.int64)
    messages: list[str] = []
    pnames = tuple(params[0]) if params else ()
    for i, p in enumerate(params):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = simulate(Subject(), regimen, opts, parameters=p)
        except SolverError as err:
            status[i] = SCIPY_FAILED
            messages.append(str(err))
            continue
        messages.append("")
        for j, k in enumerate(names):
            obs[i, j, :] = r.observables[k]
        for k, v in r.baseline.items():
            base[k][i] = v
    pv = np.array([[p[k] for k in pnames] for p in params]).reshape(n, len(pnames))
    return BatchResult(times, {k: obs[:, j, :] for j, k in enumerate(names)}, base, status,
                       tuple(messages), pv, pnames, regimen, "scipy")

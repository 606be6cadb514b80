"""``simulate(subject, regimen, options) -> Result``: solver orchestration.

The drug exposure is exact (``hpgsim.drugs.pk``); the physiology ODE is integrated segment by
segment, restarting at every dose time and pump start/stop so that no jump in drug input is ever
stepped over. Two engines give the same course on the same output grid:

- ``"numba"``: the model generated from its sympy trace and compiled with numba, integrated by
  an adaptive Dormand-Prince 5(4) method with drug input evaluated inside the kernel
  (:mod:`hpgsim.engine`); tens of milliseconds for two years. Needs the ``fast`` extra.
- ``"scipy"``: the numpy right-hand side with LSODA (scipy ``odeint``); about 100x slower, no
  extra dependency, and robust if the model ever becomes stiff.

``"auto"`` (the default) uses numba when it is importable and falls back to scipy, with a warning
in ``Result.warnings``, if the compiled solver fails. A solver failure raises ``SolverError``: a
curve is either trustworthy to the requested tolerance or not returned.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import odeint

from hpgsim.drugs.catalog import default_catalog
from hpgsim.drugs.pk import Exposure, build_exposure
from hpgsim.errors import InputError, SolverError
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import DRUG_INPUTS, NO_DRUG, STATE_NAMES, DrugLevels, Physiology
from hpgsim.physiology.steady import steady_state
from hpgsim.regimen.model import Regimen
from hpgsim.result import Result
from hpgsim.subjects import Subject

FloatArray = np.ndarray


ENGINES = ("auto", "numba", "scipy")


@dataclass(frozen=True)
class SimulationOptions:
    """Solver and output settings. Times in hours.

    ``engine``: ``"auto"``, ``"numba"`` or ``"scipy"`` (see the module docstring).
    ``max_steps``: most solver steps in one dosing interval before the solve is declared failed.
    """

    output_step: float = 1.0
    rtol: float = 1e-6
    atol: float = 1e-9
    t_end: float | None = None  # default: the regimen's span
    engine: str = "auto"
    max_steps: int = 50_000

    def __post_init__(self) -> None:
        if not self.output_step > 0.0:
            raise InputError("options.output_step", self.output_step, "must be positive",
                             "use e.g. 1 (hour)")
        if not 0.0 < self.rtol < 0.1:
            raise InputError("options.rtol", self.rtol, "out of range", "use a value in (0, 0.1)")
        if not self.atol > 0.0:
            raise InputError("options.atol", self.atol, "must be positive", "use e.g. 1e-9")
        if self.engine not in ENGINES:
            raise InputError("options.engine", self.engine, "unknown engine",
                             f"use one of {', '.join(ENGINES)}")
        if self.max_steps < 1:
            raise InputError("options.max_steps", self.max_steps, "must be positive",
                             "use e.g. 50000")


def resolve_engine(engine: str) -> str:
    """``"numba"`` or ``"scipy"``: the engine that ``engine`` (an ``ENGINES`` value) runs on."""
    from hpgsim.engine.link import numba_available

    if engine == "numba" and not numba_available():
        raise InputError("options.engine", engine, "numba or sympy is not installed",
                         "pip install 'hpgsim[fast]', or use engine='scipy'")
    if engine == "auto":
        return "numba" if numba_available() else "scipy"
    return engine


def output_times(starts: np.ndarray, t_end: float, step: float) -> np.ndarray:
    """The output grid (h): every ``step`` hours from 0, every segment start, and ``t_end``."""
    grid = np.arange(0.0, t_end + 1e-9, step)
    inner = np.union1d(grid[grid < t_end], starts[starts < t_end])
    return np.append(inner, t_end)


def drug_free_state(params: dict[str, float], engine: str = "auto") -> np.ndarray:
    """The drug-free steady state of a parameter set (the subject before time 0), by the
    compiled solver when ``engine`` resolves to numba, else by scipy."""
    if resolve_engine(engine) == "numba":
        from hpgsim.engine.run import steady_state as compiled_steady_state

        return compiled_steady_state(params)
    return steady_state(Physiology(params))


def _levels_at(exposure: Exposure, rows: list[int | None], seg: int, t: float) -> DrugLevels:
    amps = exposure.amplitudes[seg] * np.exp(exposure.rates * (t - exposure.starts[seg]))
    conc = exposure.weights @ amps
    return DrugLevels({name: float(conc[r]) for name, r in zip(DRUG_INPUTS, rows, strict=True)
                       if r is not None},
                      float(exposure.pump_rate[seg]), float(exposure.pump_dose[seg]))


def _integrate(model: Physiology, exposure: Exposure, y0: np.ndarray, t_end: float,
               options: SimulationOptions) -> tuple[np.ndarray, np.ndarray]:
    """LSODA segment by segment; returns the output grid and states (states, times)."""
    rows = [exposure.index(s) for s in DRUG_INPUTS]
    times = output_times(exposure.starts, t_end, options.output_step)
    bounds = np.append(exposure.starts[exposure.starts < t_end], t_end)
    times_out: list[np.ndarray] = []
    states_out: list[np.ndarray] = []
    y = y0
    for seg in range(len(bounds) - 1):
        a, b = float(bounds[seg]), float(bounds[seg + 1])
        inner = times[(times > a) & (times < b)]
        t_seg = np.concatenate(([a], inner, [b]))

        def func(yy: np.ndarray, t: float, seg: int = seg) -> Any:
            return model.rhs(yy, _levels_at(exposure, rows, seg, t))

        sol, info = odeint(func, y, t_seg, rtol=options.rtol, atol=options.atol,
                           full_output=True, mxstep=options.max_steps)
        if info["message"] != "Integration successful." or not np.all(np.isfinite(sol)):
            raise SolverError(f"ODE solver failed between t={a:.3f} h and t={b:.3f} h: "
                              f"{info['message']}")
        times_out.append(t_seg[:-1])
        states_out.append(sol[:-1])
        y = sol[-1]
    times_out.append(np.array([t_end]))
    states_out.append(y[None, :])
    return np.concatenate(times_out), np.concatenate(states_out).T


def _drug_levels(exposure: Exposure, times: np.ndarray) -> tuple[DrugLevels, dict[str, np.ndarray]]:
    conc = exposure.concentrations(times)
    by_species = {s: conc[i] for i, s in enumerate(exposure.species)}
    seg = exposure.segment_of(times)
    return (DrugLevels(by_species, exposure.pump_rate[seg], exposure.pump_dose[seg]), by_species)


def simulate(subject: Subject | None, regimen: Regimen,
             options: SimulationOptions | None = None,
             parameters: dict[str, float] | None = None) -> Result:
    """Simulate ``subject`` on ``regimen``; every observable in clinical units.

    ``parameters`` overrides model parameters by name (calibration, variability); unknown
    names are refused.
    """
    subject = subject or Subject()
    options = options or SimulationOptions()
    params = subject_parameters(subject)
    for name, value in (parameters or {}).items():
        if name not in params:
            raise InputError(f"parameters.{name}", value, "unknown model parameter",
                             "see `hpgsim params` or hpgsim.physiology tables for names")
        params[name] = float(value)
    model = Physiology(params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        boluses = regimen.boluses()
        pumps = regimen.pumps()
        catalog = default_catalog()
        for b in boluses:
            catalog.drug(b.drug).product(b.route, b.formulation)
        for pump in pumps:
            catalog.drug(pump.drug).product(pump.route)
    t_end = options.t_end if options.t_end is not None else regimen.end
    exposure = build_exposure(boluses, pumps, t_end)
    notes: list[str] = []
    y0, times, states = None, None, None
    if resolve_engine(options.engine) == "numba":
        from hpgsim.engine.run import solve_single

        times = output_times(exposure.starts, t_end, options.output_step)
        try:
            y0, states = solve_single(params, exposure, t_end, times, options.rtol, options.atol,
                                      options.max_steps)
        except SolverError as err:
            if options.engine != "auto":
                raise
            notes.append(f"{err}; solved again with scipy LSODA")
    if y0 is None or states is None or times is None:
        y0 = steady_state(model)
        times, states = _integrate(model, exposure, y0, t_end, options)
    levels, by_species = _drug_levels(exposure, times)
    obs = {k: np.asarray(v, dtype=float) * np.ones_like(times)
           for k, v in model.observables(states, levels).items()}
    base = {k: float(v) for k, v in model.observables(y0, NO_DRUG).items()}
    units = {s: catalog.species[s].unit for s in by_species}
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Result(times=times, observables=obs, baseline=base, drugs=by_species, drug_units=units,
                  states=states, state_names=STATE_NAMES, subject=subject, regimen=regimen,
                  warnings=tuple(str(w.message) for w in caught) + tuple(notes))

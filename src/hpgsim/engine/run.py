"""From hpgsim objects to the arrays the compiled kernels take, and back.

Everything here is per run (a few array operations), never per step.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.pk import Exposure
from hpgsim.engine.kernels import NO_STEADY_STATE, NOT_FINITE, OK, STEP_TOO_SMALL, TOO_MANY_STEPS
from hpgsim.errors import SolverError
from hpgsim.physiology.model import DRUG_INPUTS, Physiology

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Inputs = tuple[FloatArray, FloatArray, FloatArray, IntArray, IntArray, FloatArray, FloatArray,
               FloatArray]


def status_message(code: int, max_steps: int) -> str:
    """What a kernel status code means, and what to do about it."""
    return {
        OK: "ok",
        TOO_MANY_STEPS: f"more than {max_steps} steps in one dosing interval (the problem may "
                        "have become stiff: use SimulationOptions(engine='scipy'))",
        STEP_TOO_SMALL: "step size fell below the time resolution",
        NOT_FINITE: "the solution left the model's domain (non-finite values); check parameters",
        NO_STEADY_STATE: "could not find the subject's drug-free steady state; check the "
                         "subject's covariates and parameter overrides",
    }.get(code, f"unknown status {code}")


def pack_inputs(exposure: Exposure) -> Inputs:
    """The exposure as kernel arrays (see ``kernels.Inputs``); species the physiology does not
    read are left out."""
    rows: list[int] = []
    modes: list[int] = []
    values: list[float] = []
    for s, species in enumerate(exposure.species):
        if species not in DRUG_INPUTS:
            continue
        for m in np.flatnonzero(exposure.weights[s]):
            rows.append(DRUG_INPUTS.index(species))
            modes.append(int(m))
            values.append(float(exposure.weights[s, m]))
    n_seg = len(exposure.starts)
    amps = np.ascontiguousarray(exposure.amplitudes, dtype=np.float64).reshape(n_seg, -1)
    return (np.ascontiguousarray(exposure.starts, dtype=np.float64), amps,
            np.ascontiguousarray(exposure.rates, dtype=np.float64),
            np.asarray(rows, dtype=np.int64), np.asarray(modes, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            np.ascontiguousarray(exposure.pump_rate, dtype=np.float64),
            np.ascontiguousarray(exposure.pump_dose, dtype=np.float64))


def parameter_vector(params: Mapping[str, float], names: tuple[str, ...]) -> FloatArray:
    """``params`` in the engine's parameter order (every name must be present)."""
    return np.array([params[n] for n in names], dtype=np.float64)


def solve_single(params: Mapping[str, float], exposure: Exposure, t_end: float,
                 times: FloatArray, rtol: float, atol: float,
                 max_steps: int) -> tuple[FloatArray, FloatArray]:
    """Steady state and course of one subject with the compiled engine.

    Returns (steady state, states of shape (states, len(times))). Raises SolverError.
    """
    from hpgsim.engine.link import load

    engine = load()
    y = np.array(Physiology(params).reference_state(), dtype=np.float64)
    states = np.empty((len(times), engine.N_STATES))
    status, t_fail, _ = engine.solve_one(parameter_vector(params, engine.PARAMETER_NAMES), y,
                                         pack_inputs(exposure), float(t_end),
                                         np.ascontiguousarray(times, dtype=np.float64),
                                         float(rtol), float(atol), int(max_steps), states)
    if status != OK:
        raise SolverError(f"compiled ODE solver failed at t={t_fail:.3f} h: "
                          f"{status_message(status, max_steps)}")
    return y, states.T


def steady_state(params: Mapping[str, float]) -> FloatArray:
    """The drug-free steady state of ``params`` by the compiled solver. Raises SolverError."""
    from hpgsim.engine.link import load

    engine = load()
    p = parameter_vector(params, engine.PARAMETER_NAMES)
    q = np.empty(engine.N_DERIVED)
    engine.derived(p, q)
    y = np.array(Physiology(params).reference_state(), dtype=np.float64)
    status = engine.steady_state(y, p, q, 200)
    if status != OK:
        raise SolverError(f"compiled solver: {status_message(status, 0)}")
    return y

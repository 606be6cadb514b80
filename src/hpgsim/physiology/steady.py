"""The drug-free steady state of a parameter set (the subject before time 0)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import odeint
from scipy.optimize import root

from hpgsim.errors import SolverError
from hpgsim.physiology.model import NO_DRUG, Physiology

SETTLE_HOURS = 40.0 * 8766.0  # 40 years: longer than the slowest capacity/damage state


def steady_state(model: Physiology, guess: np.ndarray | None = None) -> np.ndarray:
    """Newton from ``guess`` (default: the reference state); if that fails or lands on an
    unstable equilibrium (the axis would never rest there), settle by integrating 40 years
    without drugs, then polish. Raises SolverError if no root is found."""
    y0 = model.reference_state() if guess is None else guess

    def f(y: np.ndarray) -> np.ndarray:
        return np.asarray(model.rhs(y, NO_DRUG), dtype=float)

    if np.max(np.abs(f(y0))) < 1e-12:
        return y0
    sol = root(f, y0, method="hybr", tol=1e-13)
    if not (sol.success and np.all(sol.x > -1e-12) and np.max(np.abs(f(sol.x))) < 1e-10
            and _stable(f, sol.x)):
        settle = odeint(lambda y, _t: f(y), y0, [0.0, SETTLE_HOURS], rtol=1e-8, atol=1e-10,
                        mxstep=500_000)[-1]
        sol = root(f, settle, method="hybr", tol=1e-13)
        if not sol.success:
            sol.x = settle
    y = np.where(np.abs(sol.x) < 1e-15, 0.0, sol.x)
    residual = float(np.max(np.abs(f(y))))
    if residual > 1e-8 or np.any(y < -1e-12):
        raise SolverError("could not find the subject's drug-free steady state "
                          f"(residual {residual:.2e}); check the subject's covariates")
    return np.asarray(np.maximum(y, 0.0), dtype=float)


def _stable(f: Callable[[np.ndarray], np.ndarray], y: np.ndarray) -> bool:
    """True when every eigenvalue of the finite-difference Jacobian at ``y`` has a negative
    real part (up to round-off)."""
    n = len(y)
    jac = np.empty((n, n))
    f0 = f(y)
    for j in range(n):
        h = 1e-7 * max(abs(y[j]), 1e-3)
        yp = y.copy()
        yp[j] += h
        jac[:, j] = (f(yp) - f0) / h
    return bool(np.max(np.linalg.eigvals(jac).real) < 1e-9)

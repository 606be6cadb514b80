"""The compiled Dormand-Prince integrator and steady-state solver on problems with exact answers.

The kernels are linked with small hand-written models of the same interface as the generated
physiology (``hpgsim/engine/model_api.pyi``), so order, dense output, segment restarts with drug
input, failure codes and the steady-state solver are checked against closed forms.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("numba")

from hpgsim.engine import kernels
from hpgsim.engine.link import compile_model

OSCILLATOR = '''
N_STATES = 2
N_PARAMS = 1
N_DERIVED = 1
N_DRUGS = 1
N_OBSERVABLES = 1
STATE_NAMES = ("x", "v")
PARAMETER_NAMES = ("omega",)
OBSERVABLE_NAMES = ("x",)


def derived(p, q):
    q[0] = p[0] * p[0]


def rhs(y, p, q, c, pump_rate, pump_dose, dy):
    dy[0] = y[1]
    dy[1] = -q[0] * y[0]


def observables(y, p, q, c, pump_rate, pump_dose, out):
    out[0] = y[0]
'''

# dy/dt = -a y + c(t) + pump_rate * pump_dose: a linear response to the drug input
RESPONSE = '''
N_STATES = 1
N_PARAMS = 1
N_DERIVED = 1
N_DRUGS = 1
N_OBSERVABLES = 1
STATE_NAMES = ("y",)
PARAMETER_NAMES = ("a",)
OBSERVABLE_NAMES = ("y",)


def derived(p, q):
    q[0] = p[0]


def rhs(y, p, q, c, pump_rate, pump_dose, dy):
    dy[0] = -q[0] * y[0] + c[0] + pump_rate * pump_dose


def observables(y, p, q, c, pump_rate, pump_dose, out):
    out[0] = y[0]
'''

# dy/dt = y (1 - y)(y - 0.3): stable equilibria 0 and 1, unstable 0.3; rate p[0] scales it
BISTABLE = RESPONSE.replace("dy[0] = -q[0] * y[0] + c[0] + pump_rate * pump_dose",
                            "dy[0] = q[0] * y[0] * (1.0 - y[0]) * (y[0] - 0.3)")


@pytest.fixture(scope="module")
def oscillator() -> ModuleType:
    return compile_model(OSCILLATOR)


@pytest.fixture(scope="module")
def response() -> ModuleType:
    return compile_model(RESPONSE)


def _no_drug(n_seg: int = 1) -> kernels.Inputs:
    return (np.zeros(n_seg), np.zeros((n_seg, 0)), np.zeros(0), np.zeros(0, np.int64),
            np.zeros(0, np.int64), np.zeros(0), np.zeros(n_seg), np.zeros(n_seg))


def _fixed_steps(mod: ModuleType, y0: np.ndarray, p: np.ndarray, t_end: float,
                 n: int) -> tuple[np.ndarray, float]:
    """Fixed-step integration; returns the end state and the dense-output value at the middle
    of the last step (first state), to measure the order of each."""
    q = np.empty(1)
    mod.derived(p, q)
    inputs = _no_drug()
    c = np.zeros(1)
    k = np.empty((7, y0.size))
    work, y_new, err = np.empty(y0.size), np.empty(y0.size), np.empty(y0.size)
    r, mid = np.empty((5, y0.size)), np.empty(y0.size)
    y, h = y0.copy(), t_end / n
    mod.f(0.0, y, p, q, 0, inputs, c, k[0])
    for i in range(n):
        t = i * h
        mod.dopri_step(t, h, t + h, y, p, q, 0, inputs, c, k, work, y_new, err)
        mod.dense_coefficients(h, y, y_new, k, r)
        mod.dense_value(r, 0.5, mid)
        y[:] = y_new
        k[0] = k[6]
    return y, float(mid[0])


def test_fifth_order_convergence_and_fourth_order_dense_output(oscillator: ModuleType) -> None:
    p, y0, t_end = np.array([2.0]), np.array([1.0, 0.0]), 3.0
    errors, dense_errors = [], []
    for n in (20, 40, 80):
        y, mid = _fixed_steps(oscillator, y0, p, t_end, n)
        errors.append(abs(y[0] - np.cos(2.0 * t_end)))
        dense_errors.append(abs(mid - np.cos(2.0 * (t_end - 0.5 * t_end / n))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    dense_orders = np.log2(np.array(dense_errors[:-1]) / np.array(dense_errors[1:]))
    assert np.all((orders > 4.7) & (orders < 5.5)), orders
    assert np.all(dense_orders > 3.7), dense_orders


def test_error_estimate_is_of_fifth_order_locally(oscillator: ModuleType) -> None:
    p, q = np.array([1.0]), np.array([1.0])
    inputs, c = _no_drug(), np.zeros(1)
    est = []
    for h in (0.2, 0.1):
        y = np.array([1.0, 0.0])
        k = np.empty((7, 2))
        work, y_new, err = np.empty(2), np.empty(2), np.empty(2)
        oscillator.f(0.0, y, p, q, 0, inputs, c, k[0])
        oscillator.dopri_step(0.0, h, h, y, p, q, 0, inputs, c, k, work, y_new, err)
        est.append(float(np.max(np.abs(err))))
    assert 4.5 < np.log2(est[0] / est[1]) < 5.5


def _exact_response(a: float, y0: float, starts: np.ndarray, amps: np.ndarray,
                    rates: np.ndarray, weight: np.ndarray, t_end: float,
                    times: np.ndarray) -> np.ndarray:
    """Closed form of dy/dt = -a y + sum_m w_m A_m exp(r_m (t - s)) on each segment."""
    bounds = np.append(starts, t_end)
    out = np.empty(times.size)
    y = y0

    def value(seg: int, dt: float, y_start: float) -> float:
        terms = weight * amps[seg] / (rates + a) * (np.exp(rates * dt) - np.exp(-a * dt))
        return float(y_start * np.exp(-a * dt) + terms.sum())

    for seg in range(starts.size):
        a_t, b_t = bounds[seg], bounds[seg + 1]
        inside = (times >= a_t) & ((times < b_t) | ((seg == starts.size - 1) & (times <= b_t)))
        for i in np.flatnonzero(inside):
            out[i] = value(seg, times[i] - a_t, y)
        y = value(seg, b_t - a_t, y)
    return out


def test_adaptive_solve_with_restarts_matches_the_closed_form(response: ModuleType) -> None:
    a = 0.3
    starts = np.array([0.0, 5.0, 12.5, 30.0])
    rates = np.array([-0.1, -2.0, -0.02])
    kicks = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0], [3.0, -3.0, 0.0], [0.0, 0.0, 0.5]])
    amps = np.zeros_like(kicks)
    for s in range(starts.size):  # carry the modal amplitudes across segments, as pk.py does
        carried = amps[s - 1] * np.exp(rates * (starts[s] - starts[s - 1])) if s else 0.0
        amps[s] = carried + kicks[s]
    weight = np.array([1.0, 1.0, 0.7])
    inputs = (starts, amps, rates, np.zeros(3, np.int64), np.arange(3, dtype=np.int64), weight,
              np.zeros(4), np.zeros(4))
    t_end = 48.0
    times = np.unique(np.concatenate([np.arange(0.0, t_end + 1e-9, 0.7), starts, [t_end]]))
    states = np.empty((times.size, 1))
    q = np.array([a])
    status, t_stop, steps = response.integrate(np.array([2.0]), np.array([a]), q, inputs, 0.0,
                                               t_end, times, 1e-10, 1e-13, 10_000, states)
    assert (status, t_stop) == (kernels.OK, t_end)
    assert steps > 0
    exact = _exact_response(a, 2.0, starts, amps, rates, weight, t_end, times)
    np.testing.assert_allclose(states[:, 0], exact, rtol=1e-8, atol=1e-11)
    # restarted mid-segment from the exact state at t0, it continues the same course
    t0 = 0.5 * (starts[1] + starts[2])
    later = times[times > t0]
    rest = np.empty((later.size + 1, 1))
    y0 = _exact_response(a, 2.0, starts, amps, rates, weight, t_end, np.array([t0]))
    status, _, _ = response.integrate(y0, np.array([a]), q, inputs, t0, t_end,
                                      np.concatenate(([t0], later)), 1e-10, 1e-13, 10_000, rest)
    assert status == kernels.OK
    np.testing.assert_allclose(rest[1:, 0], exact[times > t0], rtol=1e-8, atol=1e-11)


def test_pump_input_is_read_per_segment(response: ModuleType) -> None:
    inputs = (np.array([0.0, 10.0]), np.zeros((2, 0)), np.zeros(0), np.zeros(0, np.int64),
              np.zeros(0, np.int64), np.zeros(0), np.array([0.0, 0.5]), np.array([0.0, 4.0]))
    times = np.array([0.0, 10.0, 20.0])
    states = np.empty((3, 1))
    a = 0.2
    status, _, _ = response.integrate(np.array([0.0]), np.array([a]), np.array([a]), inputs, 0.0,
                                      20.0, times, 1e-10, 1e-13, 10_000, states)
    assert status == kernels.OK
    assert states[1, 0] == 0.0
    assert states[2, 0] == pytest.approx(2.0 / a * (1.0 - np.exp(-a * 10.0)), rel=1e-8)


def test_step_budget_and_domain_errors_come_back_as_status(response: ModuleType) -> None:
    states = np.empty((2, 1))
    times = np.array([0.0, 100.0])
    status, t_fail, _ = response.integrate(np.array([1.0]), np.array([5.0]), np.array([5.0]),
                                           _no_drug(), 0.0, 100.0, times, 1e-12, 1e-14, 3, states)
    assert status == kernels.TOO_MANY_STEPS
    assert 0.0 <= t_fail < 100.0
    status, _, _ = response.integrate(np.array([np.nan]), np.array([1.0]), np.array([1.0]),
                                      _no_drug(), 0.0, 100.0, times, 1e-6, 1e-9, 1000, states)
    assert status == kernels.NOT_FINITE


def test_steady_state_follows_the_dynamics_to_a_stable_equilibrium() -> None:
    mod = compile_model(BISTABLE)
    p = np.array([1.0])
    q = np.array([1.0])
    # Newton's method from 0.32 converges to the unstable root 0.3; the dynamics leave it for 1
    y = np.array([0.32])
    assert mod.steady_state(y, p, q, 200) == kernels.OK
    assert y[0] == pytest.approx(1.0, abs=1e-12)
    y = np.array([0.28])
    assert mod.steady_state(y, p, q, 200) == kernels.OK
    assert y[0] == pytest.approx(0.0, abs=1e-12)
    y = np.array([np.nan])
    assert mod.steady_state(y, p, q, 200) == kernels.NOT_FINITE


def test_linear_solver_pivots_and_gives_the_sign_of_the_determinant(response: ModuleType) -> None:
    rng = np.random.default_rng(0)
    b = np.array([1.0, 2.0, 3.0])
    for a in [np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]]),
              *rng.normal(size=(20, 3, 3))]:
        x = b.copy()
        assert response.lu_solve(a.copy(), x) == np.sign(np.linalg.det(a))
        np.testing.assert_allclose(a @ x, b, rtol=1e-9)
    assert response.lu_solve(np.ones((3, 3)), b.copy()) == 0


def test_old_engines_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    from hpgsim.engine import link

    (tmp_path / "__pycache__").mkdir()
    old, new = tmp_path / "hpgsim_engine_old.py", tmp_path / "hpgsim_engine_new.py"
    for path in (old, new, tmp_path / "__pycache__" / "hpgsim_engine_old.rhs-1.py311.nbi"):
        path.write_text("")
    month_ago = time.time() - 31 * 86400.0
    os.utime(old, (month_ago, month_ago))
    link._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*.py*")) == ["hpgsim_engine_new.py"]

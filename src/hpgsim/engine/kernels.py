"""Compiled kernels: drug input, Dormand-Prince 5(4) integration, steady state, drivers.

This file is a template, not used on its own: :mod:`hpgsim.engine.link` appends it to the model
source generated from the sympy trace (``derived``, ``rhs``, ``observables`` and the ``N_*``
constants; see ``model_api.pyi``) and compiles every function with numba, so the cached machine
code of a kernel always belongs to the exact model it calls. Plain Python on floats and arrays,
no Python objects per step. Time in hours.

Integrator: the explicit Runge-Kutta pair of Dormand & Prince (J Comput Appl Math 1980;6:19),
with the error norm, PI step-size control, initial-step heuristic and 4th-order dense output of
``DOPRI5`` (Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed. 1993, II.4-II.6 and its Fortran
code). The physiology is not stiff for an explicit method: its fastest mode is about -1.5/h
(receptor desensitisation under agonist, see the engine tests), so steps of hours are stable.
The integration restarts at every segment start (dose time, pump start/stop): drug input is the
exact piecewise sum of exponentials of :class:`hpgsim.drugs.pk.Exposure`, smooth within a
segment.

Drug-free steady state: pseudo-transient continuation (Kelley & Keyes, SIAM J Numer Anal
1998;35:508) with a forward-difference Jacobian, which converges to the equilibrium that the
drug-free dynamics settle to.
"""

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from hpgsim.engine.model_api import (
        N_DERIVED,
        N_DRUGS,
        N_OBSERVABLES,
        N_STATES,
        derived,
        observables,
        prange,
        rhs,
    )

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Drug input of a regimen, shared by every subject: segment starts (h), modal amplitudes
# (segment, mode), modal rates (1/h), sparse weights (row in DRUG_INPUTS, mode, concentration per
# unit amplitude), pump pulses per hour and ug per pulse (per segment).
Inputs = tuple[FloatArray, FloatArray, FloatArray, IntArray, IntArray, FloatArray, FloatArray,
               FloatArray]

OK = 0
TOO_MANY_STEPS = 1
STEP_TOO_SMALL = 2
NOT_FINITE = 3
NO_STEADY_STATE = 4

# Dormand-Prince 5(4) tableau
C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63, A64, A65 = (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0,
                           -5103.0 / 18656.0)
A71, A73, A74, A75, A76 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
# error estimate: 5th- minus 4th-order solution
E1, E3, E4, E5, E6, E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                          22.0 / 525.0, -1.0 / 40.0)
# dense output (Shampine 1986, as in DOPRI5)
D1, D3, D4, D5, D6, D7 = (-12715105075.0 / 11282082432.0, 87487479700.0 / 32700410799.0,
                          -10690763975.0 / 1880347072.0, 701980252875.0 / 199316789632.0,
                          -1453857185.0 / 822651844.0, 69997945.0 / 29380423.0)
STEADY_FLOOR = 1e-2  # steady-state search: state size below which changes count as absolute
# step-size control (DOPRI5 defaults): safety, bounds on h_new/h, PI (Lund) stabilisation
SAFE, FAC_MIN, FAC_MAX, BETA = 0.9, 0.2, 10.0, 0.04
EXPO1 = 0.2 - 0.75 * BETA


def drug_levels(t: float, seg: int, inputs: Inputs, c: FloatArray) -> None:
    """Drug concentrations at time ``t`` (h) in segment ``seg`` into ``c`` (catalog units)."""
    starts, amps, rates = inputs[0], inputs[1], inputs[2]
    w_row, w_mode, w_val = inputs[3], inputs[4], inputs[5]
    c[:] = 0.0
    dt = t - starts[seg]
    for k in range(w_val.shape[0]):
        m = w_mode[k]
        a = amps[seg, m]
        if a != 0.0:
            c[w_row[k]] += w_val[k] * a * math.exp(rates[m] * dt)


def f(t: float, y: FloatArray, p: FloatArray, q: FloatArray, seg: int, inputs: Inputs,
      c: FloatArray, dy: FloatArray) -> None:
    """The model's right-hand side at ``t`` with the drug input of segment ``seg``."""
    drug_levels(t, seg, inputs, c)
    rhs(y, p, q, c, inputs[6][seg], inputs[7][seg], dy)


def error_norm(e: FloatArray, y: FloatArray, y_new: FloatArray, rtol: float, atol: float) -> float:
    """RMS of ``e`` scaled by atol + rtol * max(|y|, |y_new|)."""
    s = 0.0
    for i in range(e.shape[0]):
        sk = atol + rtol * max(abs(y[i]), abs(y_new[i]))
        s += (e[i] / sk) ** 2
    return math.sqrt(s / e.shape[0])


def initial_step(t: float, y: FloatArray, f0: FloatArray, h_max: float, p: FloatArray,
                 q: FloatArray, seg: int, inputs: Inputs, rtol: float, atol: float,
                 c: FloatArray, y1: FloatArray, f1: FloatArray) -> float:
    """First step of a segment (h), DOPRI5's heuristic for a 5th-order method."""
    n = y.shape[0]
    dnf = 0.0
    dny = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        dnf += (f0[i] / sk) ** 2
        dny += (y[i] / sk) ** 2
    h = 1e-6 if dnf <= 1e-10 or dny <= 1e-10 else 0.01 * math.sqrt(dny / dnf)
    h = min(h, h_max)
    for i in range(n):
        y1[i] = y[i] + h * f0[i]
    f(t + h, y1, p, q, seg, inputs, c, f1)
    der2 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        der2 += ((f1[i] - f0[i]) / sk) ** 2
    der12 = max(math.sqrt(der2) / h, math.sqrt(dnf))
    h1 = max(1e-6, h * 1e-3) if der12 <= 1e-15 else (0.01 / der12) ** 0.2
    return min(100.0 * h, h1, h_max)


def dopri_step(t: float, h: float, t_new: float, y: FloatArray, p: FloatArray, q: FloatArray,
               seg: int, inputs: Inputs, c: FloatArray, k: FloatArray, work: FloatArray,
               y_new: FloatArray, err: FloatArray) -> None:
    """One Dormand-Prince step from (t, y) with ``k[0] = f(t, y)``: stages into ``k[1:7]``
    (``k[6] = f(t_new, y_new)``, first same as last), the 5th-order solution into ``y_new`` and
    the error estimate (5th minus 4th order) into ``err``. ``t_new`` is ``t + h``, given so that
    a step ending on a segment boundary lands on it exactly."""
    n = y.shape[0]
    for i in range(n):
        work[i] = y[i] + h * A21 * k[0, i]
    f(t + C2 * h, work, p, q, seg, inputs, c, k[1])
    for i in range(n):
        work[i] = y[i] + h * (A31 * k[0, i] + A32 * k[1, i])
    f(t + C3 * h, work, p, q, seg, inputs, c, k[2])
    for i in range(n):
        work[i] = y[i] + h * (A41 * k[0, i] + A42 * k[1, i] + A43 * k[2, i])
    f(t + C4 * h, work, p, q, seg, inputs, c, k[3])
    for i in range(n):
        work[i] = y[i] + h * (A51 * k[0, i] + A52 * k[1, i] + A53 * k[2, i] + A54 * k[3, i])
    f(t + C5 * h, work, p, q, seg, inputs, c, k[4])
    for i in range(n):
        work[i] = y[i] + h * (A61 * k[0, i] + A62 * k[1, i] + A63 * k[2, i] + A64 * k[3, i]
                              + A65 * k[4, i])
    f(t_new, work, p, q, seg, inputs, c, k[5])
    for i in range(n):
        y_new[i] = y[i] + h * (A71 * k[0, i] + A73 * k[2, i] + A74 * k[3, i] + A75 * k[4, i]
                               + A76 * k[5, i])
    f(t_new, y_new, p, q, seg, inputs, c, k[6])
    for i in range(n):
        err[i] = h * (E1 * k[0, i] + E3 * k[2, i] + E4 * k[3, i] + E5 * k[4, i] + E6 * k[5, i]
                      + E7 * k[6, i])


def dense_coefficients(h: float, y: FloatArray, y_new: FloatArray, k: FloatArray,
                       r: FloatArray) -> None:
    """Coefficients of the 4th-order continuous extension of the step from y to y_new."""
    for i in range(y.shape[0]):
        dy = y_new[i] - y[i]
        bspl = h * k[0, i] - dy
        r[0, i] = y[i]
        r[1, i] = dy
        r[2, i] = bspl
        r[3, i] = dy - h * k[6, i] - bspl
        r[4, i] = h * (D1 * k[0, i] + D3 * k[2, i] + D4 * k[3, i] + D5 * k[4, i] + D6 * k[5, i]
                       + D7 * k[6, i])


def dense_value(r: FloatArray, theta: float, out: FloatArray) -> None:
    """The state at fraction ``theta`` (0..1) of the step whose coefficients are ``r``."""
    th1 = 1.0 - theta
    for i in range(out.shape[0]):
        out[i] = r[0, i] + theta * (r[1, i] + th1 * (r[2, i] + theta * (r[3, i] + th1 * r[4, i])))


def integrate(y0: FloatArray, p: FloatArray, q: FloatArray, inputs: Inputs, t0: float,
              t_end: float, out_t: FloatArray, rtol: float, atol: float, max_steps: int,
              states: FloatArray) -> tuple[int, float, int]:
    """Integrate from ``y0`` at ``t0`` to ``t_end``, restarting at every segment start.

    ``states[k]`` receives the state at ``out_t[k]`` (sorted, none before ``t0``; ``t0``,
    segment starts and ``t_end`` are written exactly, other times by dense output).
    ``max_steps`` bounds the steps per segment. Returns (status, time of failure or t_end,
    accepted steps).
    """
    n = y0.shape[0]
    starts = inputs[0]
    n_seg = starts.shape[0]
    n_out = out_t.shape[0]
    y = y0.copy()
    y_new = np.empty(n)
    work = np.empty(n)
    err_vec = np.empty(n)
    c = np.empty(N_DRUGS)
    k = np.empty((7, n))
    r = np.empty((5, n))
    out = 0
    total = 0
    for seg in range(n_seg):
        a = max(starts[seg], t0)
        b = starts[seg + 1] if seg + 1 < n_seg else t_end
        while out < n_out and out_t[out] <= a:
            states[out, :] = y
            out += 1
        if b <= a:
            continue
        t = a
        f(t, y, p, q, seg, inputs, c, k[0])
        if not (math.isfinite(max_abs(y)) and math.isfinite(max_abs(k[0]))):
            return NOT_FINITE, t, total
        h = initial_step(t, y, k[0], b - a, p, q, seg, inputs, rtol, atol, c, work, k[1])
        fac_old = 1e-4
        rejected = False
        not_finite = False
        steps = 0
        while t < b:
            if steps >= max_steps:
                return TOO_MANY_STEPS, t, total
            last = t + 1.01 * h >= b
            if last:
                h = b - t
            if h <= 1e-12 * max(abs(t), 1.0):
                return (NOT_FINITE if not_finite else STEP_TOO_SMALL), t, total
            steps += 1
            t_new = b if last else t + h
            dopri_step(t, h, t_new, y, p, q, seg, inputs, c, k, work, y_new, err_vec)
            err = error_norm(err_vec, y, y_new, rtol, atol)
            not_finite = not math.isfinite(err)
            if not_finite:
                # a trial state left the model's domain: retry with a much smaller step
                h *= 0.1
                rejected = True
                continue
            fac11 = err**EXPO1
            if err <= 1.0:
                if out < n_out and out_t[out] <= t_new and out_t[out] < b:
                    dense_coefficients(h, y, y_new, k, r)
                    while out < n_out and out_t[out] <= t_new and out_t[out] < b:
                        dense_value(r, (out_t[out] - t) / h, states[out])
                        out += 1
                fac = min(1.0 / FAC_MIN, max(1.0 / FAC_MAX, fac11 / fac_old**BETA / SAFE))
                fac_old = max(err, 1e-4)
                h_new = h / fac
                if rejected:
                    h_new = min(h_new, h)
                rejected = False
                y[:] = y_new
                k[0, :] = k[6]
                t = t_new
                total += 1
                h = h_new
            else:
                h = h / min(1.0 / FAC_MIN, fac11 / SAFE)
                rejected = True
    while out < n_out:
        states[out, :] = y
        out += 1
    return OK, t_end, total


def lu_solve(a: FloatArray, b: FloatArray) -> int:
    """Solve ``a x = b`` in place (x in ``b``; ``a`` overwritten) by Gaussian elimination with
    partial pivoting. Returns the sign of det(a) (+1 or -1), or 0 if ``a`` is singular."""
    n = b.shape[0]
    sign = 1
    for col in range(n):
        piv = col
        for row in range(col + 1, n):
            if abs(a[row, col]) > abs(a[piv, col]):
                piv = row
        if a[piv, col] == 0.0 or not math.isfinite(a[piv, col]):
            return 0
        if piv != col:
            sign = -sign
            for j in range(n):
                a[col, j], a[piv, j] = a[piv, j], a[col, j]
            b[col], b[piv] = b[piv], b[col]
        if a[col, col] < 0.0:
            sign = -sign
        for row in range(col + 1, n):
            m = a[row, col] / a[col, col]
            if m != 0.0:
                for j in range(col, n):
                    a[row, j] -= m * a[col, j]
                b[row] -= m * b[col]
    for row in range(n - 1, -1, -1):
        s = b[row]
        for j in range(row + 1, n):
            s -= a[row, j] * b[j]
        b[row] = s / a[row, row]
    return sign


def max_abs(x: FloatArray) -> float:
    """max |x_i| (NaN if any element is not finite)."""
    m = 0.0
    for i in range(x.shape[0]):
        if not math.isfinite(x[i]):
            return math.nan
        m = max(m, abs(x[i]))
    return m


def steady_state(y: FloatArray, p: FloatArray, q: FloatArray, max_iter: int) -> int:
    """Drug-free steady state from the guess ``y`` (overwritten); returns a status code.

    Pseudo-transient continuation: linearly implicit Euler steps ``(I/h - J) dy = f`` whose
    pseudo-time step h starts at 1 h and grows 4-fold per accepted step, then Newton's method
    (h = 1e12 h) once max |dy/dt| < 1e-10. A step is refused, and h cut 4-fold, when it leaves
    the model's domain, when it changes a state by more than its own size (states below
    ``STEADY_FLOOR`` count as that size), or when det(I/h - J) < 0: then a real eigenvalue of J
    exceeds 1/h, and such a step would be drawn towards an unstable equilibrium instead of away
    from it, as the drug-free dynamics are. So this finds the equilibrium that a long drug-free
    integration settles to (Newton's method alone can land on an unstable one). Accepts when
    max |dy/dt| <= 1e-8 (state units per hour) and no state is below -1e-12, as the scipy path
    does; tiny negative values are set to 0.
    """
    n = y.shape[0]
    c = np.zeros(N_DRUGS)
    fy = np.empty(n)
    f_new = np.empty(n)
    y_new = np.empty(n)
    jac = np.empty((n, n))
    step = np.empty(n)
    rhs(y, p, q, c, 0.0, 0.0, fy)
    res = max_abs(fy)
    if not math.isfinite(res):
        return NOT_FINITE
    if res <= 1e-13:
        return OK
    h = 1.0
    res_new = res
    for _ in range(max_iter):
        for j in range(n):
            dj = 1.5e-8 * max(abs(y[j]), 1e-3)
            y_new[:] = y
            y_new[j] += dj
            rhs(y_new, p, q, c, 0.0, 0.0, f_new)
            for i in range(n):
                jac[i, j] = -(f_new[i] - fy[i]) / dj
            jac[j, j] += 1.0 / h
        step[:] = fy
        ok = lu_solve(jac, step) > 0
        if ok:
            change = 0.0
            for i in range(n):
                y_new[i] = y[i] + step[i]
                change = max(change, abs(step[i]) / max(abs(y[i]), STEADY_FLOOR))
            rhs(y_new, p, q, c, 0.0, 0.0, f_new)
            res_new = max_abs(f_new)
            ok = math.isfinite(res_new) and change <= 1.0
        if not ok:
            h *= 0.25
            if h < 1e-6:
                return NO_STEADY_STATE
            continue
        y[:] = y_new
        fy[:] = f_new
        # Newton stalls at rounding level (~1e-13), or converges only linearly where a
        # capacity state sits on the kink between its fall and rise rates (the one-sided
        # Jacobian has the wrong slope there): keep stepping until rounding level
        stalled = res_new > 0.5 * res and res_new <= 1e-12
        res = res_new
        if h >= 1e12 and (res <= 1e-13 or stalled):
            break
        h = 1e12 if res < 1e-10 else min(4.0 * h, 1e12)
    if not res <= 1e-8:
        return NO_STEADY_STATE
    for i in range(n):
        if y[i] < -1e-12:
            return NO_STEADY_STATE
        y[i] = max(y[i], 0.0)
    return OK


def solve_one(p: FloatArray, y: FloatArray, inputs: Inputs, t_end: float, out_t: FloatArray,
              rtol: float, atol: float, max_steps: int,
              states: FloatArray) -> tuple[int, float, int]:
    """One subject: steady state from the guess ``y`` (overwritten), then the course into
    ``states``. Returns (status, time of failure or t_end, accepted steps)."""
    q = np.empty(N_DERIVED)
    derived(p, q)
    status = steady_state(y, p, q, 200)
    if status != OK:
        return status, 0.0, 0
    return integrate(y, p, q, inputs, 0.0, t_end, out_t, rtol, atol, max_steps, states)


def solve_batch(params: FloatArray, guesses: FloatArray, inputs: Inputs, t_end: float,
                out_t: FloatArray, out_seg: IntArray, selected: IntArray, rtol: float,
                atol: float, max_steps: int, obs: FloatArray, baseline: FloatArray,
                status: IntArray, t_fail: FloatArray, steps: IntArray) -> None:
    """Many subjects on one regimen, in parallel (numba ``prange``), each with its own steps.

    Subject ``i`` has parameters ``params[i]`` and steady-state guess ``guesses[i]``. Writes
    ``obs[i, j, k]`` (observable ``selected[j]`` at ``out_t[k]``, in segment ``out_seg[k]``),
    ``baseline[i]`` (every observable at the steady state), and per-subject status, failure
    time and accepted steps.
    """
    n_out = out_t.shape[0]
    for i in prange(params.shape[0]):
        p = params[i]
        y = guesses[i].copy()
        states = np.empty((n_out, N_STATES))
        st, tf, ns = solve_one(p, y, inputs, t_end, out_t, rtol, atol, max_steps, states)
        status[i] = st
        t_fail[i] = tf
        steps[i] = ns
        if st != OK:
            continue
        q = np.empty(N_DERIVED)
        derived(p, q)
        c = np.zeros(N_DRUGS)
        o = np.empty(N_OBSERVABLES)
        observables(y, p, q, c, 0.0, 0.0, o)
        baseline[i, :] = o
        select_observables(states, p, q, inputs, out_t, out_seg, selected, obs[i])


def select_observables(states: FloatArray, p: FloatArray, q: FloatArray, inputs: Inputs,
                       out_t: FloatArray, out_seg: IntArray, selected: IntArray,
                       obs: FloatArray) -> None:
    """``obs[j, k]``: observable ``selected[j]`` of ``states[k]`` at ``out_t[k]`` (segment
    ``out_seg[k]``)."""
    c = np.zeros(N_DRUGS)
    o = np.empty(N_OBSERVABLES)
    for kk in range(out_t.shape[0]):
        seg = out_seg[kk]
        drug_levels(out_t[kk], seg, inputs, c)
        observables(states[kk], p, q, c, inputs[6][seg], inputs[7][seg], o)
        for j in range(selected.shape[0]):
            obs[j, kk] = o[selected[j]]


def course_batch(params: FloatArray, y: FloatArray, from_steady: bool, inputs: Inputs,
                 t0: float, out_t: FloatArray, out_seg: IntArray, selected: IntArray,
                 rtol: float, atol: float, max_steps: int, obs: FloatArray, status: IntArray,
                 t_fail: FloatArray, steps: IntArray) -> None:
    """Many subjects from their states ``y[i]`` at ``t0`` (or, with ``from_steady``, from
    their drug-free steady state found from the guess ``y[i]``) to ``out_t[-1]``, in parallel.

    Subjects with ``status[i] != OK`` on entry are skipped. Writes ``obs[i, j, k]`` (as
    ``solve_batch``), status, failure time and steps (added to ``steps[i]``), and leaves the
    final state in ``y[i]``, so a shared first part of a regimen is solved once and each
    continuation starts from its end.
    """
    n_out = out_t.shape[0]
    for i in prange(params.shape[0]):
        if status[i] != OK:
            continue
        p = params[i]
        q = np.empty(N_DERIVED)
        derived(p, q)
        if from_steady:
            st = steady_state(y[i], p, q, 200)
            if st != OK:
                status[i] = st
                continue
        states = np.empty((n_out, N_STATES))
        st, tf, ns = integrate(y[i], p, q, inputs, t0, out_t[n_out - 1], out_t, rtol, atol,
                               max_steps, states)
        status[i] = st
        t_fail[i] = tf
        steps[i] += ns
        if st != OK:
            continue
        y[i, :] = states[n_out - 1]
        select_observables(states, p, q, inputs, out_t, out_seg, selected, obs[i])

"""The physiology stays non-stiff, which is what makes the explicit compiled solver the fast one.

An explicit Runge-Kutta method needs h * |lambda| inside its stability region (about 3.3 for
Dormand-Prince 5(4)) for every eigenvalue lambda of the Jacobian. With the fastest mode at about
1/h (receptor desensitisation, serum LH t1/2 1.3 h) steps of hours are stable and two years take
~10^4 steps. If a change to the model adds a minute-scale state, this test fails: then use
``SimulationOptions(engine="scipy")`` (LSODA switches to BDF) or add an implicit kernel
(domain/numerics.md, section 5).
"""

from __future__ import annotations

import numpy as np
import pytest

import hpgsim as hs
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import NO_DRUG, DrugLevels, Physiology
from hpgsim.physiology.steady import steady_state

SPECTRAL_RADIUS_LIMIT = 3.0  # 1/h: at most ~1 h steps for stability, ~2e4 steps for 2 years


def jacobian(model: Physiology, y: np.ndarray, levels: DrugLevels) -> np.ndarray:
    """Forward-difference Jacobian of the right-hand side at ``y`` (1/h)."""
    f0 = np.asarray(model.rhs(y, levels), dtype=float)
    jac = np.empty((y.size, y.size))
    for j in range(y.size):
        step = 1e-7 * max(abs(y[j]), 1e-3)
        yj = y.copy()
        yj[j] += step
        jac[:, j] = (np.asarray(model.rhs(yj, levels), dtype=float) - f0) / step
    return jac


def spectral_radius(model: Physiology, y: np.ndarray, levels: DrugLevels) -> float:
    """Largest |eigenvalue| (1/h) of the Jacobian at ``y``."""
    return float(np.max(np.abs(np.linalg.eigvals(jacobian(model, y, levels)))))


@pytest.mark.parametrize(("label", "levels"), [
    ("baseline", NO_DRUG),
    ("TRT, total T 1500 ng/dL", DrugLevels({"testosterone": 1500.0})),
    ("leuprolide depot 1 ng/mL", DrugLevels({"leuprolide": 1.0})),
    ("gonadorelin bolus peak 5 ng/mL", DrugLevels({"gonadorelin": 5.0})),
    ("hCG 50 IU/L", DrugLevels({"hcg": 50.0})),
    ("GnRH pump 10 ug every 90 min", DrugLevels({}, 1.0 / 1.5, 10.0)),
])
def test_fastest_mode_at_the_steady_state_under_each_drug_class(label: str,
                                                                 levels: DrugLevels) -> None:
    model = Physiology(subject_parameters(hs.Subject()))
    assert spectral_radius(model, steady_state(model), levels) < SPECTRAL_RADIUS_LIMIT, label


def test_fastest_mode_along_courses_of_suppression_and_agonist_flare() -> None:
    subject = hs.Subject()
    model = Physiology(subject_parameters(subject))
    for text in ("TE 200 mg q7d x 12w", "leuprolide 7.5 mg q4w x 12w",
                 "gonadorelin 100 ug q3.5d x 4w"):
        r = hs.simulate(subject, hs.parse_regimen(text), hs.SimulationOptions(output_step=24.0))
        for k in np.linspace(0, r.times.size - 1, 8).astype(int):
            levels = DrugLevels({s: float(v[k]) for s, v in r.drugs.items()})
            assert spectral_radius(model, r.states[:, k], levels) < SPECTRAL_RADIUS_LIMIT, (text, k)

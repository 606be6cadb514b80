"""``simulate_batch``: one regimen, many subjects, each as if simulated alone."""

from __future__ import annotations

import numpy as np
import pytest

import hpgsim as hs
from hpgsim import simulation
from hpgsim.engine import simulate_batch

REGIMEN = hs.parse_regimen("TC 150 mg q7d x 12w + anastrozole 0.5 mg q3.5d x 12w; "
                           "then hCG 1500 IU 2x/w x 8w")
OPTIONS = hs.SimulationOptions(output_step=24.0)
SUBJECTS: list[hs.Subject | dict[str, float] | tuple[hs.Subject, dict[str, float]]] = [
    hs.Subject(),
    hs.Subject(age_years=62, weight_kg=104),
    {"leydig_max": 0.6, "K_ITT": 0.2},
    (hs.Subject(ancestry="asian"), {"lh_scale": 1.3}),
    hs.Subject(condition="primary_testicular_dysfunction", testis_volume_ml=14),
]
needs_numba = pytest.mark.skipif(simulation.resolve_engine("auto") != "numba",
                                 reason="numba/sympy not installed (the 'fast' extra)")


def _single(spec: object, options: hs.SimulationOptions) -> hs.Result:
    if isinstance(spec, tuple):
        return hs.simulate(spec[0], REGIMEN, options, parameters=spec[1])
    if isinstance(spec, dict):
        return hs.simulate(hs.Subject(), REGIMEN, options, parameters=spec)
    assert isinstance(spec, hs.Subject)
    return hs.simulate(spec, REGIMEN, options)


@needs_numba
def test_each_subject_of_a_batch_equals_its_single_run() -> None:
    batch = simulate_batch(SUBJECTS, REGIMEN, OPTIONS)
    assert batch.engine == "numba"
    assert len(batch) == len(SUBJECTS)
    assert batch.ok.all()
    for i, spec in enumerate(SUBJECTS):
        single = _single(spec, OPTIONS)
        np.testing.assert_array_equal(batch.times, single.times)
        for name in single.observable_names:
            np.testing.assert_allclose(batch.observables[name][i], single.get(name),
                                       rtol=1e-12, atol=1e-12, err_msg=name)
            assert batch.baseline[name][i] == pytest.approx(single.baseline[name], rel=1e-12)


@needs_numba
def test_the_scipy_loop_gives_the_same_cohort() -> None:
    subjects = SUBJECTS[:2]
    fast = simulate_batch(subjects, REGIMEN, OPTIONS, observables=["T", "LH", "sperm"])
    slow = simulate_batch(subjects, REGIMEN, hs.SimulationOptions(output_step=24.0,
                                                                  engine="scipy"),
                          observables=["T", "LH", "sperm"])
    assert slow.engine == "scipy"
    assert slow.ok.all()
    assert set(fast.observables) == {"total_testosterone", "lh", "sperm_concentration"}
    for name, values in fast.observables.items():
        ref = slow.observables[name]
        assert float(np.max(np.abs(values - ref) / np.max(np.abs(ref)))) < 1e-4, name
    np.testing.assert_array_equal(fast.parameters, slow.parameters)
    assert fast.parameter_names == slow.parameter_names


@needs_numba
def test_a_failing_subject_gets_a_status_and_leaves_the_others_alone() -> None:
    # a fraction above 1 makes the E2 feedback term undefined (power of a negative number)
    subjects = [hs.Subject(), {"fE_ref": 1.3}, hs.Subject(age_years=50)]
    batch = simulate_batch(subjects, REGIMEN, OPTIONS, observables=["T"])
    assert batch.ok.tolist() == [True, False, True]
    assert "steady state" in batch.messages[1] or "non-finite" in batch.messages[1]
    assert np.isnan(batch.observables["total_testosterone"][1]).all()
    assert np.isfinite(batch.observables["total_testosterone"][[0, 2]]).all()


def test_unknown_parameter_names_the_subject() -> None:
    with pytest.raises(hs.InputError, match=r"subjects\[1\]\.no_such"):
        simulate_batch([hs.Subject(), {"no_such": 1.0}], REGIMEN, OPTIONS)


def test_unknown_observable_is_refused() -> None:
    with pytest.raises(hs.InputError, match="observables"):
        simulate_batch([hs.Subject()], REGIMEN, OPTIONS, observables=["cortisol"])

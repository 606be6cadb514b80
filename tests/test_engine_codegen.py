"""Generated model source: the same numbers as the numpy model, parameters as inputs."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")

import hpgsim as hs  # noqa: E402
from hpgsim.engine.codegen import Hoister, model_source  # noqa: E402
from hpgsim.physiology.covariates import subject_parameters  # noqa: E402
from hpgsim.physiology.model import (  # noqa: E402
    DRUG_INPUTS,
    N_STATES,
    STATE_NAMES,
    DrugLevels,
    Physiology,
)
from hpgsim.physiology.steady import steady_state  # noqa: E402
from hpgsim.physiology.symbolic import parameter_names, trace  # noqa: E402


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(model_source(trace()), "<generated model>", "exec"), namespace)
    return namespace


def _in_domain(params: dict[str, float], y: np.ndarray, levels: DrugLevels) -> bool:
    """The numpy model gives real, finite rates here (far from the steady state it may not)."""
    with np.errstate(all="ignore"):
        dy = np.asarray(Physiology(params).rhs(y, levels))
    return bool(np.isrealobj(dy) and np.all(np.isfinite(dy)))


@cache
def _cases() -> list[tuple[dict[str, float], np.ndarray, DrugLevels]]:
    """Five random (parameters, state, drug levels) per subject type, inside the model's domain."""
    rng = np.random.default_rng(3)
    out = []
    for subject in (hs.Subject(), hs.Subject(age_years=67, weight_kg=105),
                    hs.Subject(condition="gnrh_deficient"), hs.Subject(ancestry="asian")):
        params = subject_parameters(subject)
        y_ss = steady_state(Physiology(params))
        kept = 0
        while kept < 5:
            p = {k: v * float(np.exp(rng.normal(0.0, 0.1))) if k != "n_chain" else v
                 for k, v in params.items()}
            y = y_ss * np.exp(rng.normal(0.0, 0.3, N_STATES))
            conc = {name: float(rng.choice([0.0, rng.lognormal(0.0, 2.0)])) for name in DRUG_INPUTS}
            pump = (float(rng.choice([0.0, 0.7])), float(rng.choice([0.0, 12.0])))
            if _in_domain(p, y, DrugLevels(conc, *pump)):
                out.append((p, y, DrugLevels(conc, *pump)))
                kept += 1
    return out


@pytest.mark.parametrize("case", range(20))
def test_generated_rhs_and_observables_match_the_numpy_model(
        generated: dict[str, Any], case: int) -> None:
    params, y, levels = _cases()[case]
    model = Physiology(params)
    p = np.array([params[n] for n in generated["PARAMETER_NAMES"]])
    q = np.empty(generated["N_DERIVED"])
    generated["derived"](p, q)
    c = np.array([levels[name] for name in DRUG_INPUTS])
    dy = np.empty(N_STATES)
    generated["rhs"](y, p, q, c, levels.pump_rate, levels.pump_dose, dy)
    expected = np.asarray(model.rhs(y, levels), dtype=float)
    np.testing.assert_allclose(dy, expected, rtol=1e-11, atol=1e-14)
    obs = np.empty(generated["N_OBSERVABLES"])
    generated["observables"](y, p, q, c, levels.pump_rate, levels.pump_dose, obs)
    ref = model.observables(y, levels)
    for i, name in enumerate(generated["OBSERVABLE_NAMES"]):
        assert obs[i] == pytest.approx(float(ref[name]), rel=1e-11, abs=1e-14), name


def test_layout_follows_the_model(generated: dict[str, Any]) -> None:
    assert generated["STATE_NAMES"] == STATE_NAMES
    assert generated["PARAMETER_NAMES"] == parameter_names()
    assert set(generated["OBSERVABLE_NAMES"]) == set(
        Physiology(subject_parameters(hs.Subject())).observables(np.ones(N_STATES), DrugLevels({})))


def test_hoisting_moves_every_parameter_only_subexpression_out_of_the_rhs() -> None:
    sym = trace()
    params = frozenset(sym.params)
    hoist = Hoister(sym.params)
    rhs = [hoist(e) for e in sym.rhs]
    assert hoist.definitions
    for _, expr in hoist.definitions:
        assert expr.free_symbols <= params
    for expr in rhs:
        for sub in sympy.preorder_traversal(expr):
            if not sub.is_Atom and not isinstance(sub, sympy.logic.boolalg.Boolean | tuple):
                assert not (sub.free_symbols and sub.free_symbols <= params), sub

"""Calibration machinery: overrides, the miss measure, target selection, the pattern search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpgsim.errors import InputError
from hpgsim.params import overridden, overrides_key
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import default_parameters
from hpgsim.subjects import Subject
from hpgsim.validation.calibration import (
    ERROR_MISS,
    Block,
    Bound,
    CalibrationPlan,
    fit_block,
    load_plan,
    log_miss,
    pattern_search,
    select,
    tabulated_values,
)
from hpgsim.validation.cohort import VARIABILITY, sample_parameters
from hpgsim.validation.runner import TargetResult
from hpgsim.validation.schema import load_targets, parse_targets


def _result(simulated: float | None, low: float = 1.0, high: float = 2.0,
            error: str | None = None) -> TargetResult:
    return TargetResult("X", simulated, 1.5, low, high, "1", False, error, "", "", "")


def test_log_miss_is_zero_inside_and_log_distance_outside() -> None:
    assert log_miss(_result(1.5)) == 0.0
    assert log_miss(_result(1.0)) == 0.0
    assert log_miss(_result(0.5)) == pytest.approx(math.log(2.0))
    assert log_miss(_result(8.0)) == pytest.approx(math.log(4.0))
    assert log_miss(_result(None, error="no crossing")) == ERROR_MISS
    assert log_miss(_result(0.0, low=0.0, high=0.2)) == 0.0
    # intervals of changes in % (reaching 0 or below): distance in interval widths
    assert log_miss(_result(-20.0, low=-50.0, high=-30.0)) == pytest.approx(0.5)
    assert log_miss(_result(-70.0, low=-50.0, high=-30.0)) == pytest.approx(1.0)


def test_overrides_reach_model_covariates_and_cv_and_are_undone() -> None:
    before = default_parameters()["kappa"]
    cached = subject_parameters(Subject())["kappa"]
    with overridden({"kappa": 2.2, "cv.leydig_max": 0.0}):
        assert default_parameters()["kappa"] == 2.2
        assert subject_parameters(Subject())["kappa"] == 2.2  # the per-subject cache follows
        assert VARIABILITY.values_dict()["leydig_max"] == 0.0
        # a zero CV draws multiplier 1 for every subject
        assert all(m["leydig_max"] == 1.0 for m in sample_parameters(5, seed=3))
        assert overrides_key() != ()
    assert default_parameters()["kappa"] == before
    assert subject_parameters(Subject())["kappa"] == cached
    assert overrides_key() == ()


def test_tabulated_values_qualify_cvs() -> None:
    values = tabulated_values()
    assert values["cv.leydig_max"] == VARIABILITY["leydig_max"].value
    assert values["T_ref"] == 480.0
    assert "leydig_age_slope" in values


def test_select_by_id_and_prefix() -> None:
    entries = load_targets().entries
    ids = [e.id for e in select(entries, ["HAND05-", "MAT90-LH50"])]
    assert "MAT90-LH50" in ids
    assert "MAT90-FSH50" not in ids
    assert all(i.startswith("HAND05-") for i in ids if i != "MAT90-LH50")


def test_pattern_search_finds_bounded_minimum() -> None:
    calls = []

    def f(x: np.ndarray) -> float:
        calls.append(x.copy())
        return float((x[0] - 0.3) ** 2 + (x[1] + 2.0) ** 2)

    lower, upper = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    x, fx, n = pattern_search(f, np.zeros(2), lower, upper, min_step=1e-4, max_evaluations=500)
    assert x[0] == pytest.approx(0.3, abs=1e-3)
    assert x[1] == pytest.approx(-1.0)  # held at the bound
    assert fx == pytest.approx(1.0, abs=1e-5)
    assert n == len(calls)
    assert all(np.all(c >= lower) and np.all(c <= upper) for c in calls)


def test_fit_block_moves_a_parameter_towards_its_target() -> None:
    # a synthetic target: the typical man's T must be 560-620 ng/dL; T_ref must rise from 480
    text = """
schema: hpgsim-validation/1
targets:
  - id: SYN-T
    title: synthetic
    source: test
    subject: {}
    regimen: []
    measure: {quantity: total_testosterone, unit: ng/dL, statistic: value, at: 0 d}
    expected: {value: 590, low: 560, high: 620}
"""
    entries = parse_targets(text).entries
    block = Block(name="t", parameters={"T_ref": Bound(low=300.0, high=900.0)}, targets=["SYN-T"])
    plan = CalibrationPlan(blocks=[block], ridge=0.0, max_evaluations=30)
    fit = fit_block(block, entries, {}, tabulated_values(), plan, workers=1, log=lambda _: None)
    assert 560.0 <= fit.end["T_ref"] <= 620.0
    assert fit.objective_end == 0.0 < fit.objective_start


def test_plan_errors_name_the_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "plan.yaml"
    bad.write_text("blocks: [{name: a, parameters: {kappa: {low: 1}}, targets: [X]}]\n")
    with pytest.raises(InputError) as err:
        load_plan(bad)
    assert "parameters.kappa.high" in str(err.value)
    block = Block(name="a", parameters={"no_such": Bound(low=1, high=2)}, targets=["HAND05-"])
    with pytest.raises(InputError, match="not a tabulated parameter"):
        fit_block(block, load_targets().entries, {}, tabulated_values(),
                  CalibrationPlan(blocks=[block]), workers=1, log=lambda _: None)


def test_the_shipped_plan_loads_and_names_known_parameters_and_targets() -> None:
    from pathlib import Path

    plan = load_plan(Path(__file__).parents[1] / "calibration" / "plan.yaml")
    values = tabulated_values()
    entries = load_targets().entries
    for block in plan.blocks:
        assert all(name in values for name in block.parameters), block.name
        assert select(entries, block.targets), block.name
        for name, bound in block.parameters.items():
            assert bound.low < bound.high, name

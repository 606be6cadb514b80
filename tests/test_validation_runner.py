"""Running validation targets: plans, error results, JSON shape, end-to-end single subjects."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import hpgsim as hs
from hpgsim.regimen.protocol import regimen_from_schema_lines
from hpgsim.units import HOURS_PER
from hpgsim.validation import Target, compile_plan, dumps, load_targets, results_json, run_target
from hpgsim.validation.runner import choose_step, run_targets

HCG = {"drug": "hcg", "dose": "6000 IU", "route": "im", "start": "0 d"}
TE = {"drug": "testosterone_enanthate", "dose": "250 mg", "route": "im", "start": "0 d"}


def _target(measure: dict[str, Any], regimen: list[dict[str, Any]] | None = None,
            cohort: dict[str, int] | None = None, subject: dict[str, Any] | None = None,
            expected: tuple[float, float, float] = (1.0, 0.0, 2.0)) -> Target:
    value, low, high = expected
    return Target.model_validate({
        "id": "T-1", "subject": subject or {}, "cohort": cohort,
        "regimen": [HCG] if regimen is None else regimen, "measure": measure,
        "expected": {"value": value, "low": low, "high": high}})


def _simulate(regimen: list[dict[str, Any]], t_end: float, step: float,
              subject: hs.Subject | None = None) -> hs.Result:
    return hs.simulate(subject or hs.Subject(), regimen_from_schema_lines(regimen, until=t_end),
                       hs.SimulationOptions(output_step=step, t_end=t_end))


def test_unknown_drug_gives_an_error_result() -> None:
    t = _target({"quantity": "lh", "unit": "IU/L", "statistic": "value", "at": "1 d"},
                regimen=[{"drug": "unobtainium", "dose": "1 mg", "start": "0 d"}])
    r = run_target(t)
    assert not r.passed
    assert r.simulated is None
    assert r.error is not None
    assert "unknown drug" in r.error
    assert (r.expected, r.low, r.high, r.unit) == (1.0, 0.0, 2.0, "IU/L")


def test_json_output_shape() -> None:
    t = _target({"quantity": "lh", "unit": "IU/L", "statistic": "value", "at": "0 d"}, regimen=[])
    bad = _target({"quantity": "lh", "unit": "IU/L", "statistic": "value", "at": "1 d"},
                  regimen=[{"drug": "nope", "dose": "1 mg"}])
    results = run_targets([t, bad])
    out = json.loads(dumps(results))
    assert out == results_json(results)
    assert out["schema"] == "hpgsim-validation-result/1"
    assert [sorted(r) for r in out["results"]] == [sorted(
        ["id", "simulated", "expected", "low", "high", "unit", "passed", "error"])] * 2
    ok, err = out["results"]
    assert ok["error"] is None
    assert isinstance(ok["simulated"], float)
    assert err["passed"] is False
    assert err["simulated"] is None
    assert err["error"]


def test_value_and_ratio_match_a_direct_simulation() -> None:
    value = run_target(_target({"quantity": "total_testosterone", "unit": "nmol/L",
                                "statistic": "value", "at": "84 h"}))
    ratio = run_target(_target({"quantity": "total_testosterone", "unit": "ng/dL",
                                "statistic": "ratio_to_baseline", "at": "84 h"}))
    pct = run_target(_target({"quantity": "total_testosterone", "unit": "ng/dL",
                              "statistic": "percent_change", "at": "84 h"}))
    direct = _simulate([HCG], 84.0, 1.0)
    t84 = direct.at("total_testosterone", 84.0)
    base = direct.baseline["total_testosterone"]
    assert value.simulated == pytest.approx(t84 / 28.84, rel=1e-6)
    assert ratio.simulated == pytest.approx(t84 / base, rel=1e-6)
    assert pct.simulated == pytest.approx(100.0 * (t84 / base - 1.0), rel=1e-6)


def test_drug_concentration_by_drug_name_converts_units() -> None:
    target = _target({"quantity": "drug_concentration:testosterone_enanthate", "unit": "ng/mL",
                      "statistic": "peak", "window": ["0 d", "10 d"]}, regimen=[TE])
    plan = compile_plan(target)
    assert (plan.quantity.name, plan.quantity.unit) == ("testosterone", "ng/mL")
    direct = _simulate([TE], 240.0, plan.step)
    assert direct.drug_units["testosterone"] == "ng/dL"
    assert run_target(target).simulated == pytest.approx(
        float(np.max(direct.drugs["testosterone"])) / 100.0, rel=1e-9)


def test_ratio_of_a_drug_concentration_is_an_error() -> None:
    r = run_target(_target({"quantity": "drug_concentration:hcg", "unit": "IU/L",
                            "statistic": "ratio_to_baseline", "at": "1 d"}))
    assert r.error is not None
    assert "baseline" in r.error


def test_threshold_unit_and_relative_threshold() -> None:
    base = {"quantity": "total_testosterone", "unit": "d", "statistic": "time_to",
            "direction": "below", "from": "3 d", "until": "60 d"}
    hypogonadal = {"condition": "gnrh_deficient"}
    in_ng = run_target(_target({**base, "threshold": 288.4, "threshold_unit": "ng/dL"},
                               regimen=[TE], subject=hypogonadal))
    in_nmol = run_target(_target({**base, "threshold": 10.0, "threshold_unit": "nmol/L"},
                                 regimen=[TE], subject=hypogonadal))
    assert in_ng.error is None
    assert in_ng.simulated is not None
    assert in_ng.simulated == pytest.approx(in_nmol.simulated, rel=1e-9)
    half = run_target(_target({**base, "threshold": 0.5, "relative": True, "relative_to": "7 d",
                               "from": "7 d"}, regimen=[TE], subject=hypogonadal))
    direct = _simulate([TE], 60 * 24.0, 0.25, hs.Subject(condition="gnrh_deficient"))
    t, x = direct.times, direct.observables["total_testosterone"]
    level = 0.5 * float(np.interp(168.0, t, x))
    first = t[(t >= 168.0) & (x <= level)][0]  # first sample at or below half
    assert half.simulated is not None
    assert first - 0.25 <= 168.0 + 24.0 * half.simulated <= first


def test_never_crossing_fails_with_a_message() -> None:
    r = run_target(_target({"quantity": "lh", "unit": "d", "statistic": "time_to", "threshold": 1e3,
                            "threshold_unit": "IU/L", "direction": "above", "from": "0 d",
                            "until": "10 d"}))
    assert not r.passed
    assert r.simulated is None
    assert r.error is not None
    assert "does not reach lh above 1000 IU/L" in r.error


def test_cohort_statistics_on_a_single_subject_and_the_converse() -> None:
    frac = run_target(_target({"quantity": "lh", "unit": "IU/L", "statistic": "fraction",
                               "at": "0 d", "threshold": 1.0, "threshold_unit": "IU/L",
                               "direction": "above"}, regimen=[]))
    assert frac.simulated == 1.0
    assert frac.members == 1
    value = run_target(_target({"quantity": "lh", "unit": "IU/L", "statistic": "value",
                                "at": "0 d"}, regimen=[], cohort={"size": 3, "seed": 1}))
    assert value.error is not None
    assert "cohort target needs" in value.error


def test_choose_step() -> None:
    def step(**m: Any) -> float:
        return compile_plan(_target({"quantity": "lh", "unit": "IU/L", **m})).step

    assert step(statistic="value", at="12 w") == 1.0
    assert step(statistic="value", at="30 min") == 0.5
    assert step(statistic="value", at="1 min") == pytest.approx(1.0 / 60.0)
    assert step(statistic="peak", window=["0 min", "180 min"]) == pytest.approx(1.0 / 720.0)
    assert step(statistic="time_of_peak", window=["14 w", "24 w"], unit="d") == 0.25
    plan = compile_plan(_target({"quantity": "lh", "unit": "min", "statistic": "time_to",
                                 "threshold": 1.0, "threshold_unit": "IU/L",
                                 "direction": "below"}))
    assert plan.span == pytest.approx(3.0 * HOURS_PER["y"])
    assert plan.span / plan.step <= 200_000  # capped, not 1-second steps over 3 years
    assert choose_step(plan.measure, 1.0) == pytest.approx(1.0 / 3600.0)


@pytest.mark.parametrize("target_id", ["LUTRELEF-HALF", "TESTOVIRON-TMAX", "KELSEY16-INHB",
                                       "GNRHTEST-LHRATIO", "OVIDREL-HALF"])
def test_bundled_single_subject_targets_run(target_id: str) -> None:
    target = next(e for e in load_targets().entries if e.id == target_id)
    assert isinstance(target, Target)
    r = run_target(target)
    assert r.error is None, r.error
    assert r.simulated is not None
    assert math.isfinite(r.simulated)
    assert r.passed == (r.low is not None and r.high is not None
                        and r.low <= r.simulated <= r.high)

"""Dose checks: refusals (InputError) and weekly totals above clinical use (DoseWarning)."""

from __future__ import annotations

import warnings

import pytest

from hpgsim.errors import DoseWarning, InputError
from hpgsim.regimen import (
    Regimen,
    RegimenLine,
    check_regimen,
    parse_regimen,
    regimen_from_schema_lines,
    weekly_totals,
)
from hpgsim.units import Dose


def test_aas_dose_warns_and_is_simulated() -> None:
    with pytest.warns(DoseWarning, match=r"testosterone_enanthate: 750 mg/week"):
        r = parse_regimen("TE 750 mg im q7d x 16w")
    assert len(r.boluses()) == 16
    with pytest.warns(DoseWarning, match="750 mg/week"):
        parse_regimen("TE 250 mg 3x/w x 16w")


def test_clinical_trt_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoseWarning)
        r = parse_regimen("TC 150 mg im q7d x 52w")
        regimen_from_schema_lines([  # 100 mg/week, and one 400 mg injection (label dose)
            {"drug": "testosterone_enanthate", "dose": "200 mg", "every": "2 w",
             "duration": "12 w"},
            {"drug": "testosterone_cypionate", "dose": "400 mg", "start": "0 d"},
        ])
    assert weekly_totals(r) == {"testosterone_cypionate": 150.0}


def test_weekly_totals_sum_overlapping_lines_only() -> None:
    r = parse_regimen("clomiphene 25 mg qd x 4w + clomiphene 25 mg qod x 2w; "
                      "then clomiphene 25/12.5 mg qd step 1w")
    assert weekly_totals(r) == {"clomiphene": 7 * 25.0 + 3.5 * 25.0}
    pump = parse_regimen("gonadorelin 10 ug sc pulse q90min x 4w")
    assert weekly_totals(pump)["gonadorelin"] == pytest.approx(0.01 * 168 / 1.5)
    short = parse_regimen("clomiphene 100 mg qd x 2")  # two doses: 200 mg, not 700 mg a week
    assert weekly_totals(short) == {"clomiphene": 200.0}


def test_absurd_dose_is_refused() -> None:
    with pytest.raises(InputError) as err:
        parse_regimen("TE 100000 mg once")
    assert "plausible" in err.value.problem
    with pytest.raises(InputError) as err:
        regimen_from_schema_lines([{"drug": "testosterone_enanthate", "dose": "100000 mg"}])
    assert err.value.field == "regimen[0].dose"
    with pytest.raises(InputError) as err:
        regimen_from_schema_lines([{"drug": "hcg", "dose": "150 mg"}])
    assert err.value.field == "regimen[0].dose"
    assert "IU" in err.value.problem


def test_check_regimen_of_hand_built_lines() -> None:
    good = RegimenLine("hcg", Dose(1500.0, "activity"), "sc", every=84.0, end=1000.0)
    check_regimen(Regimen((good,)))
    cases = [
        (RegimenLine("hCG", Dose(1500.0, "activity"), "sc"), "lines[0].drug"),  # alias
        (RegimenLine("hcg", Dose(1500.0, "activity"), "oral"), "lines[0].route"),
        (RegimenLine("hcg", Dose(1500.0, "activity"), "sc", formulation="x"),
         "lines[0].formulation"),
        (RegimenLine("hcg", Dose(15.0, "mass"), "sc"), "lines[0].dose"),
        (RegimenLine("nope", Dose(15.0, "mass"), "sc"), "lines[0].drug"),
    ]
    for line, field in cases:
        with pytest.raises(InputError) as err:
            check_regimen(Regimen((line,)))
        assert err.value.field == field
    with pytest.warns(DoseWarning):
        check_regimen(Regimen((RegimenLine("hcg", Dose(5000.0, "activity"), "sc", every=24.0,
                                           count=14),)))


def test_route_specific_limits_apply() -> None:
    from hpgsim.regimen import parse_regimen

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_regimen("testosterone_undecanoate 237 mg oral bid x 8w")  # Jatenzo label dose
    with pytest.warns(DoseWarning):
        parse_regimen("testosterone_undecanoate 1000 mg im castor_oil q7d x 8w")

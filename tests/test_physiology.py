"""Physiology invariants: steady state, reference labs, non-negativity, drug directions."""

from __future__ import annotations

import numpy as np
import pytest

import hpgsim as hs
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import IDX, N_STATES, NO_DRUG, Physiology, default_parameters
from hpgsim.physiology.reference import REFERENCE
from hpgsim.physiology.steady import steady_state
from hpgsim.regimen.model import Regimen, RegimenLine
from hpgsim.units import ANALYTES, parse_dose

W = 168.0
D = 24.0


def _line(drug: str, dose: str, route: str, every: float | None = None, end: float | None = None,
          **kw: object) -> RegimenLine:
    return RegimenLine(drug, parse_dose(dose), route, every=every, end=end, **kw)  # type: ignore[arg-type]


def _run(lines: list[RegimenLine], span: float, subject: hs.Subject | None = None,
         step: float = 1.0) -> hs.Result:
    return hs.simulate(subject or hs.Subject(), Regimen(tuple(lines), span=span),
                       hs.SimulationOptions(output_step=step))


def test_every_parameter_has_unit_and_source() -> None:
    from hpgsim.physiology.model import ALL_TABLES

    for table in ALL_TABLES:
        for p in table.values():
            assert p.unit, p.name
            assert p.source, p.name
            assert p.description, p.name
    assert len(default_parameters()) == sum(len(t) for t in ALL_TABLES)


def test_reference_man_is_an_exact_steady_state() -> None:
    model = Physiology(subject_parameters(hs.Subject()))
    y0 = model.reference_state()
    assert np.max(np.abs(model.rhs(y0, NO_DRUG))) < 1e-14
    obs = model.observables(y0, NO_DRUG)
    ref = REFERENCE.values_dict()
    assert obs["total_testosterone"] == pytest.approx(ref["T_ref"])
    assert obs["lh"] == pytest.approx(ref["LH_ref"])
    assert obs["fsh"] == pytest.approx(ref["FSH_ref"])
    assert obs["estradiol"] == pytest.approx(ref["E2_ref"])
    assert obs["inhibin_b"] == pytest.approx(ref["InhB_ref"])
    assert obs["sperm_concentration"] == pytest.approx(ref["sperm_ref"])


def test_typical_man_baseline_inside_reference_ranges() -> None:
    r = _run([], 24.0)
    for name, value in r.baseline.items():
        lo, hi = ANALYTES[name].reference
        if lo is not None:
            assert value >= lo, name
        if hi is not None:
            assert value <= hi, name


def test_no_drug_holds_steady_for_a_year() -> None:
    # a drift well below the solver tolerance: the steady state is exact, not approximate
    r = hs.simulate(hs.Subject(), Regimen((), span=52 * W),
                    hs.SimulationOptions(output_step=24.0, rtol=1e-9, atol=1e-12))
    for name in ("total_testosterone", "lh", "fsh", "estradiol", "sperm_concentration"):
        series = r.get(name)
        assert np.max(np.abs(series / r.baseline[name] - 1.0)) < 1e-7, name


@pytest.mark.parametrize("subject", [
    hs.Subject(age_years=65, weight_kg=110),
    hs.Subject(condition="gnrh_deficient"),
    hs.Subject(condition="primary_testicular_dysfunction", testis_volume_ml=12),
    hs.Subject(ancestry="asian", age_years=22, weight_kg=55),
])
def test_steady_state_of_other_subjects_is_stationary(subject: hs.Subject) -> None:
    model = Physiology(subject_parameters(subject))
    y = steady_state(model)
    assert np.max(np.abs(model.rhs(y, NO_DRUG))) < 1e-8
    assert np.all(y >= 0.0)


def test_conditions_shift_baseline_in_the_known_direction() -> None:
    healthy = _run([], 24.0).baseline
    ihh = _run([], 24.0, hs.Subject(condition="gnrh_deficient")).baseline
    ptd = _run([], 24.0, hs.Subject(condition="primary_testicular_dysfunction")).baseline
    assert ihh["lh"] < 0.2 * healthy["lh"]
    assert ihh["total_testosterone"] < 100.0
    assert ihh["sperm_concentration"] < 1.0
    assert ptd["lh"] > healthy["lh"]
    assert ptd["fsh"] > 2.0 * healthy["fsh"]
    assert ptd["sperm_concentration"] < healthy["sperm_concentration"]
    old = _run([], 24.0, hs.Subject(age_years=70)).baseline
    assert old["shbg"] > healthy["shbg"]
    assert old["free_testosterone"] < healthy["free_testosterone"]


def test_te_200_suppresses_then_recovers() -> None:
    te = _line("testosterone_enanthate", "200 mg", "im", W, 26 * W)
    r = _run([te], 26 * W + 52 * W, step=6.0)
    base = r.baseline
    assert r.at("lh", 3 * W) < 0.25 * base["lh"]
    assert r.at("fsh", 3 * W) < 0.25 * base["fsh"]
    assert r.at("intratesticular_testosterone", 3 * W) < 0.15 * base["intratesticular_testosterone"]
    assert r.at("sperm_concentration", 26 * W) < 1.0
    assert r.at("total_testosterone", 10 * W) > 900.0
    assert r.at("sperm_concentration", 26 * W + 52 * W) > 15.0
    assert r.at("total_testosterone", 26 * W + 52 * W) > 300.0
    assert np.all(r.states >= -1e-9)
    for name in r.observable_names:
        assert np.all(r.get(name) >= 0.0), name


def test_longer_suppression_recovers_more_slowly() -> None:
    def time_to_15(weeks: int) -> float:
        r = _run([_line("testosterone_enanthate", "200 mg", "im", W, weeks * W)],
                 weeks * W + 104 * W, step=24.0)
        after = r.times >= weeks * W
        ok = np.nonzero(after & (r.get("sperm_concentration") >= 15.0))[0]
        return float(r.times[ok[0]] - weeks * W)

    assert time_to_15(156) > 1.2 * time_to_15(26)


def test_serm_raises_lh_and_t_and_ai_lowers_e2() -> None:
    clom = _run([_line("clomiphene", "50 mg", "oral", D, 8 * W)], 8 * W)
    assert clom.at("lh", 8 * W - 1) > 1.1 * clom.baseline["lh"]
    assert clom.at("total_testosterone", 8 * W - 1) > 1.1 * clom.baseline["total_testosterone"]
    ana = _run([_line("anastrozole", "1 mg", "oral", D, 12 * W)], 12 * W)
    assert ana.at("estradiol", 12 * W - 1) < 0.7 * ana.baseline["estradiol"]
    assert ana.at("total_testosterone", 12 * W - 1) > ana.baseline["total_testosterone"]


def test_hcg_on_trt_preserves_intratesticular_t() -> None:
    te = _line("testosterone_enanthate", "200 mg", "im", W, 12 * W)
    alone = _run([te], 12 * W)
    with_hcg = _run([te, _line("hcg", "500 IU", "sc", 2 * D, 12 * W)], 12 * W)
    t = 12 * W - 1
    itt = "intratesticular_testosterone"
    assert with_hcg.at(itt, t) > 5 * alone.at(itt, t)
    assert with_hcg.at("sperm_concentration", t) > alone.at("sperm_concentration", t)


def test_gonadorelin_bolus_gives_an_lh_pulse_of_hours_not_a_sustained_drive() -> None:
    r = _run([_line("gonadorelin", "100 ug", "sc", end=8 * W, weekdays=(0, 3))], 8 * W, step=0.25)
    lh = r.get("lh")
    base = r.baseline["lh"]
    assert lh.max() > 1.8 * base  # each injection releases LH ...
    hours_high = float(np.sum(lh > 1.5 * base)) * 0.25
    assert hours_high / len(r.regimen.boluses()) < 6.0  # ... for a few hours per dose
    assert abs(float(np.mean(lh)) / base - 1.0) < 0.15  # no sustained rise


def test_gnrh_pump_restores_the_axis_in_gnrh_deficiency() -> None:
    ihh = hs.Subject(condition="gnrh_deficient")
    r = _run([_line("gonadorelin", "10 ug", "sc", end=52 * W, pulse_interval=1.5)], 52 * W, ihh,
             step=24.0)
    assert r.baseline["total_testosterone"] < 100.0
    # T 8.3 +/- 4.6 nmol/L on the pump, below hCG/hMG; first sperm after a median 6 months of
    # pubertal maturation (Mao, Asian J Androl 2017)
    assert r.at("total_testosterone", 52 * W - 24) > 200.0
    assert r.at("lh", 52 * W - 24) > 1.5
    assert r.baseline["sperm_concentration"] < 0.01
    assert r.at("sperm_concentration", 26 * W) < r.at("sperm_concentration", 52 * W - 24)
    assert r.at("sperm_concentration", 52 * W - 24) > 1.0


def test_state_layout_is_consistent() -> None:
    assert len(IDX) == N_STATES
    assert IDX["epididymis"] == N_STATES - 1


@pytest.mark.parametrize("labs", [
    {"total_testosterone_ng_dl": 205.0, "lh_iu_l": 4.0, "estradiol_pg_ml": 17.0},
    {"total_testosterone_ng_dl": 250.0},
    {"lh_iu_l": 9.0, "fsh_iu_l": 12.0, "sperm_concentration_million_per_ml": 20.0},
])
def test_baseline_labs_are_reproduced(labs: dict[str, float]) -> None:
    subject = hs.Subject(age_years=45, **labs)  # type: ignore[arg-type]
    base = _run([], 24.0, subject).baseline
    for lab, value in subject.baseline_labs.items():
        assert base[lab] == pytest.approx(value, rel=1e-3), lab


def test_low_t_is_central_or_testicular_as_lh_says() -> None:
    central = _run([], 24.0, hs.Subject(total_testosterone_ng_dl=205.0, lh_iu_l=3.0)).baseline
    testicular = _run([], 24.0, hs.Subject(total_testosterone_ng_dl=205.0, lh_iu_l=12.0)).baseline
    assert testicular["lh"] == pytest.approx(12.0, rel=1e-3)
    assert central["lh"] == pytest.approx(3.0, rel=1e-3)
    assert testicular["total_testosterone"] == pytest.approx(205.0, rel=1e-3)


def test_a_t_without_lh_keeps_the_typical_lh() -> None:
    """Most low-T men have normal LH (EMAS), so T alone moves drive and Leydig together."""
    typical = _run([], 24.0, hs.Subject(age_years=50)).baseline
    low_t = _run([], 24.0, hs.Subject(age_years=50, total_testosterone_ng_dl=205.0)).baseline
    assert low_t["total_testosterone"] == pytest.approx(205.0, rel=1e-3)
    assert low_t["lh"] == pytest.approx(typical["lh"], rel=1e-3)

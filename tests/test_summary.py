"""Summary: phase statistics, the recovery clock and the account of pulsatile dosing, checked on
hand-made courses whose answers are known in closed form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpgsim import DISCLAIMER, Phase, Regimen, RegimenLine
from hpgsim.summary import PULSE_RISE, RECOVERY_HOLD_H, compare_table, summarize
from hpgsim.units import parse_dose
from test_export import make_result

W = 168.0


def _grid(*breaks: float, end: float, step: float = 6.0) -> np.ndarray:
    """A regular grid plus the given break points (so piecewise-linear inputs are exact)."""
    return np.unique(np.concatenate([np.arange(0.0, end + 1e-9, step), breaks]))


def _tc(count: int) -> RegimenLine:
    return RegimenLine("testosterone_cypionate", parse_dose("100 mg"), "im", 0.0, W, count=count)


def test_recovery_clock_first_crossing() -> None:
    # last TC dose at week 3; T falls to 100 ng/dL at week 5, rises linearly to 500 at week 13:
    # crosses 300 at week 9, i.e. 6 weeks after the last dose.
    t = _grid(3 * W, 5 * W, 13 * W, end=20 * W)
    tt = np.interp(t, [0, 3 * W, 5 * W, 13 * W], [800, 800, 100, 500])
    sperm = np.full(t.size, 40.0)
    lh = np.full(t.size, 0.5)
    s = summarize(make_result(t, Regimen((_tc(4),)), total_testosterone=tt, lh=lh,
                              sperm_concentration=sperm))
    assert s.recovery is not None
    assert s.recovery.start_h == pytest.approx(3 * W)
    assert s.recovery.drug == "testosterone_cypionate"
    marks = {m.analyte: m for m in s.recovery.marks}
    assert marks["total_testosterone"].time_h == pytest.approx(6 * W)
    assert marks["total_testosterone"].sustained
    assert marks["lh"].time_h is None
    assert marks["sperm_concentration"].never_below
    assert marks["sperm_concentration"].time_h == 0.0
    text = s.to_text()
    assert "Total T >= 300 ng/dL: 6.0 w after the last dose (week 9.0)" in text
    assert "LH >= 1.50 IU/L: not reached within the simulated span" in text
    assert "never fell below it" in text


def test_a_brief_pulse_is_not_recovery() -> None:
    # LH spikes above 1.5 IU/L for 10 h at week 4, then recovers for good from week 8 on.
    t = _grid(4 * W, 4 * W + 5, 4 * W + 10, 6 * W, 8 * W, end=12 * W)
    lh = np.interp(t, [0, 4 * W, 4 * W + 5, 4 * W + 10, 6 * W, 8 * W, 10 * W],
                   [0.2, 0.2, 6.0, 0.2, 0.5, 1.5, 4.0])
    s = summarize(make_result(t, Regimen((_tc(2),)), lh=lh))
    assert s.recovery is not None
    (mark,) = [m for m in s.recovery.marks if m.analyte == "lh"]
    assert RECOVERY_HOLD_H > 10.0
    assert mark.time_h == pytest.approx(8 * W - 1 * W)


def test_a_later_fall_is_reported() -> None:
    t = _grid(2 * W, 4 * W, 6 * W, 8 * W, end=12 * W)
    tt = np.interp(t, [0, 2 * W, 4 * W, 6 * W, 8 * W], [700, 100, 400, 400, 200])
    s = summarize(make_result(t, Regimen((_tc(1),)), total_testosterone=tt))
    assert s.recovery is not None
    mark = s.recovery.marks[0]
    assert mark.time_h == pytest.approx(2 * W + 2 * W * 200 / 300)
    assert not mark.sustained
    assert "fell below again later" in s.to_text()


def test_no_suppressive_drug_no_clock() -> None:
    s = summarize(make_result())
    assert s.recovery is None
    assert "no androgen or GnRH-analogue dose" in s.to_text()


def test_depot_agonist_starts_the_clock_gonadorelin_does_not() -> None:
    depot = RegimenLine("leuprolide", parse_dose("7.5 mg"), "depot", 0.0, 4 * W, count=2,
                        formulation="1-month")
    pulses = RegimenLine("gonadorelin", parse_dose("100 ug"), "sc", 0.0, 84.0, count=20)
    s = summarize(make_result(_grid(end=12 * W), Regimen((depot, pulses))))
    assert s.recovery is not None
    assert (s.recovery.drug, s.recovery.start_h) == ("leuprolide", 4 * W)
    assert [p.drug for p in s.pulses] == ["gonadorelin"]


def test_phase_statistics_are_time_weighted() -> None:
    # LH ramps 0 -> 3 IU/L over 30 h on an uneven grid: mean 1.5; in [1.5, 9.3] half the time.
    t = np.array([0.0, 1.0, 2.0, 3.0, 30.0, 40.0])
    lh = np.interp(t, [0.0, 30.0, 40.0], [0.0, 3.0, 3.0])
    reg = Regimen((), phases=(Phase("ramp", 0.0, 30.0),))
    s = summarize(make_result(t, reg, lh=lh))
    ramp, follow = s.phases
    assert (ramp.name, follow.name) == ("ramp", "follow-up")
    assert ramp.stats["lh"].mean == pytest.approx(1.5)
    assert (ramp.stats["lh"].min, ramp.stats["lh"].max) == (0.0, 3.0)
    assert ramp.lh_in_range == pytest.approx(0.5)
    assert follow.lh_in_range == pytest.approx(1.0)
    assert s.nadirs["lh"].value == 0.0


def test_whole_course_without_phases() -> None:
    s = summarize(make_result())
    assert [p.name for p in s.phases] == ["whole course"]
    assert s.phases[0].end_h == 500.5


def test_gonadorelin_boluses_give_pulses_not_drive() -> None:
    # 4 SC boluses 84 h apart; LH 0.2 IU/L rises to 2.0 at +1 h and is back at 0.2 by +5 h.
    doses = [0.0, 84.0, 168.0, 252.0]
    knots_t = np.concatenate([[d, d + 1.0, d + 5.0] for d in doses] + [[400.0]])
    knots_x = np.concatenate([[0.2, 2.0, 0.2] for _ in doses] + [[0.2]])
    t = _grid(*knots_t, end=400.0, step=0.5)
    lh = np.interp(t, knots_t, knots_x)
    line = RegimenLine("gonadorelin", parse_dose("100 ug"), "sc", 0.0, 84.0, count=4)
    s = summarize(make_result(t, Regimen((line,), phases=(Phase("on", 0.0, 336.0),)), lh=lh))
    assert s.recovery is None  # a pulse-acting GnRH agonist does not start the recovery clock
    (pr,) = s.pulses
    assert (pr.drug, pr.doses, pr.interval_h) == ("gonadorelin", 4, 84.0)
    # LH > 1.5 x 0.2: from +1/18 h (rise of 1.8/h) to +1 + 1.7/0.45 h (fall of 0.45/h)
    assert PULSE_RISE == 1.5
    np.testing.assert_allclose(pr.hours_raised, 1.0 + 1.7 / 0.45 - 1.0 / 18.0)
    # LH >= 1.5 IU/L: the last 0.5/1.8 h of the rise and the first 0.5/0.45 h of the fall
    np.testing.assert_allclose(pr.hours_normal, 0.5 / 1.8 + 0.5 / 0.45)
    assert pr.share(pr.hours_normal) < 0.02
    (name, mean, peak), = pr.phase_lh
    assert (name, peak) == ("on", 2.0)
    assert mean == pytest.approx(0.2 + 4 * (0.5 * 1.8 * 5.0) / 336.0)  # 4 triangles over 336 h
    text = s.to_text()
    assert "LH pulse lasting hours, not a sustained drive" in text
    assert "mean LH 0.254 vs peak LH 2.00 IU/L" in text


def test_text_and_dict_in_chosen_units() -> None:
    t = _grid(end=4 * W)
    tt = np.interp(t, [0, 4 * W], [288.4, 576.8])
    s = summarize(make_result(t, Regimen((_tc(1),), name="demo"), warnings=("dose high",),
                              total_testosterone=tt))
    text = s.to_text({"T": "nmol/L"})
    assert "Total T >= 10.4 nmol/L" in text
    assert "10.0 nmol/L at week 0.0" in text  # the nadir, converted
    assert "dose high" in text
    assert text.endswith(DISCLAIMER)
    d = json.loads(json.dumps(s.to_dict({"T": "nmol/L"})))
    assert d["units"]["total_testosterone"] == "nmol/L"
    assert d["nadirs"]["total_testosterone"]["value"] == pytest.approx(10.0)
    assert d["final"]["total_testosterone"] == pytest.approx(20.0)
    assert d["recovery_clock"]["marks"][0]["threshold"] == pytest.approx(300 / 28.84)
    assert d["warnings"] == ["dose high"]
    assert d["disclaimer"] == DISCLAIMER


def test_compare_table_side_by_side() -> None:
    t = _grid(3 * W, 5 * W, 13 * W, end=20 * W)
    fast = np.interp(t, [0, 3 * W, 5 * W, 13 * W], [800, 800, 100, 500])
    slow = np.interp(t, [0, 3 * W, 5 * W, 20 * W], [800, 800, 100, 400])
    a = summarize(make_result(t, Regimen((_tc(4),)), total_testosterone=fast))
    b = summarize(make_result(t, Regimen((_tc(4),)), total_testosterone=slow))
    table = compare_table([a, b], ["fast", "slow"])
    header, *rows = table.splitlines()
    assert header.split() == ["fast", "slow"]
    (row,) = [r for r in rows if r.startswith("Total T >= 300 ng/dL")]
    assert "6.0 w after" in row
    assert "12.0 w after" in row
    assert table.endswith(DISCLAIMER)

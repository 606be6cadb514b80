"""Candidate protocols with titration rules, forecasts from a fit, ranking, and the patient
commands end to end."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hpgsim.errors import InputError
from hpgsim.patients.fit import FitResult, IndividualFit, PatientData
from hpgsim.patients.forecast import forecast, plan
from hpgsim.patients.labs import LabRecord
from hpgsim.patients.records import PatientInfo
from hpgsim.patients.titration import Candidate, candidate_from_dict, shifted, with_decisions
from hpgsim.regimen.model import DAY, WEEK

TRT = """
name: TRT
phases:
  - name: TRT
    duration: 12 w
    drugs:
      - {drug: testosterone_cypionate, dose: 200 mg, route: im, days: [mon]}
follow_up: 2 w
"""
AI_RULE = """
titration:
  - at: 4 w
    if: E2 > {threshold} pg/mL
    add: {{drug: anastrozole, dose: 1 mg, every: 2x/w}}
"""
WAIT = "name: wait\ntext: observe 14w\n"


def candidate(text: str) -> Candidate:
    return candidate_from_dict(yaml.safe_load(text), "test.yaml")


def test_titration_rules_parse_and_apply() -> None:
    c = candidate(TRT + AI_RULE.format(threshold=40) + """
  - at: 8 w
    if: T < 300 ng/dL
    stop: TC
""")
    add, stop = c.rules
    assert (add.at, add.analyte, add.op, add.threshold) == (4 * WEEK, "estradiol", ">", 40.0)
    assert add.add[0].drug == "anastrozole"
    assert add.add[0].start == 4 * WEEK
    assert add.add[0].end == c.regimen.treatment_end
    assert stop.stop == "testosterone_cypionate"
    both = with_decisions(c, (True, True))
    tc = [b.time for b in both.boluses() if b.drug == "testosterone_cypionate"]
    assert max(tc) < 8 * WEEK
    assert len(tc) == 8
    ai = [b.time for b in both.boluses() if b.drug == "anastrozole"]
    assert min(ai) == 4 * WEEK
    assert len(ai) == 16
    assert with_decisions(c, (False, False)) == c.regimen


def test_shift_keeps_weekdays() -> None:
    c = candidate(TRT)
    moved = shifted(c.regimen, 3)
    old = [b.time for b in c.regimen.boluses()]
    new = [b.time for b in moved.boluses()]
    # the protocol moves as a whole: its Monday doses stay on its own day 0, 7, ...
    assert new == [t + 3 * DAY for t in old]
    assert moved.end == c.regimen.end + 3 * DAY


@pytest.mark.parametrize(("rule", "field", "problem"), [
    ("- {at: 4 w, if: E2 is high, stop: TC}", "titration[0].if", "not a condition"),
    ("- {at: 4 w, if: E2 > 40 pg/mL}", "titration[0]", "exactly one action"),
    ("- {at: 4 w, if: E2 > 40 mg, stop: TC}", "units.estradiol", "unknown unit"),
    ("- {at: 99 w, if: E2 > 40 pg/mL, stop: TC}", "titration[0].at", "outside"),
    ("- {at: 4 w, if: E2 > 40 pg/mL, stop: TC, when: now}", "titration[0].when", "Extra"),
    ("- {at: 4 w, if: E2 > 40 pg/mL, add: {drug: anastrozole, dose: 1 mg, every: 2x/w, "
     "start: 1 w}}", "titration[0].add.start", "starts at the visit"),
])
def test_bad_rules_are_named(rule: str, field: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        candidate(TRT + "titration:\n  " + rule + "\n")
    assert err.value.field == field
    assert problem in err.value.problem


@pytest.fixture(scope="module")
def low_t_fit() -> tuple[FitResult, PatientData]:
    """A man with total T ~200 ng/dL and no treatment, Leydig capacity fitted."""
    t = datetime(2024, 1, 1, 8, tzinfo=UTC)
    labs = [LabRecord(t + timedelta(days=7 * k), "total_testosterone", v, "ng/dL")
            for k, v in enumerate((190.0, 210.0, 205.0))]
    data = PatientData.from_records(PatientInfo("L-1", date(1985, 1, 1)), labs, [])
    fit = IndividualFit(("leydig_max",), method="laplace", n_draws=40).fit(data).result_
    return fit, data


def test_plan_ranks_and_evaluates_titration(low_t_fit: tuple[FitResult, PatientData]) -> None:
    fit, data = low_t_fit
    never = candidate(TRT.replace("name: TRT", "name: TRT never") + AI_RULE.format(threshold=5000))
    always = candidate(TRT.replace("name: TRT", "name: TRT + AI") + AI_RULE.format(threshold=0))
    ranked = plan(fit, data, [candidate(WAIT), never, always], n_draws=12)
    assert [f.name for f in ranked][-1] == "wait"
    wait = ranked[-1]
    assert wait.p_T300 == 0.0
    assert wait.t_T300_days is None
    assert wait.p_sperm_6mo is None  # the span is shorter than 6 months
    by = {f.name: f for f in ranked}
    assert by["TRT never"].p_T300 == 1.0
    assert by["TRT never"].t_T300_days[1] < 7
    assert list(by["TRT never"].fired.values()) == [0.0]
    assert list(by["TRT + AI"].fired.values()) == [1.0]
    end = -1
    assert by["TRT + AI"].bands["estradiol"][1, end - 30] < 0.7 * by["TRT never"].bands[
        "estradiol"][1, end - 30]
    assert 14 <= wait.next_labs_day <= 26 * 7  # type: ignore[operator]
    # a threshold at the median E2 of the visit: draws split, each group on its own regimen
    median = by["TRT never"].bands["estradiol"][1, int(28 / by["TRT never"].days[1])]
    split = candidate(TRT.replace("name: TRT", "name: split")
                      + AI_RULE.format(threshold=round(float(median), 1)))
    mixed = forecast(fit, data, split, n_draws=12)
    assert 0.0 < next(iter(mixed.fired.values())) < 1.0
    assert mixed.bands["estradiol"].shape == by["TRT never"].bands["estradiol"].shape
    json.dumps([f.to_dict() for f in ranked])
    lo, mid, hi = by["TRT never"].bands["total_testosterone"][:, 20]
    assert lo <= mid <= hi
    with pytest.raises(InputError, match="before the last recorded"):
        plan(fit, data, [candidate(WAIT)], start=datetime(2024, 1, 2, tzinfo=UTC), n_draws=4)


def test_patient_commands_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from hpgsim.cli import main
    from hpgsim.patients.cli import COMMANDS

    for command in COMMANDS:
        main.add_command(command)
    db = str(tmp_path / "p.sqlite")

    def run(*args: str) -> str:
        res = CliRunner().invoke(main, [*args, "--db", db])
        assert res.exit_code == 0, res.output
        return res.stdout

    run("patient", "add", "P-1", "--age", "34", "--weight", "82")
    labs = tmp_path / "labs.csv"
    labs.write_text("date,analyte,value,unit\n2024-01-01T08:00:00Z,T,7.5,nmol/L\n"
                    "2024-01-01T08:00:00Z,LH,<0.5,IU/L\n2024-01-15T08:00:00Z,T,230,ng/dL\n"
                    "2024-01-29T08:00:00Z,T,220,ng/dL\n")
    assert "imported 4" in run("labs", "import", "P-1", str(labs))
    listed = run("labs", "list", "P-1", "--units", "T=ng/dL")
    assert "216.3 ng/dL" in listed
    assert "<0.5 IU/L" in listed
    bundle = tmp_path / "labs.json"
    run("labs", "export", "P-1", "--format", "fhir", "--out", str(bundle))
    run("patient", "add", "P-2", "--birth-date", "1990-05-01")
    text = bundle.read_text().replace("Patient/P-1", "Patient/P-2")
    bundle.write_text(text)
    run("labs", "import", "P-2", str(bundle))
    assert run("labs", "export", "P-2").replace("P-2", "P-1") == run("labs", "export", "P-1")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,analyte,value,unit\n2024-02-01,T,400,ng/dL\n2024-02-02,T,50000,ng/dL\n")
    res = CliRunner().invoke(main, ["labs", "import", "P-1", str(bad), "--db", db])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: line 3.value")
    assert len(run("labs", "list", "P-1").splitlines()) == 4
    short = tmp_path / "short.yaml"
    short.write_text(TRT.replace("12 w", "4 w"))
    assert "imported 4 doses" in run("doses", "import", "P-2", str(short), "--start", "2023-01-02")
    doses = tmp_path / "doses.csv"
    doses.write_text("date,drug,dose\n2024-02-05T09:00:00Z,TC,100 mg\n")
    assert "imported 1" in run("doses", "import", "P-1", str(doses))
    out = tmp_path / "fit"
    fitted = run("fit", "P-1", "--method", "laplace", "--parameters", "leydig_max",
                 "--out", str(out))
    assert "leydig_max" in fitted
    assert (out / "fit.png").stat().st_size > 0
    assert "leydig_max" in run("patient", "show", "P-1")
    protocol = tmp_path / "trt.yaml"
    protocol.write_text(TRT)
    planned = run("plan", "P-1", str(protocol), "--draws", "8", "--plot", "none")
    assert "TRT" in planned


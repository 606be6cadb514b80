"""Protocol files: format, phases, schema lines, and every error path with its field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from hpgsim.errors import InputError
from hpgsim.regimen import load_protocol, protocol_from_dict, regimen_from_schema_lines
from hpgsim.regimen.model import WEEK
from hpgsim.subjects import Subject

BASE: dict[str, Any] = {
    "name": "Post-TRT recovery",
    "description": "test",
    "subject": {"age_years": 35, "weight_kg": 85},
    "phases": [
        {"name": "TRT", "duration": "52 w",
         "drugs": [{"drug": "testosterone_cypionate", "dose": "150 mg", "route": "im",
                    "every": "7 d"}]},
        {"name": "Recovery", "duration": "16 w",
         "drugs": [{"drug": "hcg", "dose": "1500 IU", "every": "2x/w"},
                   {"drug": "clomiphene", "dose": "25 mg", "every": "2 d"}]},
    ],
    "follow_up": "52 w",
}


def edited(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path (``phases.1.drugs.0.dose``) set (or removed: None)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        del node[last]
    else:
        node[last] = value
    return data


def test_base_protocol() -> None:
    p = protocol_from_dict(BASE, "base.yaml")
    assert p.name == "Post-TRT recovery"
    assert p.description == "test"
    assert p.subject == Subject(age_years=35, weight_kg=85)
    r = p.regimen
    assert [(ph.name, ph.start / WEEK, ph.end / WEEK) for ph in r.phases] == [
        ("TRT", 0, 52), ("Recovery", 52, 68)]
    assert r.end == 120 * WEEK
    assert r.name == "Post-TRT recovery"
    tc, hcg, clomiphene = r.lines
    assert (tc.drug, tc.route, tc.every) == ("testosterone_cypionate", "im", 168.0)
    assert tc.end == 52 * WEEK
    assert (hcg.route, hcg.weekdays, hcg.start, hcg.end) == ("sc", (0, 3), 52 * WEEK, 68 * WEEK)
    assert clomiphene.route == "oral"  # the drug's usual route
    assert protocol_from_dict(edited("subject", None)).subject is None


def test_aliases_resolve_to_catalog_names() -> None:
    line = {"drug": "TC", "dose": "150 mg", "every": "qw"}
    p = protocol_from_dict(edited("phases.0.drugs.0", line))
    assert p.regimen.lines[0].drug == "testosterone_cypionate"
    assert p.regimen.boluses() == protocol_from_dict(BASE).regimen.boluses()


def test_explicit_phase_start_gap_and_line_offsets() -> None:
    data = edited("phases.1.start", "56 w")
    data["phases"][1]["drugs"][1] |= {"start": "1 w", "count": 10}
    r = protocol_from_dict(data).regimen
    assert [(ph.start / WEEK, ph.end / WEEK) for ph in r.phases] == [(0, 52), (56, 72)]
    clomiphene = r.lines[2]
    times = clomiphene.times()
    assert times[0] == 57 * WEEK
    assert len(times) == 10


def test_phase_without_duration_takes_its_longest_line() -> None:
    data = edited("phases.1.duration", None)
    data["phases"][1]["drugs"][1]["duration"] = "12 w"
    r = protocol_from_dict(data).regimen
    assert r.phases[1].end == 64 * WEEK
    assert r.lines[1].end == 64 * WEEK  # hCG takes the phase length


def test_taper_days_and_pump_forms() -> None:
    data = edited("phases.1.drugs", [
        {"drug": "clomiphene", "every": "1 d",
         "taper": [{"dose": "50 mg", "for": "2 w"}, {"dose": "25 mg", "for": "2 w"}]},
        {"drug": "hcg", "dose": "1500 IU", "days": ["tue", "fri"]},
        {"drug": "gonadorelin", "dose": "10 ug", "every": "pulse", "pulse_interval": "90 min"},
    ])
    r = protocol_from_dict(data).regimen
    assert [(ln.dose.amount, ln.start, ln.end) for ln in r.lines[1:3]] == [
        (50.0, 52 * WEEK, 54 * WEEK), (25.0, 54 * WEEK, 56 * WEEK)]
    assert r.lines[3].weekdays == (1, 4)
    (pump,) = r.pumps()
    assert (pump.start, pump.end, pump.interval) == (52 * WEEK, 68 * WEEK, 1.5)


def test_text_and_schema_regimen_forms() -> None:
    text = protocol_from_dict({"text": "TE 200 mg q7d x 12w", "follow_up": "4 w"}).regimen
    schema = protocol_from_dict({"regimen": [
        {"drug": "testosterone_enanthate", "dose": "200 mg", "route": "im", "every": "1 w",
         "start": "0 d", "duration": "12 w"}], "follow_up": "4 w"}).regimen
    assert text.boluses() == schema.boluses()
    assert text.end == schema.end == 16 * WEEK


def test_schema_lines_as_the_validation_suite_calls_them() -> None:
    lines: list[dict[str, Any]] = [
        {"drug": "gonadorelin", "dose": "10 ug", "route": "sc", "every": "pulse",
         "pulse_interval": "90 min", "start": "0 d", "duration": "24 mo"},
        {"drug": "hcg", "dose": "500 IU", "route": "sc", "every": "2 d", "start": "1 w",
         "count": 3},
        {"drug": "testosterone_enanthate", "dose": "250 mg", "route": "im", "start": "4 w"},
    ]
    r = regimen_from_schema_lines(lines)
    assert [b.time / 24 for b in r.boluses()] == [7, 9, 11, 28]
    assert r.pumps()[0].end == 24 * 30.4375 * 24
    assert r.phases == ()
    assert r.span is None
    assert regimen_from_schema_lines([]).lines == ()
    open_ended = [{"drug": "anastrozole", "dose": "1 mg", "every": "1 d"}]
    r = regimen_from_schema_lines(open_ended, until=10 * 24.0)
    assert len(r.boluses()) == 10
    assert r.end == 240.0
    with pytest.raises(InputError) as err:
        regimen_from_schema_lines(open_ended)
    assert err.value.field == "regimen[0].duration"
    with pytest.raises(InputError) as err:
        regimen_from_schema_lines([{"drug": "hcg", "dose": "500 IU", "period": "2 d"}])
    assert err.value.field == "regimen[0].period"


@pytest.mark.parametrize(("path", "value", "field"), [
    ("phases.0.drugs.0.drug", "testosterone_cipionate", "phases[0].drugs[0].drug"),
    ("phases.0.drugs.0.route", "oral", "phases[0].drugs[0].route"),
    ("phases.0.drugs.0.formulation", "tea_seed_oil", "phases[0].drugs[0].formulation"),
    ("phases.1.drugs.0.dose", "150 mg", "phases[1].drugs[0].dose"),  # hCG in mg
    ("phases.1.drugs.1.dose", "25 IU", "phases[1].drugs[1].dose"),  # clomiphene in IU
    ("phases.1.drugs.1.dose", "-25 mg", "phases[1].drugs[1].dose"),
    ("phases.1.drugs.1.dose", "0 mg", "phases[1].drugs[1].dose"),
    ("phases.1.drugs.1.dose", 25, "phases[1].drugs[1].dose"),  # no unit
    ("phases.0.drugs.0.dose", "100000 mg", "phases[0].drugs[0].dose"),
    ("phases.0.drugs.0.every", "7 dayz", "phases[0].drugs[0].every"),
    ("phases.0.drugs.0.every", "0 d", "phases[0].drugs[0].every"),
    ("phases.0.drugs.0.every", "1 min", "phases[0].drugs[0].every"),  # over MAX_EVENTS
    ("phases.0.drugs.0.start", "7", "phases[0].drugs[0].start"),
    ("phases.0.drugs.0.start", "60 w", "phases[0].drugs[0].start"),  # after the phase end
    ("phases.0.drugs.0.duration", "-1 w", "phases[0].drugs[0].duration"),
    ("phases.0.drugs.0.count", 0, "phases[0].drugs[0].count"),
    ("phases.0.drugs.0.count", "3", "phases[0].drugs[0].count"),
    ("phases.0.drugs.0.dosage", "150 mg", "phases[0].drugs[0].dosage"),  # unknown key
    ("phases.0.drugs.0.pulse_interval", "90 min", "phases[0].drugs[0].pulse_interval"),
    ("phases.1.drugs.0.days", ["mon", "funday"], "phases[1].drugs[0].days[1]"),
    ("phases.1.drugs.0.days", "mon", "phases[1].drugs[0].days"),  # not a list
    ("phases.0.duration", "52", "phases[0].duration"),
    ("phases.0.duration", "0 w", "phases[0].duration"),
    ("phases.0.name", None, "phases[0].name"),  # missing
    ("phases.1.start", "40 w", "phases[1].start"),  # overlaps TRT
    ("phases.1.start", "-1 w", "phases[1].start"),
    ("phases.1.colour", "red", "phases[1].colour"),
    ("phases", {"name": "x"}, "phases"),
    ("follow_up", "52", "follow_up"),
    ("follow_up", "-2 w", "follow_up"),
    ("start_weekday", "someday", "start_weekday"),
    ("subject", {"age_years": 5}, "subject.age_years"),
    ("subject", {"age": 35}, "subject.age"),
    ("text", "TC 150 mg q7d x 1w", "text"),  # phases and text together
    ("phase", [], "phase"),
])
def test_error_paths_name_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(InputError) as err:
        protocol_from_dict(edited(path, value), "p.yaml")
    assert err.value.field == field
    assert "p.yaml" in err.value.problem
    assert err.value.fix


def test_overlap_error_names_both_phases() -> None:
    with pytest.raises(InputError) as err:
        protocol_from_dict(edited("phases.1.start", "40 w"))
    assert "'Recovery'" in err.value.problem
    assert "'TRT'" in err.value.problem


def test_unknown_key_suggests_the_right_one() -> None:
    with pytest.raises(InputError) as err:
        protocol_from_dict(edited("phases.0.drugs.0.dosage", "150 mg"))
    assert "'dose'" in err.value.fix


@pytest.mark.parametrize(("line", "field"), [
    ({"drug": "clomiphene", "every": "1 d"}, "dose"),  # neither dose nor taper
    ({"drug": "clomiphene", "dose": "25 mg", "every": "1 d", "duration": "2 w", "count": 3},
     "count"),
    ({"drug": "clomiphene", "every": "1 d", "duration": "2 w",
      "taper": [{"dose": "50 mg", "for": "2 w"}]}, "duration"),
    ({"drug": "clomiphene", "taper": [{"dose": "50 mg", "for": "2 w"}]}, "every"),
    ({"drug": "clomiphene", "every": "1 d", "taper": [{"dose": "50 IU", "for": "2 w"}]},
     "taper[0].dose"),
    ({"drug": "clomiphene", "every": "1 d", "taper": [{"dose": "50 mg", "for": "2"}]},
     "taper[0].for"),
    ({"drug": "clomiphene", "every": "1 d", "taper": [{"dose": "50 mg"}]}, "taper[0].for"),
    ({"drug": "clomiphene", "dose": "25 mg", "count": 3}, "count"),  # several doses, no schedule
])
def test_drug_line_errors(line: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        protocol_from_dict(edited("phases.1.drugs.1", line))
    assert err.value.field == f"phases[1].drugs[1].{field}"


def test_phase_without_any_duration() -> None:
    data = {"phases": [{"name": "A", "drugs": [{"drug": "TC", "dose": "150 mg", "every": "7 d"}]}]}
    with pytest.raises(InputError) as err:
        protocol_from_dict(data)
    assert err.value.field == "phases[0].duration"
    with pytest.raises(InputError) as err:
        protocol_from_dict({"phases": [{"name": "washout"}]})
    assert err.value.field == "phases[0].duration"
    one_dose = {"name": "A", "drugs": [{"drug": "TE", "dose": "250 mg"}]}
    single = protocol_from_dict({"phases": [one_dose]})
    assert len(single.regimen.boluses()) == 1


def test_top_level_errors() -> None:
    for data, field in [([1, 2], "protocol"), ({"name": "x"}, "phases"),
                        ({"text": "TE 1 mg once", "regimen": []}, "regimen"),
                        ({"text": "TE 100 mg once; then observe 2w", "follow_up": "1 w"},
                         "follow_up")]:
        with pytest.raises(InputError) as err:
            protocol_from_dict(data)
        assert err.value.field == field


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_protocol(tmp_path / "missing.yaml")
    assert err.value.field == "protocol"
    assert "missing.yaml" in str(err.value.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\nphases:\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_protocol(bad)
    assert "YAML" in err.value.problem
    assert "line" in err.value.problem
    assert "bad.yaml" in str(err.value.value)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_protocol(scalar)
    assert "scalar.yaml" in err.value.problem
    good = tmp_path / "good.yaml"
    good.write_text("text: TC 150 mg q7d x 4w\n", encoding="utf-8")
    assert len(load_protocol(good).regimen.boluses()) == 4

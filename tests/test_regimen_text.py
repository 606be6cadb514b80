"""The compact text form: equal to the explicit forms, errors pointing at tokens, rendering."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpgsim.drugs.catalog import default_catalog
from hpgsim.errors import DoseWarning, InputError
from hpgsim.regimen import (
    Regimen,
    load_protocol,
    parse_regimen,
    protocol_from_dict,
    regimen_from_schema_lines,
    render_regimen,
)
from hpgsim.regimen.model import WEEK

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def same(a: Regimen, b: Regimen) -> None:
    assert a.boluses() == b.boluses()
    assert a.pumps() == b.pumps()
    assert a.end == b.end


def phases(*phases: dict[str, Any], follow_up: str | None = None) -> Regimen:
    data: dict[str, Any] = {"name": "t", "phases": list(phases)}
    if follow_up:
        data["follow_up"] = follow_up
    return protocol_from_dict(data).regimen


def test_quick_start_text_equals_the_example_file() -> None:
    text = parse_regimen("TC 150 mg q7d x 52w; then hCG 1500 IU 2x/w + clomiphene 25 mg qod x 16w;"
                         " then observe 52w")
    same(text, load_protocol(EXAMPLES / "post_trt_recovery.yaml").regimen)
    assert len(text.boluses()) == 52 + 2 * 16 + 8 * 7
    assert text.end == (52 + 16 + 52) * WEEK


@pytest.mark.parametrize(("text", "explicit"), [
    ("TC 150 mg im q7d x 52w + hCG 500 IU sc qod",
     lambda: phases({"name": "a", "duration": "52 w", "drugs": [
         {"drug": "testosterone_cypionate", "dose": "150 mg", "route": "im", "every": "7 d"},
         {"drug": "hcg", "dose": "500 IU", "route": "sc", "every": "2 d"}]})),
    ("gonadorelin 10 ug sc pulse q90min x 24mo",
     lambda: phases({"name": "pump", "drugs": [
         {"drug": "gonadorelin", "dose": "10 ug", "route": "sc", "every": "pulse",
          "pulse_interval": "90 min", "duration": "24 mo"}]})),
    ("clomiphene 50/25/12.5 mg qd step 2w",
     lambda: phases({"name": "taper", "drugs": [
         {"drug": "clomiphene", "every": "1 d", "taper": [
             {"dose": "50 mg", "for": "2 w"}, {"dose": "25 mg", "for": "2 w"},
             {"dose": "12.5 mg", "for": "2 w"}]}]})),
    ("TC 150 mg q7d x 52w; then gonadorelin 100 ug sc 2x/w + clomiphene 25 mg eod"
     " + anastrozole 0.5 mg 2x/w tue,fri x 12w; then observe 40w",
     lambda: load_protocol(EXAMPLES / "gonadorelin_serm_ai.yaml").regimen),
    ("TE 200 mg im q7d x 3 + hCG 500 IU sc q2d x 21d",  # validation target COVIELLO05
     lambda: regimen_from_schema_lines([
         {"drug": "testosterone_enanthate", "dose": "200 mg", "route": "im", "every": "1 w",
          "start": "0 d", "count": 3},
         {"drug": "hcg", "dose": "500 IU", "route": "sc", "every": "2 d", "start": "0 d",
          "duration": "21 d"}])),
    ("TE 250 mg once x 1w; then off 3w; then hCG 1500 IU 2x/w from 1w x 8w",
     lambda: phases({"name": "a", "drugs": [{"drug": "TE", "dose": "250 mg", "duration": "1 w"}]},
                    {"name": "off", "duration": "3 w"},
                    {"name": "b", "drugs": [{"drug": "hCG", "dose": "1500 IU", "every": "2x/w",
                                             "start": "1 w", "duration": "8 w"}]})),
    ("Load: TE 500 mg once + TE 250 mg q7d from 1w x 11w; Maintain: TE 250 mg q14d x 12w",
     lambda: phases({"name": "Load", "drugs": [
         {"drug": "TE", "dose": "500 mg"},
         {"drug": "TE", "dose": "250 mg", "every": "7 d", "start": "1 w", "duration": "11 w"}]},
                    {"name": "Maintain", "duration": "12 w", "drugs": [
                        {"drug": "TE", "dose": "250 mg", "every": "14 d"}]})),
])
def test_text_equals_explicit_form(text: str, explicit: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        parsed, other = parse_regimen(text), explicit()
    assert parsed.boluses() == other.boluses()
    assert parsed.pumps() == other.pumps()


def test_protocol_text_key_and_start_weekday() -> None:
    data = {"text": "hCG 1500 IU 2x/w mon,thu x 2w", "start_weekday": "thu", "follow_up": "4 w"}
    regimen = protocol_from_dict(data).regimen
    # day 0 is a Thursday: doses on days 0, 4, 7, 11
    assert [b.time / 24 for b in regimen.boluses()] == [0.0, 4.0, 7.0, 11.0]
    assert regimen.end == 6 * WEEK
    assert [b.time for b in parse_regimen("hCG 1500 IU 2x/w x 2w", start_weekday="thu").boluses()] \
        == [b.time for b in regimen.boluses()]


def test_phase_length_is_the_longest_item_and_items_never_run_past_it() -> None:
    r = parse_regimen("hCG 1500 IU 2x/w + clomiphene 25 mg qd x 6w + anastrozole 1 mg q3.5d x 2w;"
                      " then TC 100 mg q7d x 4w")
    assert [(p.start / WEEK, p.end / WEEK) for p in r.phases] == [(0, 6), (6, 10)]
    hcg, clomiphene, anastrozole, tc = r.lines
    assert hcg.end == clomiphene.end == 6 * WEEK
    assert anastrozole.end == 2 * WEEK
    assert tc.start == 6 * WEEK
    explicit = phases({"name": "a", "duration": "3 w", "drugs": [
        {"drug": "clomiphene", "dose": "25 mg", "every": "qd", "duration": "6 w"},
        {"drug": "anastrozole", "taper": [{"dose": "1 mg", "for": "2 w"},
                                          {"dose": "0.5 mg", "for": "2 w"}], "every": "qd"}]})
    assert max(b.time for b in explicit.boluses()) < 3 * WEEK
    assert [ln.end for ln in explicit.lines] == [3 * WEEK, 2 * WEEK, 3 * WEEK]


@pytest.mark.parametrize(("text", "column", "words"), [
    ("TC 150 mg q7d", 1, "no"),  # no duration anywhere
    ("TC 150 q7d x 4w", 4, "dose unit"),
    ("TC 150 mg q7x x 4w", 11, "schedule"),
    ("TC 150 mg q7d x 4w junk", 20, "unexpected"),
    ("TC 150 mg x 4w", 11, "schedule"),
    ("foo 150 mg qd x 1w", 1, "unknown drug"),
    ("hCG 150 mg 2x/w x 4w", 1, "IU"),
    ("TC 150 mg oral q7d x 4w", 1, "route"),
    ("clomiphene 50/25 mg qd", 1, "step"),
    ("clomiphene 50 mg qd step 2w", 1, "taper"),
    ("TC 150 mg q7d x 4w;", 20, "empty phase"),
    ("TE 250 mg once; then observe 4w; TC 1 mg qd x 1w", 34, "observe"),
    ("hcg 1500 IU 2x/w mon x 4w", 13, "2 weekdays"),
    ("TE 250 mg q1min x 52w", 1, "doses"),
    ("TC 150 mg q7d x 4w + ", 20, "empty item"),
    ("TC 150 mg q7d x", 16, "duration"),
    ("TE 0 mg once", 1, "positive"),
    (": TE 100 mg once", 1, "label"),
    ("TE 100 mg q7d x 4w from -1w", 1, "negative"),
])
def test_text_errors_point_at_the_token(text: str, column: int, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_regimen(text)
    assert err.value.field == "text"
    assert f"column {column}" in err.value.problem
    assert words in err.value.problem


def test_empty_text() -> None:
    with pytest.raises(InputError) as err:
        parse_regimen("  ")
    assert err.value.field == "text"


def test_count_and_duration_units() -> None:
    r = parse_regimen("TE 100 mg q7d x 10")
    assert len(r.boluses()) == 10
    assert r.phases[0].end == 10 * WEEK
    assert parse_regimen("TE 100 mg q7d x 10 w").boluses() == r.boluses()
    assert len(parse_regimen("hCG 1000 IU 3x/w x 7").boluses()) == 7


# --- rendering --------------------------------------------------------------------------------

def test_render_round_trip_of_the_examples() -> None:
    for name in ("post_trt_recovery", "gonadorelin_serm_ai", "gnrh_pump", "hcg_during_trt",
                 "hcg_serm", "trt_alone"):
        regimen = load_protocol(EXAMPLES / f"{name}.yaml").regimen
        same(parse_regimen(render_regimen(regimen)), regimen)


def test_render_is_readable() -> None:
    r = parse_regimen("TRT: TC 150 mg q7d x 52w; "
                      "then hCG 1500 IU 2x/w + clomiphene 25 mg qod x 16w")
    assert render_regimen(r) == (
        "TRT: testosterone_cypionate 150 mg im q7d x 52w; then "
        "hcg 1500 IU sc 2x/w mon,thu x 16w + clomiphene 25 mg oral qod x 16w; then observe 12w")


def test_render_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="empty"):
        render_regimen(Regimen(()))


DRUG_DOSES = ["TC 150 mg", "TE 250 mg im", "hCG 1500 IU", "clomiphene 25 mg", "anastrozole 0.5 mg",
              "gonadorelin 100 ug sc"]
SCHEDULES = ["qd", "qod", "q7d", "q3.5d", "2x/w", "3x/w", "2x/w tue,sat", "q12h", "weekly"]


@st.composite
def compact_texts(draw: st.DrawFn) -> str:
    phases_ = []
    for _ in range(draw(st.integers(1, 3))):
        items = []
        for _ in range(draw(st.integers(1, 3))):
            item = f"{draw(st.sampled_from(DRUG_DOSES))} {draw(st.sampled_from(SCHEDULES))}"
            if draw(st.booleans()):
                item += f" from {draw(st.integers(1, 3))}d"
            if draw(st.booleans()):
                item += f" x {draw(st.integers(1, 8))}w"
            items.append(item)
        items.append(f"clomiphene 12.5 mg qd x {draw(st.integers(1, 10))}w")
        phases_.append(" + ".join(items))
    return "; then ".join(phases_)


@settings(max_examples=60, deadline=None)
@given(text=compact_texts())
def test_render_round_trip_property(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        regimen = parse_regimen(text)
        again = parse_regimen(render_regimen(regimen))
    same(again, regimen)
    for ph in regimen.phases:  # no line runs past its phase
        for line in regimen.lines:
            if ph.start <= line.start < ph.end:
                assert line.end is not None
                assert line.end <= ph.end


@pytest.mark.skipif(not {"testosterone_undecanoate", "leuprolide"} <= set(default_catalog().drugs),
                    reason="drug catalog lacks testosterone_undecanoate or leuprolide")
def test_formulations_in_every_form() -> None:
    text = parse_regimen("testosterone_undecanoate 750 mg im castor_oil once x 4w; "
                         "then testosterone_undecanoate 750 mg im castor_oil once + "
                         "leuprolide 7.5 mg depot 1-month q1mo x 3")
    schema = regimen_from_schema_lines([
        {"drug": "testosterone_undecanoate", "dose": "750 mg", "route": "im",
         "formulation": "castor_oil", "start": "0 d"},
        {"drug": "testosterone_undecanoate", "dose": "750 mg", "route": "im", "start": "4 w"},
        {"drug": "leuprolide", "dose": "7.5 mg", "route": "depot", "formulation": "1-month",
         "every": "1 mo", "start": "4 w", "count": 3},
    ])
    assert text.boluses() == schema.boluses()
    assert {b.formulation for b in text.boluses()} == {"castor_oil", "1-month"}
    same(parse_regimen(render_regimen(schema)), schema)
    with pytest.raises(InputError) as err:
        parse_regimen("testosterone_undecanoate 750 mg im olive_oil once")
    assert err.value.field == "text"


def test_single_dose_phase_needs_a_length_before_the_next() -> None:
    with pytest.raises(InputError) as err:
        parse_regimen("TE 250 mg once; then TC 100 mg q7d x 4w")
    assert "single doses" in err.value.problem
    r = parse_regimen("TE 250 mg once x 2w; then TC 100 mg q7d x 4w")
    assert [b.time / WEEK for b in r.boluses()] == [0, 2, 3, 4, 5]
    last = parse_regimen("TC 100 mg q7d x 4w; then TE 250 mg once + TE 250 mg once from 1w")
    assert [b.time / WEEK for b in last.boluses()][-2:] == [4, 5]
    assert last.phases[-1].end == 5 * WEEK


def test_render_of_phases_with_gaps_and_early_ends() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        r = phases({"name": "Blast", "duration": "4 w", "drugs": [
                        {"drug": "TE", "dose": "500 mg"}]},
                   {"name": "Cruise", "start": "6 w", "duration": "12 w", "drugs": [
                       {"drug": "TE", "dose": "100 mg", "every": "7 d", "duration": "8 w"},
                       {"drug": "hcg", "dose": "500 IU", "every": "qod", "count": 10}]},
                   {"name": "PCT", "drugs": [
                       {"drug": "clomiphene", "every": "qd", "taper": [
                           {"dose": "50 mg", "for": "2 w"}, {"dose": "25 mg", "for": "3 w"}]}]},
                   follow_up="30 w")
        text = render_regimen(r)
        same(parse_regimen(text), r)
    assert "off 2w" in text
    assert "off 4w" in text
    schema = regimen_from_schema_lines([
        {"drug": "anastrozole", "dose": "1 mg", "every": "3.5 d", "start": "0 d",
         "duration": "12 w"},
        {"drug": "hcg", "dose": "250 IU", "every": "2 d", "start": "1 w", "count": 5}])
    same(parse_regimen(render_regimen(schema)), schema)

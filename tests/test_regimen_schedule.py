"""Schedule expansion: properties of RegimenLine.times(), weekday sets, tapers and pumps."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpgsim.errors import InputError
from hpgsim.regimen import MAX_EVENTS, Regimen, RegimenLine, parse_regimen, parse_schedule
from hpgsim.regimen.model import DAY, WEEK
from hpgsim.units import Dose

MG = Dose(1.0, "mass")
hours = st.integers(min_value=0, max_value=20_000).map(float)
positive_hours = st.integers(min_value=1, max_value=20_000).map(float)


def weekday_of(t: float, first_weekday: int) -> int:
    return (math.floor(t / DAY) + first_weekday) % 7


@given(start=hours, every=st.integers(1, 2_000).map(float), duration=positive_hours)
def test_interval_duration_gives_ceil_duration_over_every_doses(start: float, every: float,
                                                                duration: float) -> None:
    line = RegimenLine("clomiphene", MG, "oral", start=start, every=every, end=start + duration)
    times = line.times()
    assert len(times) == math.ceil(duration / every) == line.n_events()
    assert times == sorted(times)
    assert all(start <= t < start + duration for t in times)
    assert all(b - a == every for a, b in itertools.pairwise(times))
    assert times[0] == start


@given(start=hours, every=st.integers(1, 2_000).map(float), count=st.integers(1, 500),
       duration=st.none() | positive_hours)
def test_count_is_an_upper_bound_and_duration_cuts_it(start: float, every: float, count: int,
                                                      duration: float | None) -> None:
    end = None if duration is None else start + duration
    line = RegimenLine("clomiphene", MG, "oral", start=start, every=every, count=count, end=end)
    times = line.times()
    expected = count if duration is None else min(count, math.ceil(duration / every))
    assert len(times) == expected == line.n_events()
    assert times == [start + k * every for k in range(expected)]


def test_dose_falling_on_end_by_rounding_is_excluded() -> None:
    # 0.1 * 3 is 0.30000000000000004 in floats; the dose at 0.3 h must still be out
    line = RegimenLine("clomiphene", MG, "oral", start=0.0, every=0.1, end=0.3)
    assert len(line.times()) == 3


@settings(max_examples=200)
@given(days=st.sets(st.integers(0, 6), min_size=1), first=st.integers(0, 6),
       start=st.integers(0, 2_000).map(lambda h: h * 0.5), duration=positive_hours,
       count=st.none() | st.integers(1, 300))
def test_weekday_lines_hit_exactly_the_chosen_weekdays(days: set[int], first: int, start: float,
                                                       duration: float, count: int | None) -> None:
    line = RegimenLine("hcg", Dose(1500.0, "activity"), "sc", start=start, end=start + duration,
                       weekdays=tuple(sorted(days)), first_weekday=first, count=count)
    times = line.times()
    assert times == sorted(times)
    assert len(times) == line.n_events()
    assert all(start <= t < start + duration for t in times)
    assert all(weekday_of(t, first) in days for t in times)
    assert all((t - start) % DAY == 0.0 for t in times)  # at the time of day of start
    # complete: every matching day in range has its dose (up to count)
    candidates = [start + k * DAY for k in range(math.ceil(duration / DAY) + 1)
                  if start + k * DAY < start + duration
                  and weekday_of(start + k * DAY, first) in days]
    assert times == candidates[:count]


@given(weeks=st.integers(1, 104), n=st.sampled_from([2, 3]))
def test_nx_per_week_from_a_monday_gives_n_doses_each_week(weeks: int, n: int) -> None:
    sched = parse_schedule(f"{n}x/w")
    line = RegimenLine("hcg", Dose(1500.0, "activity"), "sc", start=52 * WEEK,
                       end=(52 + weeks) * WEEK, weekdays=sched.weekdays)
    times = line.times()
    assert len(times) == n * weeks
    names = {0: "mon", 2: "wed", 3: "thu", 4: "fri"}
    expected = {"mon", "thu"} if n == 2 else {"mon", "wed", "fri"}
    assert {names[weekday_of(t, 0)] for t in times} == expected


@pytest.mark.parametrize(("every", "hours_"), [
    ("qd", 24.0), ("daily", 24.0), ("q1d", 24.0), ("qod", 48.0), ("eod", 48.0), ("EOD", 48.0),
    ("weekly", 168.0), ("qw", 168.0), ("q7d", 168.0), ("q3.5d", 84.0), ("q12h", 12.0),
    ("q2w", 336.0), ("q90min", 1.5), ("7 d", 168.0), ("3.5 d", 84.0), ("1 mo", 730.5),
    ("bid", 12.0),
])
def test_every_forms(every: str, hours_: float) -> None:
    assert parse_schedule(every).every == hours_


@pytest.mark.parametrize(("every", "days", "expected"), [
    ("2x/w", None, (0, 3)), ("3x/w", None, (0, 2, 4)), ("2x/week", ["tue", "Friday"], (1, 4)),
    (None, ["sun", "wed"], (2, 6)), ("3X/W", "mon,tue,sat", (0, 1, 5)),
])
def test_weekday_forms(every: str | None, days: list[str] | str | None,
                       expected: tuple[int, ...]) -> None:
    assert parse_schedule(every, days=days).weekdays == expected


def test_single_and_pulse() -> None:
    assert parse_schedule(None).is_single
    assert parse_schedule("once").is_single
    assert parse_schedule("pulse", pulse_interval="90 min").pulse_interval == 1.5


@pytest.mark.parametrize(("every", "days", "pulse", "field"), [
    ("2x/w", ["mon"], None, "days"), ("pulse", None, None, "pulse_interval"),
    ("7 d", None, "90 min", "pulse_interval"), ("0 d", None, None, "every"),
    ("-7 d", None, None, "every"), ("7", None, None, "every"), ("7 d", ["mon"], None, "days"),
    ("2x/w", ["mon", "mon"], None, "days"), (None, ["mo"], None, "days[0]"),
])
def test_schedule_errors(every: str | None, days: list[str] | None, pulse: str | None,
                         field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_schedule(every, days=days, pulse_interval=pulse, field="line")
    assert err.value.field == f"line.{field}"


def test_pump_line_is_a_train_not_boluses() -> None:
    line = RegimenLine("gonadorelin", Dose(0.01, "mass"), "sc", start=0.0, end=24 * 730.5,
                       pulse_interval=1.5)
    regimen = Regimen((line,))
    assert regimen.boluses() == []
    (pump,) = regimen.pumps()
    assert (pump.start, pump.end, pump.interval, pump.amount) == (0.0, 17532.0, 1.5, 0.01)
    counted = RegimenLine("gonadorelin", Dose(0.01, "mass"), "sc", count=16, pulse_interval=1.5)
    assert counted.pump().end == 24.0


@given(n_steps=st.integers(2, 4), step_weeks=st.integers(1, 8), every_days=st.integers(1, 3))
def test_taper_steps_are_consecutive(n_steps: int, step_weeks: int, every_days: int) -> None:
    doses = "/".join(str(50 - 10 * i) for i in range(n_steps))
    regimen = parse_regimen(f"clomiphene {doses} mg q{every_days}d step {step_weeks}w")
    lines = regimen.lines
    assert len(lines) == n_steps
    assert lines[0].start == 0.0
    assert lines[-1].end == n_steps * step_weeks * WEEK
    for a, b in itertools.pairwise(lines):
        assert a.end == b.start
    per_step = math.ceil(step_weeks * 7 / every_days)
    amounts = [b.amount for b in regimen.boluses()]
    assert amounts == [50.0 - 10 * i for i in range(n_steps) for _ in range(per_step)]


def test_structural_errors() -> None:
    cases = [
        ({"every": 24.0}, "duration"),  # a repeated dose needs an end
        ({"every": 0.0, "end": 10.0}, "every"),
        ({"every": 24.0, "end": 10.0, "start": 20.0}, "duration"),
        ({"start": -1.0}, "start"),
        ({"every": 24.0, "count": 0}, "count"),
        ({"weekdays": (), "end": 100.0}, "days"),
        ({"weekdays": (7,), "end": 100.0}, "days"),
        ({"every": 24.0, "weekdays": (0,), "end": 100.0}, "every"),
        ({"every": 1 / 60, "end": 52 * WEEK}, "every"),  # > MAX_EVENTS
        ({"every": math.nan, "end": 10.0}, "every"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InputError) as err:
            RegimenLine("clomiphene", MG, "oral", **kwargs)  # type: ignore[arg-type]
        assert err.value.field == field, kwargs


def test_regimen_total_events_limit() -> None:
    line = RegimenLine("clomiphene", MG, "oral", every=0.1, count=MAX_EVENTS // 2 + 1)
    with pytest.raises(InputError) as err:
        Regimen((line, line))
    assert err.value.field == "regimen"

"""Dosing schedules: the words and intervals people write, turned into one :class:`Schedule`.

Accepted ``every`` values (case-insensitive):

- an interval ``"<number> <unit>"`` (``"7 d"``, ``"3.5 d"``, ``"12 h"``, ``"1 mo"``);
- ``qd``/``daily``/``q1d`` (24 h), ``bid`` (12 h), ``tid`` (8 h), ``qod``/``eod`` (48 h),
  ``weekly``/``qw`` (7 d), ``qN<unit>`` with unit ``min``, ``h``, ``d``, ``w`` or ``mo``
  (``q7d``, ``q12h``, ``q3.5d``, ``q2w``);
- ``Nx/w`` (also ``Nx/wk``, ``Nx/week``), N from 1 to 7: N doses a week on fixed weekdays,
  by default those of ``DEFAULT_DAYS`` (2x/w: mon, thu; 3x/w: mon, wed, fri), or the given days;
- ``once``: a single dose;
- ``pulse``: a pump, with the pulse interval given separately (``pulse_interval: 90 min``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hpgsim.errors import InputError
from hpgsim.regimen.model import WEEKDAYS
from hpgsim.units import HOURS_PER, parse_time

DEFAULT_DAYS: dict[int, tuple[int, ...]] = {
    1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4),
    6: (0, 1, 2, 3, 4, 5), 7: (0, 1, 2, 3, 4, 5, 6),
}
NAMED_INTERVALS: dict[str, float] = {  # hours
    "qd": 24.0, "daily": 24.0, "od": 24.0, "bid": 12.0, "tid": 8.0,
    "qod": 48.0, "eod": 48.0, "weekly": 168.0, "qw": 168.0,
}
EVERY_FORMS = ('"7 d", "12 h", qd, daily, bid, qod, eod, qNd/qNh/qNw (e.g. q7d, q3.5d), weekly, '
               "2x/w, 3x/w, once, pulse")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_Q = re.compile(r"^q\s*(\d+(?:\.\d*)?|\.\d+)\s*(min|h|d|w|mo)$")
_PER_WEEK = re.compile(r"^([1-7])\s*x\s*/\s*(?:w|wk|week)$")


@dataclass(frozen=True)
class Schedule:
    """When doses fall, before placement in time.

    Exactly one of ``every`` (h), ``weekdays`` (0 = Monday) or ``pulse_interval`` (h) is set,
    or none of them for a single dose.
    """

    every: float | None = None
    weekdays: tuple[int, ...] | None = None
    pulse_interval: float | None = None

    @property
    def is_single(self) -> bool:
        return self.every is None and self.weekdays is None and self.pulse_interval is None


ONCE = Schedule()


def parse_weekday(text: str, field: str) -> int:
    """``"mon"`` or ``"Monday"`` -> 0 ... ``"sun"`` -> 6 (case-insensitive)."""
    key = text.strip().lower() if isinstance(text, str) else ""
    for i, short in enumerate(WEEKDAYS):
        if key in (short, _FULL_NAMES[i]):
            return i
    raise InputError(field, text, "not a weekday", f"use one of {', '.join(WEEKDAYS)}")


def parse_days(days: str | Sequence[str], field: str = "days") -> tuple[int, ...]:
    """A list of weekday names (or ``"mon,thu"``) -> sorted weekday numbers, no duplicates."""
    items = days.split(",") if isinstance(days, str) else list(days)
    out = sorted({parse_weekday(d, f"{field}[{i}]") for i, d in enumerate(items)})
    if not out or len(out) != len(items):
        raise InputError(field, days, "weekdays must be distinct and at least one",
                         "give e.g. [mon, thu]")
    return tuple(out)


def parse_interval(text: str | float, field: str) -> float:
    """An interval (h) from ``"7 d"``, ``q7d``, ``qd``, ``qod``, ``weekly``...; must be positive."""
    key = text.strip().lower() if isinstance(text, str) else ""
    m = _Q.match(key)
    if key in NAMED_INTERVALS:
        hours = NAMED_INTERVALS[key]
    elif m:
        hours = float(m.group(1)) * HOURS_PER[m.group(2)]
    else:
        try:
            hours = parse_time(text, field)
        except InputError as err:
            raise InputError(field, text, err.problem, f"write one of {EVERY_FORMS}") from None
    if not hours > 0.0:
        raise InputError(field, text, "an interval must be positive", 'give e.g. "7 d"')
    return hours


def parse_schedule(every: str | float | None, *, days: str | Sequence[str] | None = None,
                   pulse_interval: str | float | None = None, field: str = "") -> Schedule:
    """Build a :class:`Schedule` from the ``every``, ``days`` and ``pulse_interval`` fields.

    ``field`` is the dotted path of the enclosing line (errors name ``<field>.every`` etc.).
    """
    def at(key: str) -> str:
        return f"{field}.{key}" if field else key

    key = every.strip().lower() if isinstance(every, str) else None
    if pulse_interval is not None and key != "pulse":
        raise InputError(at("pulse_interval"), pulse_interval, "pulse_interval needs every: pulse",
                         "write every: pulse, or remove pulse_interval")
    if key == "pulse":
        if days is not None:
            raise InputError(at("days"), days, "a pump has no weekdays", "remove days")
        if pulse_interval is None:
            raise InputError(at("pulse_interval"), None, "every: pulse needs a pulse interval",
                             'add pulse_interval: 90 min')
        return Schedule(pulse_interval=parse_interval(pulse_interval, at("pulse_interval")))
    per_week = _PER_WEEK.match(key) if key is not None else None
    if per_week or (every is None and days is not None):
        n = int(per_week.group(1)) if per_week else None
        weekdays = parse_days(days, at("days")) if days is not None else DEFAULT_DAYS[n or 1]
        if n is not None and len(weekdays) != n:
            raise InputError(at("days"), days, f"{n}x/w needs {n} weekdays",
                             f"give {n} weekdays, or change every")
        return Schedule(weekdays=weekdays)
    if days is not None:
        raise InputError(at("days"), days, f"days go with every: Nx/w, not {every!r}",
                         "write every: 2x/w with days, or remove days")
    if every is None or key == "once":
        return ONCE
    return Schedule(every=parse_interval(every, at("every")))

"""Regimen value objects and their expansion into dose events.

Times are hours from the start of the scenario (time 0; the subject is at its own steady state
before it). Scenario day ``d`` covers hours ``[24 d, 24 d + 24)``; day 0 is a Monday unless a
line says otherwise (``first_weekday``), so weekday schedules ("2x/week on Mon and Thu") are
well defined.

The objects check their own structure (positive intervals, an end for every repeated line, at
most ``MAX_EVENTS`` doses) and raise :class:`~hpgsim.errors.InputError`; whether a drug, route
or dose makes sense is checked against the catalog by :mod:`hpgsim.regimen.checks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hpgsim.drugs.pk import Bolus, PumpTrain
from hpgsim.errors import InputError
from hpgsim.units import HOURS_PER, Dose, format_time

WEEK = HOURS_PER["w"]
DAY = HOURS_PER["d"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EVENTS = 200_000  # a regimen expanding to more doses than this is a mistake, not a protocol
_EPS = 1e-9  # relative slack (in intervals) so that a dose falling on ``end`` by rounding is out


def _finite(name: str, value: float | None, fix: str) -> None:
    if value is not None and not math.isfinite(value):
        raise InputError(name, value, "not a finite number", fix)


@dataclass(frozen=True)
class RegimenLine:
    """One drug given on one schedule.

    Doses fall at ``start + k * every`` (h) while ``k < count`` and the time is before ``end``
    (schema semantics). ``every=None`` is a single dose. ``weekdays`` (0 = Monday) replaces
    ``every`` by doses on those weekdays each week at the time of day of ``start``;
    ``first_weekday`` is the weekday of scenario day 0. ``pulse_interval`` (h) makes the line a
    pump (pulsatile delivery of ``dose`` per pulse, simulated in the mean field) running from
    ``start`` to ``end`` (or for ``count`` pulses). ``drug``, ``route`` and ``formulation`` are
    catalog names.
    """

    drug: str
    dose: Dose
    route: str
    start: float = 0.0
    every: float | None = None
    end: float | None = None
    count: int | None = None
    weekdays: tuple[int, ...] | None = None
    pulse_interval: float | None = None
    formulation: str | None = None
    first_weekday: int = 0

    def __post_init__(self) -> None:
        _finite("start", self.start, 'give a time such as "0 d"')
        _finite("every", self.every, 'give an interval such as "7 d"')
        _finite("duration", self.end, 'give a duration such as "12 w"')
        _finite("pulse_interval", self.pulse_interval, 'give an interval such as "90 min"')
        if not self.dose.amount > 0.0:
            raise InputError("dose", str(self.dose), "a dose must be positive",
                             "give an amount above zero")
        if self.start < 0.0:
            raise InputError("start", format_time(self.start), "a dose before time 0",
                             "start at 0 d or later (the subject is at steady state before 0)")
        if sum(v is not None for v in (self.every, self.weekdays, self.pulse_interval)) > 1:
            raise InputError("every", self.describe(), "interval, weekdays and pump pulses exclude "
                             "each other", "give one schedule: an interval, weekdays or a pump")
        for name, value in (("every", self.every), ("pulse_interval", self.pulse_interval)):
            if value is not None and not value > 0.0:
                raise InputError(name, format_time(value), "an interval must be positive",
                                 'give e.g. "7 d" or "90 min"')
        if self.weekdays is not None and (
                not self.weekdays or any(d not in range(7) for d in self.weekdays)):
            raise InputError("days", self.weekdays, "weekdays must be 0 (Monday) to 6 (Sunday)",
                             "give at least one weekday, e.g. mon, thu")
        if self.first_weekday not in range(7):
            raise InputError("start_weekday", self.first_weekday, "not a weekday",
                             "give 0 (Monday) to 6 (Sunday)")
        if self.count is not None and (isinstance(self.count, bool) or self.count < 1):
            raise InputError("count", self.count, "count must be a whole number of doses >= 1",
                             "give count: 1 or more, or use duration")
        if self.repeats and self.end is None and self.count is None:
            raise InputError("duration", None, "a repeated dose needs an end",
                             "give a duration or a count")
        if self.repeats and self.end is not None and self.end <= self.start:
            raise InputError("duration", format_time(self.end - self.start),
                             "the line ends before its first dose", "give a positive duration")
        n = self.n_events()
        if n > MAX_EVENTS:
            raise InputError("every", self.describe(), f"expands to {n} doses (limit {MAX_EVENTS})",
                             "use a longer interval or a shorter duration")

    @property
    def repeats(self) -> bool:
        """Whether the line gives more than a single dose (interval, weekdays or pump)."""
        return any(v is not None for v in (self.every, self.weekdays, self.pulse_interval))

    @property
    def is_pump(self) -> bool:
        return self.pulse_interval is not None

    def _weekday_days(self) -> tuple[int, float, int]:
        """First scenario day, time of day (h) and number of candidate days of a weekday line."""
        day0 = math.floor(self.start / DAY)
        offset = self.start - day0 * DAY
        if self.end is None:
            return day0, offset, 7 * (self.count or 0)  # count doses need at most 7*count days
        last = math.ceil((self.end - offset) / DAY - _EPS) - 1  # last day whose dose is < end
        return day0, offset, max(last - day0 + 1, 0)

    def n_events(self) -> int:
        """Number of discrete doses (0 for a pump line), computed without expanding."""
        if self.is_pump:
            return 0
        limit = self.count if self.count is not None else math.inf
        if self.weekdays is not None:
            day0, _, n_days = self._weekday_days()
            per_week = sum(1 for d in range(7) if d in self.weekdays)
            rest = sum(1 for r in range(n_days % 7)
                       if (day0 + r + self.first_weekday) % 7 in self.weekdays)
            return int(min(limit, n_days // 7 * per_week + rest))
        if self.every is None:
            return 1 if self.end is None or self.start < self.end else 0
        if self.end is None:
            return int(limit)
        return int(min(limit, max(math.ceil((self.end - self.start) / self.every - _EPS), 0)))

    def times(self) -> list[float]:
        """Dose times (h) of a non-pump line, ascending."""
        if self.is_pump:
            raise ValueError("a pump line has no discrete dose times; use pump()")
        n = self.n_events()
        if self.weekdays is not None:
            day, offset, _ = self._weekday_days()
            out: list[float] = []
            while len(out) < n:
                if (day + self.first_weekday) % 7 in self.weekdays:
                    out.append(day * DAY + offset)
                day += 1
            return out
        if self.every is None:
            return [self.start] * n
        return [self.start + k * self.every for k in range(n)]

    def pump(self) -> PumpTrain:
        """The mean-field pump train of a pulse line."""
        if self.pulse_interval is None:
            raise ValueError("not a pump line")
        end = self.start + (self.count or 0) * self.pulse_interval
        if self.end is not None:
            end = self.end if self.count is None else min(end, self.end)
        return PumpTrain(self.start, end, self.pulse_interval, self.drug, self.route,
                         self.dose.amount)

    def describe(self) -> str:
        """One line for people, e.g. ``testosterone_cypionate 150 mg im every 1 w``."""
        if self.pulse_interval is not None:
            sched = f"pulse every {format_time(self.pulse_interval)}"
        elif self.weekdays is not None:
            sched = "on " + ",".join(WEEKDAYS[d] for d in sorted(set(self.weekdays)))
        elif self.every is not None:
            sched = f"every {format_time(self.every)}"
        else:
            sched = "once"
        form = f" ({self.formulation})" if self.formulation else ""
        return f"{self.drug} {self.dose} {self.route}{form} {sched}"


@dataclass(frozen=True)
class Phase:
    """A named period of a protocol, [start, end) in hours."""

    name: str
    start: float
    end: float


@dataclass(frozen=True)
class Regimen:
    """An immutable protocol: regimen lines, named phases and the simulated span (h)."""

    lines: tuple[RegimenLine, ...]
    phases: tuple[Phase, ...] = ()
    span: float | None = None  # end of simulation; default: treatment end + 12 w
    name: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        total = sum(ln.n_events() for ln in self.lines)
        if total > MAX_EVENTS:
            raise InputError("regimen", total, f"expands to {total} doses (limit {MAX_EVENTS})",
                             "use longer intervals or shorter durations")
        if self.span is not None and not (math.isfinite(self.span) and self.span > 0.0):
            raise InputError("follow_up", self.span, "the simulated span must be positive",
                             'give a follow-up such as "12 w"')

    def boluses(self) -> list[Bolus]:
        """Every discrete administration, sorted by time (ties keep line order)."""
        out = [Bolus(t, ln.drug, ln.route, ln.formulation, ln.dose.amount)
               for ln in self.lines if not ln.is_pump for t in ln.times()]
        return sorted(out, key=lambda b: b.time)

    def pumps(self) -> list[PumpTrain]:
        """The pump trains of the pulse lines, in line order."""
        return [ln.pump() for ln in self.lines if ln.is_pump]

    @property
    def treatment_end(self) -> float:
        """End of the last phase, dosing line or pump (h); 0 for an empty regimen."""
        last = [ph.end for ph in self.phases] + [p.end for p in self.pumps()]
        for ln in self.lines:
            if ln.is_pump:
                continue
            times = ln.times()
            last += times[-1:]
            if ln.end is not None and ln.count is None and times:
                last.append(ln.end)
        return max(last, default=0.0)

    @property
    def end(self) -> float:
        """End of the simulated span (h): ``span``, else the treatment end plus 12 weeks."""
        if self.span is not None:
            return self.span
        return self.treatment_end + 12 * WEEK

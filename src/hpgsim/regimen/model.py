"""Regimen value objects and their expansion into dose events.

Times are hours from the start of the scenario (time 0; the subject is at its own steady state
before it). Day 0 is a Monday unless a protocol says otherwise, so weekday schedules
("2x/week on Mon and Thu") are well defined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hpgsim.drugs.pk import Bolus, PumpTrain
from hpgsim.units import HOURS_PER, Dose, format_time

WEEK = HOURS_PER["w"]
DAY = HOURS_PER["d"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EVENTS = 200_000  # a regimen expanding to more doses than this is a mistake, not a protocol


@dataclass(frozen=True)
class RegimenLine:
    """One drug given on one schedule.

    Doses fall at ``start + k * every`` while ``k < count`` and the time is before ``end``
    (schema semantics). ``every=None`` is a single dose. ``weekdays`` (0 = Monday) replaces
    ``every`` by doses on those weekdays each week at the time of day of ``start``.
    ``pulse_interval`` makes the line a pump (pulsatile delivery, simulated in the mean field).
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

    def times(self) -> list[float]:
        """Dose times (h) of a non-pump line."""
        if self.pulse_interval is not None:
            raise ValueError("a pump line has no discrete dose times; use pump()")
        limit = self.count if self.count is not None else MAX_EVENTS + 1
        end = self.end if self.end is not None else math.inf
        if self.weekdays is not None:
            day0 = math.floor(self.start / DAY)
            offset = self.start - day0 * DAY
            out: list[float] = []
            day = day0
            while len(out) < limit:
                t = day * DAY + offset
                if t >= end:
                    break
                if day % 7 in self.weekdays:
                    out.append(t)
                day += 1
            return out
        if self.every is None:
            return [self.start] if self.start < end else []
        n = limit if math.isinf(end) else min(limit, math.ceil((end - self.start) / self.every - 1e-9))
        return [self.start + k * self.every for k in range(max(n, 0))]

    def pump(self) -> PumpTrain:
        """The mean-field pump train of a pulse line."""
        if self.pulse_interval is None:
            raise ValueError("not a pump line")
        end = self.end if self.end is not None else self.start + (self.count or 1) * self.pulse_interval
        return PumpTrain(self.start, end, self.pulse_interval, self.drug, self.route, self.dose.amount)

    def describe(self) -> str:
        sched = ("once" if self.every is None and self.weekdays is None and self.pulse_interval is None
                 else f"pulse every {format_time(self.pulse_interval)}" if self.pulse_interval
                 else "on " + ",".join(WEEKDAYS[d] for d in self.weekdays) if self.weekdays
                 else f"every {format_time(self.every or 0.0)}")
        return f"{self.drug} {self.dose} {self.route} {sched}"


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
    span: float | None = None  # end of simulation; default: last dose/phase end + 12 w
    name: str = ""
    notes: tuple[str, ...] = field(default=())

    def boluses(self) -> list[Bolus]:
        """Every discrete administration, sorted by time."""
        out = [Bolus(t, ln.drug, ln.route, ln.formulation, ln.dose.amount)
               for ln in self.lines if ln.pulse_interval is None for t in ln.times()]
        return sorted(out, key=lambda b: b.time)

    def pumps(self) -> list[PumpTrain]:
        return [ln.pump() for ln in self.lines if ln.pulse_interval is not None]

    @property
    def end(self) -> float:
        """End of the simulated span (h)."""
        if self.span is not None:
            return self.span
        last = [b.time for b in self.boluses()] + [p.end for p in self.pumps()]
        last += [ph.end for ph in self.phases]
        return max(last, default=0.0) + 12 * WEEK

"""Placing drug items and phases in time: the semantics shared by the protocol file and the
compact text form.

- Phases run one after the other unless a phase gives ``start``; explicitly overlapping phases
  are an error naming both.
- A phase lasts ``duration`` when given, else as long as its longest item (``start`` offset plus
  the item's duration, dose count or taper; a single dose lasts only with a ``duration``).
  Items without a duration of their own run to the phase end; no item ever runs past it.
- A phase where nothing has a duration is an error, unless it holds only single doses and no
  phase follows right after it: it then lasts until its last dose.
- An item with ``count`` lasts until its next dose would be due (``count * every``).
- A taper is a sequence of doses over consecutive steps on one schedule; each step starts its
  schedule afresh at the step start and becomes one :class:`RegimenLine`.

All times are hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hpgsim.errors import InputError
from hpgsim.regimen.checks import check_dose, resolve
from hpgsim.regimen.model import Phase, Regimen, RegimenLine
from hpgsim.regimen.schedule import Schedule
from hpgsim.units import Dose, format_time


@dataclass(frozen=True)
class Loc:
    """Where a phase or item was written, for error messages.

    ``path`` is a dotted field path (``phases[1].drugs[0]``) to which keys are appended. With a
    ``note`` (the compact text form), errors keep ``path`` as the field and start the problem
    with the note (``column 12 ('hCG 1500 IU 2x/w')``).
    """

    path: str
    note: str = ""

    def error(self, key: str, value: object, problem: str, fix: str) -> InputError:
        if self.note:
            return InputError(self.path, value, f"{self.note}: {problem}", fix)
        return InputError(f"{self.path}.{key}" if self.path else key, value, problem, fix)

    def wrap(self, err: InputError) -> InputError:
        """Re-anchor an error whose field is relative to this place (``dose``, ``every``...)."""
        if self.note:
            return InputError(self.path, err.value, f"{self.note}: {err.problem}", err.fix)
        return err.at(self.path) if self.path else err


@dataclass(frozen=True)
class Step:
    """One step of a taper: ``dose`` for ``length`` hours."""

    dose: Dose
    length: float


@dataclass(frozen=True)
class Item:
    """One drug line of a phase, resolved to catalog names, before placement in time (h)."""

    drug: str
    route: str
    formulation: str | None
    schedule: Schedule
    loc: Loc
    dose: Dose | None = None  # None for a taper
    taper: tuple[Step, ...] = ()
    offset: float = 0.0  # start within the phase
    duration: float | None = None
    count: int | None = None


@dataclass(frozen=True)
class PhasePlan:
    """A phase before placement: its items, and optionally an explicit start and duration (h)."""

    name: str
    items: tuple[Item, ...]
    loc: Loc
    start: float | None = None
    duration: float | None = None


def _positive(loc: Loc, key: str, value: float | None) -> None:
    if value is not None and not value > 0.0:
        raise loc.error(key, format_time(value), f"{key} must be positive", 'give e.g. "12 w"')


def make_item(drug: str, schedule: Schedule, loc: Loc, *, dose: Dose | None = None,
              taper: Sequence[Step] = (), route: str | None = None,
              formulation: str | None = None, offset: float = 0.0,
              duration: float | None = None, count: int | None = None) -> Item:
    """Resolve and check one drug item (catalog names, dose dimension and size, fields that
    exclude each other). Errors are anchored at ``loc``."""
    try:
        product = resolve(drug, route, formulation)
    except InputError as err:
        raise loc.wrap(err) from None
    if (dose is None) == (not taper):
        raise loc.error("dose", dose, "give either a dose or a taper",
                        "write dose: 50 mg, or taper: [...]")
    if duration is not None and count is not None:
        raise loc.error("count", count, "duration and count exclude each other", "give one of them")
    if taper and (duration is not None or count is not None):
        raise loc.error("duration" if duration is not None else "count", duration or count,
                        "a taper lasts as long as its steps",
                        "remove duration/count; set each step's length")
    if taper and schedule.is_single:
        raise loc.error("every", None, "a taper needs a repeating schedule", "add e.g. every: 1 d")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise loc.error("count", count, "count must be a whole number of doses >= 1",
                        "give e.g. count: 12")
    if count is not None and count > 1 and schedule.is_single:
        raise loc.error("count", count, "several doses need a schedule",
                        "add every (e.g. every: 7 d)")
    if offset < 0.0:
        raise loc.error("start", format_time(offset), "start must not be negative",
                        'give e.g. "0 d"')
    _positive(loc, "duration", duration)
    for i, step in enumerate(taper):
        _positive(loc, f"taper[{i}].for", step.length)
    try:
        for i, step in enumerate(taper):
            check_dose(product.drug, step.dose, f"taper[{i}].dose", product.route,
                           product.formulation)
        if dose is not None:
            check_dose(product.drug, dose, "dose", product.route, product.formulation)
    except InputError as err:
        raise loc.wrap(err) from None
    if count == 1 and schedule.is_single:
        count = None  # one dose of a single-dose line: the schema allows count: 1
    return Item(product.drug.name, product.route, product.formulation, schedule, loc, dose,
                tuple(taper), offset, duration, count)


def _line(item: Item, dose: Dose, start: float, end: float | None, count: int | None,
          first_weekday: int) -> RegimenLine:
    s = item.schedule
    try:
        return RegimenLine(item.drug, dose, item.route, start=start, every=s.every, end=end,
                           count=count, weekdays=s.weekdays, pulse_interval=s.pulse_interval,
                           formulation=item.formulation, first_weekday=first_weekday)
    except InputError as err:
        raise item.loc.wrap(err) from None


def item_length(item: Item, start: float, first_weekday: int) -> float | None:
    """How long an item lasts from its own start (h), or None when it takes the phase's length.

    ``start`` is the item's absolute start (weekday schedules depend on it).
    """
    s = item.schedule
    if item.taper:
        return sum(step.length for step in item.taper)
    if item.duration is not None or item.count is None:
        return item.duration
    if s.every is not None:
        return item.count * s.every
    if s.pulse_interval is not None:
        return item.count * s.pulse_interval
    assert item.dose is not None  # a dose count on a single-dose schedule is refused by make_item
    nxt = _line(item, item.dose, start, None, item.count + 1, first_weekday).times()[-1]
    return nxt - start


def place(item: Item, start: float, stop: float | None, first_weekday: int) -> list[RegimenLine]:
    """The regimen lines of ``item`` placed at phase start ``start`` (h), clipped at ``stop``."""
    t = start + item.offset
    if stop is not None and t >= stop:
        raise item.loc.error("start", format_time(item.offset), "starts after its phase ends",
                             f"start before {format_time(stop - start)} into the phase")
    if item.taper:
        lines = []
        for step in item.taper:
            if stop is not None and t >= stop:
                break
            step_end = t + step.length if stop is None else min(t + step.length, stop)
            lines.append(_line(item, step.dose, t, step_end, None, first_weekday))
            t += step.length
        return lines
    assert item.dose is not None  # make_item guarantees a dose or a taper
    if item.schedule.is_single:
        return [_line(item, item.dose, t, None, None, first_weekday)]
    own_end = None if item.duration is None else t + item.duration
    ends = [e for e in (own_end, stop) if e is not None]
    return [_line(item, item.dose, t, min(ends, default=None), item.count, first_weekday)]


def _phase_duration(plan: PhasePlan, start: float, first_weekday: int) -> float | None:
    """The phase's explicit or derived duration (h); None for a phase of single doses only."""
    if plan.duration is not None:
        _positive(plan.loc, "duration", plan.duration)
        return plan.duration
    if not plan.items:
        raise plan.loc.error("duration", None, "a phase without drugs needs a duration",
                             'give e.g. duration: 4 w ("off 4w" in the compact form)')
    ends = [item.offset + length for item in plan.items
            if (length := item_length(item, start + item.offset, first_weekday)) is not None]
    if ends:
        return max(ends)
    if not all(item.schedule.is_single for item in plan.items):
        raise plan.loc.error("duration", None,
                             "neither the phase nor any of its drugs has a duration",
                             "give the phase a duration, or a drug a duration or count "
                             '("x 12w" in the compact form)')
    return None


def assemble(plans: Sequence[PhasePlan], *, first_weekday: int = 0,
             follow_up: float | None = None, name: str = "") -> Regimen:
    """Place phases one after another (or at their explicit start) and build the Regimen.

    ``follow_up`` (h) sets the simulated span to the end of the last phase plus it.
    """
    placed: list[tuple[PhasePlan, float, float]] = []
    open_ended: set[int] = set()  # phases of single doses only: no clipping at their end
    cursor = 0.0
    for k, plan in enumerate(plans):
        start = cursor if plan.start is None else plan.start
        if start < 0.0:
            raise plan.loc.error("start", format_time(start), "a phase before time 0",
                                 'start at "0 d" or later')
        length = _phase_duration(plan, start, first_weekday)
        if length is None:
            if k + 1 < len(plans) and plans[k + 1].start is None:
                raise plan.loc.error("duration", None,
                                     "a phase of single doses needs a duration before the next",
                                     "give the phase a duration (in the compact form: "
                                     '"x 2w" on a dose)')
            open_ended.add(k)
            length = max(item.offset for item in plan.items)
        end = start + length
        for other, o_start, o_end in placed:
            if start < o_end and o_start < end:
                raise plan.loc.error(
                    "start", format_time(start),
                    f"phase {plan.name!r} ({format_time(start)} to {format_time(end)}) overlaps "
                    f"phase {other.name!r} ({format_time(o_start)} to {format_time(o_end)})",
                    f"start {plan.name!r} at {format_time(o_end)} or later, "
                    f"or shorten {other.name!r}")
        placed.append((plan, start, end))
        cursor = end
    lines = [line for k, (plan, start, end) in enumerate(placed) for item in plan.items
             for line in place(item, start, None if k in open_ended else end, first_weekday)]
    last = max((end for _, _, end in placed), default=0.0)
    span = None
    if follow_up is not None:
        _positive(Loc(""), "follow_up", follow_up)
        span = last + follow_up
    phases = tuple(Phase(plan.name, start, end) for plan, start, end in placed)
    return Regimen(tuple(lines), phases, span, name)


def with_follow_up(regimen: Regimen, follow_up: float) -> Regimen:
    """The same regimen simulated until ``follow_up`` (h) after its treatment end."""
    _positive(Loc(""), "follow_up", follow_up)
    return replace(regimen, span=regimen.treatment_end + follow_up)

"""The compact text form of a regimen, e.g.
``"TC 150 mg q7d x 52w; then hCG 1500 IU 2x/w + clomiphene 25 mg qod x 16w; then observe 52w"``.

Grammar (case-insensitive keywords; whitespace between a number and its unit is optional)::

    regimen  := phase { (";" ["then"] | "then") phase }
    phase    := [label ":"] ( item { "+" item } | "off" time | "observe" time )
    item     := drug dose [route] [formulation] schedule { modifier }
    dose     := number unit | number { "/" number } unit       (a taper: 50/25/12.5 mg)
    schedule := qd | daily | q1d | bid | tid | qod | eod | qN(min|h|d|w|mo) | weekly | qw
              | Nx/w [weekday{,weekday}] | once | pulse qN(min|h)
    modifier := "from" time        (start offset within the phase)
              | "x" time           (duration of this item)
              | "x" integer        (number of doses)
              | "step" time        (length of each taper step)

``off 4w`` is a drug-free phase; ``observe 52w`` (last only) simulates 52 weeks past the end of
the last phase. A single dose lasts no time: ``TE 500 mg once x 2w`` holds its phase open for
2 weeks, and a phase of single doses alone needs that unless it is the last. Phase semantics
(lengths, clipping, tapers) are those of :mod:`hpgsim.regimen.assemble`: a phase lasts as long
as its longest item and items without ``x`` take the phase's length. Day 0 is a Monday unless
``start_weekday`` says otherwise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hpgsim.drugs.catalog import default_catalog
from hpgsim.drugs.pk import Bolus
from hpgsim.errors import InputError
from hpgsim.regimen.assemble import Item, Loc, PhasePlan, Step, assemble, make_item
from hpgsim.regimen.checks import warn_weekly_totals
from hpgsim.regimen.model import WEEKDAYS, Phase, Regimen, RegimenLine
from hpgsim.regimen.schedule import (
    EVERY_FORMS,
    ONCE,
    Schedule,
    parse_interval,
    parse_schedule,
    parse_weekday,
)
from hpgsim.units import DOSE_UNITS, HOURS_PER, Dose, parse_dose, parse_time

_TOKEN = re.compile(r"[;+:]|[^\s;+:]+")
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_DOSE = re.compile(rf"^({_NUM}(?:/{_NUM})*)([a-zA-Zµμ]*)$")
_PER_WEEK = re.compile(r"^[1-7]x/(?:w|wk|week)$", re.IGNORECASE)
_MODIFIERS = "from <time>, x <duration>, x <number of doses>, step <time>"
FIELD = "text"


@dataclass(frozen=True)
class _Tok:
    text: str
    col: int  # 1-based column in the text

    @property
    def low(self) -> str:
        return self.text.lower()


def _error(tok: _Tok, problem: str, fix: str) -> InputError:
    return InputError(FIELD, tok.text, f"at column {tok.col}: {problem}", fix)


class _Cursor:
    """Tokens of one item or phase, read left to right."""

    def __init__(self, toks: list[_Tok], end: _Tok) -> None:
        self.toks = toks
        self.i = 0
        self.end = end  # stands for "end of item" in errors

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str, fix: str) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _error(self.end, f"expected {expected}, found the end of the item", fix)
        self.i += 1
        return tok

    def take_if(self, choices: set[str]) -> str | None:
        """Take the next token if its lower-case text is one of ``choices``."""
        tok = self.peek()
        if tok is None or tok.low not in choices:
            return None
        self.i += 1
        return tok.low


def _is_time_unit(tok: _Tok | None) -> bool:
    if tok is None or not tok.low.isalpha():
        return False
    try:
        parse_time(f"1 {tok.text}")
    except InputError:
        return False
    return True


def _time(cur: _Cursor, what: str) -> float:
    """A time written ``52w`` or ``52 w``."""
    fix = 'write a number and a unit, e.g. "16w", "90min", "6mo"'
    tok = cur.take(what, fix)
    text = tok.text
    if re.fullmatch(_NUM, tok.text) and _is_time_unit(cur.peek()):
        text = f"{tok.text} {cur.take(what, fix).text}"
    try:
        return parse_time(text, FIELD)
    except InputError as err:
        raise _error(tok, f"expected {what}: {err.problem}", fix) from None


def _doses(cur: _Cursor) -> list[tuple[str, str]]:
    """``150 mg`` / ``150mg`` / ``50/25/12.5 mg`` -> [(number, unit), ...]."""
    fix = 'write e.g. "150 mg", "10 ug", "1500 IU" or a taper "50/25/12.5 mg"'
    tok = cur.take("a dose", fix)
    m = _DOSE.match(tok.text)
    if m is None:
        raise _error(tok, "expected a dose", fix)
    unit = m.group(2)
    if not unit:
        unit = cur.take("a dose unit (mg, ug, IU)", fix).text
    if unit.lower() not in DOSE_UNITS:
        raise _error(tok, f"expected a dose unit (mg, ug, IU), got {unit!r}", fix)
    return [(n, unit) for n in m.group(1).split("/")]


def _schedule(cur: _Cursor) -> Schedule:
    fix = f"write one of {EVERY_FORMS}; a pump is written pulse q90min"
    tok = cur.take("a schedule", fix)
    try:
        if tok.low == "once":
            return ONCE
        if tok.low == "pulse":
            interval = cur.take("a pulse interval (e.g. q90min)", fix)
            return Schedule(pulse_interval=parse_interval(interval.text, FIELD))
        if _PER_WEEK.match(tok.text):
            nxt = cur.peek()
            days = None
            if nxt is not None and _is_weekday(nxt.text.split(",")[0]):
                days = cur.take("weekdays", fix).text
            return parse_schedule(tok.text, days=days)
        return Schedule(every=parse_interval(tok.text, FIELD))
    except InputError as err:
        raise _error(tok, f"expected a schedule: {err.problem}", fix) from None


def _is_weekday(text: str) -> bool:
    try:
        parse_weekday(text, FIELD)
    except InputError:
        return False
    return True


def _item(toks: list[_Tok], end: _Tok) -> Item:
    cur = _Cursor(toks, end)
    cat = default_catalog()
    routes = {r for d in cat.drugs.values() for r in d.routes}
    forms = {f.lower() for d in cat.drugs.values() for r in d.routes.values() for f in r if f}
    head = cur.take("a drug", "start each item with a drug name or alias")
    loc = Loc(FIELD, f"at column {head.col} ({' '.join(t.text for t in toks)!r})")
    doses = _doses(cur)
    route = cur.take_if(routes)
    form = cur.take_if(forms)
    schedule = _schedule(cur)
    offset, duration, count, step = 0.0, None, None, None
    while (tok := cur.peek()) is not None:
        cur.i += 1
        if tok.low == "from":
            offset = _time(cur, "a start offset after 'from'")
        elif tok.low == "step":
            step = _time(cur, "a step length after 'step'")
        elif tok.low == "x":
            nxt = cur.peek()
            after = cur.toks[cur.i + 1] if cur.i + 1 < len(cur.toks) else None
            if nxt is not None and nxt.text.isdigit() and not _is_time_unit(after):
                count = int(nxt.text)
                cur.i += 1
            else:
                duration = _time(cur, "a duration or a number of doses after 'x'")
        else:
            raise _error(tok, "unexpected word", f"after the schedule write {_MODIFIERS}; "
                         "join drugs with + and phases with ;")
    try:
        amounts = [parse_dose(f"{n} {u}") for n, u in doses]
    except InputError as err:
        raise loc.wrap(err) from None
    if len(amounts) > 1 and step is None:
        raise loc.error("step", None, "a taper needs a step length", "add e.g. step 2w")
    if len(amounts) == 1 and step is not None:
        raise loc.error("step", None, "step goes with a taper",
                        "write doses as 50/25/12.5 mg, or drop step")
    if step is not None:
        return make_item(head.text, schedule, loc, taper=[Step(a, step) for a in amounts],
                         route=route, formulation=form, offset=offset, duration=duration,
                         count=count)
    return make_item(head.text, schedule, loc, dose=amounts[0], route=route, formulation=form,
                     offset=offset, duration=duration, count=count)


def _split(toks: list[_Tok], sep: str) -> list[list[_Tok]]:
    parts: list[list[_Tok]] = [[]]
    for tok in toks:
        if tok.text == sep:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _phase(toks: list[_Tok], end: _Tok) -> PhasePlan | float:
    """A phase plan, or the follow-up time (h) of an ``observe`` phase. ``end`` marks its end."""
    label = ""
    colons = [i for i, t in enumerate(toks) if t.text == ":"]
    if colons:
        label = " ".join(t.text for t in toks[:colons[0]])
        if not label:
            raise _error(toks[colons[0]], "a phase label is missing before ':'",
                         'write e.g. "Recovery: hCG 1500 IU 2x/w x 16w"')
        toks = toks[colons[0] + 1:]
    if not toks:
        raise _error(end, "empty phase", "write at least one drug item, or off <time>")
    first = toks[0]
    if first.low in ("off", "observe"):
        cur = _Cursor(toks[1:], end)
        length = _time(cur, f"a time after {first.low!r}")
        if (extra := cur.peek()) is not None:
            raise _error(extra, "unexpected word",
                         f"write just {first.low} <time>, e.g. {first.low} 4w")
        if first.low == "observe":
            return length
        return PhasePlan(label or "off", (), Loc(FIELD, f"at column {first.col}"), duration=length)
    for i, tok in enumerate(toks):
        if tok.text == "+" and (i in (0, len(toks) - 1) or toks[i + 1].text == "+"):
            raise _error(tok, "empty item around '+'", "write a drug item on both sides of +")
    parts = _split(toks, "+")
    items = [_item(part, _Tok("", part[-1].col + len(part[-1].text))) for part in parts]
    name = label or " + ".join(part[0].text for part in parts)
    return PhasePlan(name, tuple(items), Loc(FIELD, f"phase at column {first.col}"))


def regimen_from_text(text: str, first_weekday: int = 0, name: str = "") -> Regimen:
    """Parse the compact form without the DoseWarning check (``parse_regimen`` adds it);
    ``first_weekday`` is the weekday of day 0 (0 = Monday)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(FIELD, text, "empty regimen text",
                         'write e.g. "TC 150 mg q7d x 52w; then hCG 1500 IU 2x/w x 16w"')
    toks = [_Tok(m.group(), m.start() + 1) for m in _TOKEN.finditer(text)]
    phases: list[tuple[list[_Tok], _Tok]] = []  # tokens of a phase, and the token ending it
    current: list[_Tok] = []
    for i, tok in enumerate(toks):
        if tok.text == ";" or (tok.low == "then" and (i == 0 or toks[i - 1].text != ";")):
            phases.append((current, tok))
            current = []
        elif tok.low != "then":
            current.append(tok)
    phases.append((current, _Tok("", len(text) + 1)))
    plans: list[PhasePlan] = []
    follow_up = None
    for part, end in phases:
        if follow_up is not None:
            raise _error(part[0] if part else end, "observe must be the last phase",
                         "move observe <time> to the end")
        plan = _phase(part, end)
        if isinstance(plan, float):
            follow_up = plan
        else:
            plans.append(plan)
    return assemble(plans, first_weekday=first_weekday, follow_up=follow_up, name=name)


def parse_regimen(text: str, *, start_weekday: str = "mon", name: str = "") -> Regimen:
    """Parse the compact text form into a :class:`Regimen` (times in hours).

    ``start_weekday`` names the weekday of day 0 (for ``2x/w mon,thu``). Errors are
    :class:`InputError` with field ``text``, pointing at the column and saying what was expected.
    A weekly total above clinical use gives a :class:`DoseWarning`.
    """
    regimen = regimen_from_text(text, parse_weekday(start_weekday, "start_weekday"), name)
    warn_weekly_totals(regimen)
    return regimen


# --- rendering --------------------------------------------------------------------------------

_LENGTH_UNITS = ("w", "mo", "d", "h", "min")  # most readable first
_INTERVAL_UNITS = ("d", "h", "min", "w", "mo")  # q7d rather than q1w
_NAMED = {24.0: "qd", 48.0: "qod"}


def _num(x: float) -> str:
    text = repr(float(x))
    if "e" in text or "E" in text:
        return f"{x:.20f}".rstrip("0").rstrip(".")
    return text.removesuffix(".0")


def _fmt_time(hours: float, units: tuple[str, ...] = _LENGTH_UNITS) -> str:
    """Compact time (``52w``, ``3.5d``, ``90min``) that parses back to exactly ``hours``:
    a whole number in the first unit that gives one, else the shortest exact number."""
    exact = []
    for rank, unit in enumerate(units):
        text = _num(hours / HOURS_PER[unit])
        if parse_time(f"{text} {unit}") == hours:
            exact.append((not text.isdigit(), len(text) if not text.isdigit() else rank,
                          f"{text}{unit}"))
    return min(exact)[2] if exact else f"{_num(hours)}h"


def _fmt_dose(dose: Dose) -> str:
    if dose.dimension == "activity":
        return f"{_num(dose.amount)} IU"
    ug = _num(dose.amount * 1e3)
    if dose.amount < 1.0 and parse_dose(f"{ug} ug").amount == dose.amount:
        return f"{ug} ug"
    return f"{_num(dose.amount)} mg"


def _fmt_line(line: RegimenLine, phase_start: float, hold: float | None = None) -> str:
    """One item; ``hold`` (h) is written as the length of a single dose (``once x 2w``)."""
    words = [line.drug, _fmt_dose(line.dose), line.route]
    if line.formulation is not None:
        words.append(line.formulation)
    if line.pulse_interval is not None:
        words += ["pulse", f"q{_fmt_time(line.pulse_interval, _INTERVAL_UNITS)}"]
    elif line.weekdays is not None:
        days = sorted({(d - line.first_weekday) % 7 for d in line.weekdays})
        words += [f"{len(days)}x/w", ",".join(WEEKDAYS[d] for d in days)]
    elif line.every is not None:
        words.append(_NAMED.get(line.every, f"q{_fmt_time(line.every, _INTERVAL_UNITS)}"))
    else:
        words.append("once")
    if line.start != phase_start:
        words += ["from", _fmt_time(line.start - phase_start)]
    if line.count is not None:
        words += ["x", str(line.count)]
    elif line.repeats and line.end is not None:
        words += ["x", _fmt_time(line.end - line.start)]
    elif hold is not None:
        words += ["x", _fmt_time(hold)]
    return " ".join(words)


def _reach(line: RegimenLine) -> float | None:
    """Where the compact form of ``line`` ends its phase (h), if it sets a length at all."""
    if line.count is None:
        return line.end if line.repeats else None
    if line.pulse_interval is not None:
        return line.start + line.count * line.pulse_interval
    return line.start + line.count * line.every if line.every is not None else None


def _render_phase(ph: Phase, mine: list[RegimenLine], last: bool) -> list[str]:
    """A phase in the compact form, followed by an ``off`` gap when its items end early."""
    if not mine:
        return [_label(ph.name) + f"off {_fmt_time(ph.end - ph.start)}"]
    reach = max((r for ln in mine if (r := _reach(ln)) is not None), default=None)
    hold = None
    latest = max(mine, key=lambda ln: ln.start)
    if reach is None and not last and ph.end > latest.start:
        hold, reach = ph.end - latest.start, ph.end  # single doses only: hold the phase open
    items = " + ".join(_fmt_line(ln, ph.start, hold if ln is latest else None) for ln in mine)
    gap = ph.end - reach if reach is not None and reach < ph.end and not math.isinf(ph.end) else 0
    return [_label(ph.name) + items] + ([f"off {_fmt_time(gap)}"] if gap > 0 else [])


def _label(name: str) -> str:
    safe = name.strip() and not re.search(r"[;:+]", name) and "then" not in name.lower().split()
    return f"{' '.join(name.split())}: " if safe and name != "off" else ""


def _render_phases(regimen: Regimen) -> list[str]:
    phases = sorted(regimen.phases, key=lambda p: p.start) or [Phase("", 0.0, math.inf)]
    left = list(regimen.lines)
    out: list[str] = []
    cursor = 0.0
    for k, ph in enumerate(phases):
        last = k + 1 == len(phases)
        if ph.start < cursor:
            raise ValueError(f"phases overlap at {ph.name!r}: no compact form")
        if ph.start > cursor:
            out.append(f"off {_fmt_time(ph.start - cursor)}")
        mine = [ln for ln in left
                if ph.start <= ln.start < ph.end or (last and ln.start == ph.end)]
        left = [ln for ln in left if ln not in mine]
        out += _render_phase(ph, mine, last)
        cursor = ph.end
    if left:
        raise ValueError(f"{left[0].describe()} lies outside every phase: no compact form")
    return out


def _same(a: Regimen, b: Regimen) -> bool:
    def key(bolus: Bolus) -> tuple[float, str, str, str, float]:
        return bolus.time, bolus.drug, bolus.route, bolus.formulation or "", bolus.amount

    return (sorted(a.boluses(), key=key) == sorted(b.boluses(), key=key)
            and a.pumps() == b.pumps() and a.end == b.end)


def render_regimen(regimen: Regimen) -> str:
    """The compact text form of ``regimen``, with catalog names, explicit routes and lengths.

    ``parse_regimen(render_regimen(r))`` has the same boluses, pumps and simulated end as ``r``
    (phases may gain drug-free gaps, and day 0 becomes a Monday). Raises ValueError when no
    compact form reproduces ``r`` exactly (overlapping phases, lines outside the phases, a dose
    count cut short by its phase).
    """
    if not regimen.lines and not regimen.phases:
        raise ValueError("an empty regimen has no compact form")
    text = "; then ".join(_render_phases(regimen))
    try:
        draft = regimen_from_text(text)
        if regimen.end > draft.treatment_end:
            text += f"; then observe {_fmt_time(regimen.end - draft.treatment_end)}"
        again = regimen_from_text(text)
    except InputError as err:
        raise ValueError(f"no faithful compact form: {err}") from None
    if not _same(regimen, again):
        raise ValueError("no compact form reproduces this regimen exactly")
    return text

"""Protocol files (YAML): a named regimen in phases, an optional subject and a follow-up.

.. code-block:: yaml

    name: Post-TRT recovery
    description: ...
    subject: {age_years: 35, weight_kg: 85}    # optional; keys of hpgsim.subjects.Subject
    start_weekday: mon                          # optional: weekday of day 0
    phases:
      - name: TRT
        duration: 52 w                          # optional: else the longest drug line
        drugs:
          - {drug: testosterone_cypionate, dose: 150 mg, route: im, every: 7 d}
      - name: Recovery
        start: 52 w                             # optional: else right after the previous phase
        duration: 16 w
        drugs:
          - {drug: hcg, dose: 1500 IU, every: 2x/w}        # or every: 3.5 d, or days: [mon, thu]
          - {drug: clomiphene, dose: 25 mg, every: 2 d, start: 1 w, duration: 8 w}  # or count: 28
          - drug: clomiphene
            taper: [{dose: 50 mg, for: 2 w}, {dose: 25 mg, for: 2 w}]
            every: 1 d
    follow_up: 52 w                             # simulate this long after the last phase

Instead of ``phases``, a protocol may give ``text:`` (the compact form of
:mod:`hpgsim.regimen.text`) or ``regimen:`` (a list of validation-schema lines with absolute
``start``, see ``validation/SCHEMA.md``). Drug-line keys: ``drug``, ``dose`` or ``taper``,
``route``, ``formulation``, ``every`` (see :mod:`hpgsim.regimen.schedule`), ``days``,
``pulse_interval``, ``start``, ``duration`` or ``count``.

Every error is an :class:`InputError` whose field is a dotted path (``phases[1].drugs[0].dose``)
and whose problem names the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hpgsim.errors import InputError
from hpgsim.regimen.assemble import (
    Item,
    Loc,
    PhasePlan,
    Step,
    assemble,
    make_item,
    place,
    with_follow_up,
)
from hpgsim.regimen.checks import warn_weekly_totals
from hpgsim.regimen.model import Regimen
from hpgsim.regimen.schedule import parse_schedule, parse_weekday
from hpgsim.regimen.text import regimen_from_text
from hpgsim.subjects import Subject
from hpgsim.units import parse_dose, parse_time

# Quantities are typed ``Any`` on purpose: hpgsim.units parses them and explains a missing unit
# better than a type error would ("150" -> 'a dose needs a unit: write e.g. "150 mg"').


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TaperStepSpec(_Strict):
    """One taper step: ``{dose: 50 mg, for: 2 w}``."""

    dose: Any
    for_: Any = Field(alias="for")


class DrugSpec(_Strict):
    """One drug line inside a phase; ``start`` is the offset from the phase start."""

    drug: str
    dose: Any = None
    taper: list[TaperStepSpec] | None = None
    route: str | None = None
    formulation: str | None = None
    every: Any = None
    days: list[str] | None = None
    pulse_interval: Any = None
    start: Any = None
    duration: Any = None
    count: Any = None


class PhaseSpec(_Strict):
    """A phase: a name, optional absolute start and duration, and its drugs."""

    name: str
    start: Any = None
    duration: Any = None
    drugs: list[DrugSpec] = []


class SchemaLineSpec(_Strict):
    """A validation-schema regimen line (``hpgsim-validation/1``); ``start`` is absolute."""

    drug: str
    dose: Any
    route: str | None = None
    formulation: str | None = None
    every: Any = None
    pulse_interval: Any = None
    start: Any = None
    duration: Any = None
    count: Any = None


class ProtocolSpec(_Strict):
    """The top level of a protocol file."""

    name: str = ""
    description: str = ""
    subject: dict[str, Any] | None = None
    start_weekday: str = "mon"
    phases: list[PhaseSpec] | None = None
    text: str | None = None
    regimen: list[SchemaLineSpec] | None = None
    follow_up: Any = None


_MODEL_OF_LIST: dict[str, type[BaseModel]] = {  # the model of the items of each list key
    "phases": PhaseSpec, "drugs": DrugSpec, "taper": TaperStepSpec, "regimen": SchemaLineSpec,
}
_SCHEMA_LINES = TypeAdapter(list[SchemaLineSpec])


@dataclass(frozen=True)
class Protocol:
    """A loaded protocol: name, description, the regimen (times in hours), optional subject."""

    name: str
    description: str
    regimen: Regimen
    subject: Subject | None = None


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _from_validation(err: ValidationError, prefix: str, where: str) -> InputError:
    """The first pydantic error as an InputError with a dotted field path and a fix."""
    first = err.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    field = _path(((prefix,) if prefix else ()) + loc)
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    kind = first["type"]
    if kind == "extra_forbidden":
        parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), prefix)
        model = _MODEL_OF_LIST.get(parent, ProtocolSpec)
        keys = sorted(f.alias or name for name, f in model.model_fields.items())
        close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return InputError(field, first["input"], f"unknown key in {where}{more}",
                          f"{hint}allowed keys: {', '.join(keys)}")
    if kind == "missing":
        return InputError(field, None, f"required key missing in {where}{more}", f"add {loc[-1]}:")
    return InputError(field, first["input"], f"{first['msg']} in {where}{more}",
                      "see the protocol format in the hpgsim.regimen.protocol documentation")


def _in(where: str, err: InputError) -> InputError:
    return InputError(err.field, err.value, f"{err.problem} in {where}", err.fix)


def _time(value: Any, field: str) -> float | None:
    return None if value is None else parse_time(value, field)


def _item(spec: DrugSpec | SchemaLineSpec, loc: Loc) -> Item:
    """A drug line of either kind as an assemble.Item (its ``start`` as the offset)."""
    at = f"{loc.path}." if loc.path else ""
    days = spec.days if isinstance(spec, DrugSpec) else None
    schedule = parse_schedule(spec.every, days=days, pulse_interval=spec.pulse_interval,
                              field=loc.path)
    taper = spec.taper if isinstance(spec, DrugSpec) else None
    steps = [Step(parse_dose(s.dose, f"{at}taper[{i}].dose"),
                  parse_time(s.for_, f"{at}taper[{i}].for")) for i, s in enumerate(taper or ())]
    return make_item(
        spec.drug, schedule, loc,
        dose=None if spec.dose is None else parse_dose(spec.dose, f"{at}dose"),
        taper=steps, route=spec.route, formulation=spec.formulation,
        offset=_time(spec.start, f"{at}start") or 0.0,
        duration=_time(spec.duration, f"{at}duration"), count=spec.count)


def _phases(spec: ProtocolSpec) -> list[PhasePlan]:
    plans = []
    for i, ph in enumerate(spec.phases or ()):
        items = tuple(_item(d, Loc(f"phases[{i}].drugs[{j}]")) for j, d in enumerate(ph.drugs))
        plans.append(PhasePlan(ph.name, items, Loc(f"phases[{i}]"),
                               _time(ph.start, f"phases[{i}].start"),
                               _time(ph.duration, f"phases[{i}].duration")))
    return plans


def _lines(specs: Sequence[SchemaLineSpec], first_weekday: int, until: float | None,
           prefix: str, name: str = "") -> Regimen:
    lines = []
    for i, spec in enumerate(specs):
        item = _item(spec, Loc(f"{prefix}[{i}]"))
        if not item.schedule.is_single and item.duration is None and item.count is None:
            if until is None:
                raise InputError(f"{prefix}[{i}].duration", None, "a repeated dose needs an end",
                                 "give duration or count")
            lines += place(item, 0.0, until, first_weekday)
        else:
            lines += place(item, 0.0, None, first_weekday)
    return Regimen(tuple(lines), span=until, name=name)


def regimen_from_schema_lines(lines: Sequence[Mapping[str, Any]], *, until: float | None = None,
                              where: str = "regimen") -> Regimen:
    """A Regimen from validation-schema lines (``{drug, dose, route, every, start,
    duration|count, pulse_interval, formulation}``, absolute ``start``).

    ``until`` (h) is the end of the simulated span; it becomes ``Regimen.span`` and ends lines
    that repeat without duration or count (without it such a line is an error). Errors name
    ``regimen[i].<key>``; a weekly total above clinical use gives a DoseWarning.
    """
    try:
        specs = _SCHEMA_LINES.validate_python(lines)
    except ValidationError as err:
        raise _from_validation(err, "regimen", where) from None
    try:
        regimen = _lines(specs, 0, until, "regimen")
    except InputError as err:
        raise _in(where, err) from None
    warn_weekly_totals(regimen)
    return regimen


def _protocol(spec: ProtocolSpec) -> Protocol:
    forms = [k for k in ("phases", "text", "regimen") if getattr(spec, k) is not None]
    if len(forms) != 1:
        raise InputError(forms[1] if forms else "phases", None,
                         "give exactly one of phases, text or regimen",
                         "describe the regimen once: as phases, as text or as schema lines")
    first_weekday = parse_weekday(spec.start_weekday, "start_weekday")
    follow_up = _time(spec.follow_up, "follow_up")
    if spec.phases is not None:
        regimen = assemble(_phases(spec), first_weekday=first_weekday, follow_up=follow_up,
                           name=spec.name)
    else:
        if spec.text is not None:
            regimen = regimen_from_text(spec.text, first_weekday, spec.name)
            if regimen.span is not None and follow_up is not None:
                raise InputError("follow_up", spec.follow_up, "the text already ends with observe",
                                 "give the follow-up once: in the text or as follow_up")
        else:
            regimen = _lines(spec.regimen or [], first_weekday, None, "regimen", spec.name)
        if follow_up is not None:
            regimen = with_follow_up(regimen, follow_up)
    subject = Subject.from_dict(spec.subject) if spec.subject is not None else None
    return Protocol(spec.name, spec.description, regimen, subject)


def protocol_from_dict(data: Any, where: str = "protocol") -> Protocol:
    """Validate a parsed protocol (a mapping) and build it. ``where`` names the source (a file
    path) in error messages; a weekly total above clinical use gives a DoseWarning."""
    if not isinstance(data, Mapping):
        raise InputError("protocol", type(data).__name__, f"{where} is not a mapping",
                         "write the protocol as YAML keys: name, phases, follow_up, ...")
    try:
        spec = ProtocolSpec.model_validate(dict(data))
    except ValidationError as err:
        raise _from_validation(err, "", where) from None
    try:
        protocol = _protocol(spec)
    except InputError as err:
        raise _in(where, err) from None
    warn_weekly_totals(protocol.regimen)
    return protocol


def load_protocol(path: str | Path) -> Protocol:
    """Load and validate a protocol file (YAML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("protocol", str(p), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("protocol", str(p), f"cannot read the file ({err})",
                         "give a readable UTF-8 YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InputError("protocol", str(p), f"not valid YAML{at}",
                         "fix the YAML syntax (indentation, colons, quotes)") from None
    return protocol_from_dict(data, str(p))

"""Candidate protocols with titration rules: the optional ``titration:`` section of a protocol
file, read here so that :mod:`hpgsim.regimen.protocol` stays unchanged.

.. code-block:: yaml

    titration:
      - at: 6 w                     # the visit, from the start of the protocol
        if: E2 > 40 pg/mL           # ANALYTE OP NUMBER UNIT; OP one of < <= > >=
        add: {drug: anastrozole, dose: 0.5 mg, every: 2x/w}   # starts at the visit
      - at: 12 w
        if: T < 300 ng/dL
        stop: clomiphene            # no dose of this drug from the visit on

``add`` takes the keys of a validation-schema regimen line (``drug``, ``dose``, ``route``,
``every``, ``duration`` or ``count``, ...) without ``start``; without ``duration`` or
``count`` it runs to the end of the protocol's treatment. A rule is evaluated on the simulated
lab at the visit, with lab noise, separately for each posterior draw (see
:mod:`hpgsim.patients.forecast`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hpgsim.errors import InputError
from hpgsim.regimen.checks import resolve
from hpgsim.regimen.model import DAY, Regimen, RegimenLine
from hpgsim.regimen.protocol import protocol_from_dict, regimen_from_schema_lines
from hpgsim.units import analyte, parse_time

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CONDITION = re.compile(r"^\s*(\S+)\s*(<=|>=|<|>)\s*([-+]?\d+\.?\d*(?:[eE][-+]?\d+)?)\s*(\S+)\s*$")


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    at: str
    if_: str = Field(alias="if")
    add: dict[str, Any] | None = None
    stop: str | None = None


@dataclass(frozen=True)
class Rule:
    """At ``at`` hours from the protocol start, if ``analyte`` (canonical unit) compares by
    ``op`` with ``threshold`` (canonical unit): add ``add`` lines or stop drug ``stop``."""

    label: str
    at: float
    analyte: str
    op: str
    threshold: float
    add: tuple[RegimenLine, ...] = ()
    stop: str | None = None

    def fires(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def apply(self, regimen: Regimen) -> Regimen:
        """The protocol's regimen (protocol time) with this rule's action taken."""
        if self.stop is None:
            return replace(regimen, lines=regimen.lines + self.add)
        lines = []
        for line in regimen.lines:
            if line.drug != self.stop:
                lines.append(line)
            elif line.start < self.at:
                if line.repeats:
                    end = min(line.end if line.end is not None else math.inf, self.at)
                    lines.append(replace(line, end=end))
                else:
                    lines.append(line)
        return replace(regimen, lines=tuple(lines))


@dataclass(frozen=True)
class Candidate:
    """A candidate protocol: its name, regimen (protocol time, hours) and titration rules."""

    name: str
    regimen: Regimen
    rules: tuple[Rule, ...]


def _rule(spec: _RuleSpec, regimen: Regimen, field: str) -> Rule:
    at = parse_time(spec.at, f"{field}.at")
    if not 0.0 <= at <= regimen.end:
        raise InputError(f"{field}.at", spec.at, "the visit is outside the protocol's span",
                         "give a time from 0 to the end of the follow-up")
    m = _CONDITION.match(spec.if_)
    if m is None:
        raise InputError(f"{field}.if", spec.if_, "not a condition",
                         'write ANALYTE OP NUMBER UNIT, e.g. "E2 > 40 pg/mL"')
    a = analyte(m.group(1), f"{field}.if")
    threshold = float(m.group(3)) / a.factor(m.group(4))
    if (spec.add is None) == (spec.stop is None):
        raise InputError(field, spec.model_dump(by_alias=True), "give exactly one action",
                         "write add: {drug: ..., dose: ..., every: ...} or stop: DRUG")
    add: tuple[RegimenLine, ...] = ()
    stop = None
    if spec.add is not None:
        if "start" in spec.add:
            raise InputError(f"{field}.add.start", spec.add["start"],
                             "an added drug starts at the visit", "remove start")
        until = regimen.treatment_end
        if until <= at and not {"duration", "count"} & set(spec.add):
            raise InputError(f"{field}.add", spec.add, "the visit is after the treatment end",
                             "give the added drug a duration or count")
        added = regimen_from_schema_lines([{**spec.add, "start": f"{at!r} h"}],
                                          until=max(until, at + DAY), where=f"{field}.add")
        add = added.lines
    else:
        assert spec.stop is not None
        stop = resolve(spec.stop, field=f"{field}.stop").drug.name
    return Rule(spec.if_.strip(), at, a.name, m.group(2), threshold, add, stop)


def candidate_from_dict(data: Mapping[str, Any], where: str) -> Candidate:
    """A candidate from a parsed protocol file (``titration:`` optional)."""
    if not isinstance(data, Mapping):
        raise InputError("protocol", type(data).__name__, f"{where} is not a mapping",
                         "write the protocol as YAML keys: name, phases, titration, ...")
    rest = {k: v for k, v in data.items() if k != "titration"}
    protocol = protocol_from_dict(rest, where)
    raw = data.get("titration") or []
    if not isinstance(raw, list):
        raise InputError("titration", raw, f"not a list in {where}",
                         "write titration as a list of rules (- at: ..., if: ..., add: ...)")
    rules = []
    for i, item in enumerate(raw):
        field = f"titration[{i}]"
        try:
            spec = _RuleSpec.model_validate(item)
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{field}.{loc}" if loc else field, first.get("input"),
                             f"{first['msg']} in {where}",
                             "keys: at, if, and one of add or stop") from None
        rules.append(_rule(spec, protocol.regimen, field))
    return Candidate(protocol.name or Path(where).stem, protocol.regimen,
                     tuple(sorted(rules, key=lambda r: r.at)))


def load_candidate(path: str | Path) -> Candidate:
    """Read a protocol file with its optional ``titration:`` section."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("protocol", str(p), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError("protocol", str(p), f"cannot read the protocol ({err})",
                         "give a readable YAML protocol file") from None
    return candidate_from_dict(data, str(p))


def shifted(regimen: Regimen, days: int) -> Regimen:
    """``regimen`` moved ``days`` whole days later; weekday lines keep their weekdays relative
    to the protocol's day 0."""
    h = days * DAY
    lines = tuple(replace(ln, start=ln.start + h, end=None if ln.end is None else ln.end + h,
                          first_weekday=(ln.first_weekday - days) % 7) for ln in regimen.lines)
    phases = tuple(replace(ph, start=ph.start + h, end=ph.end + h) for ph in regimen.phases)
    return replace(regimen, lines=lines, phases=phases, span=regimen.end + h)


def with_decisions(candidate: Candidate, decisions: Sequence[bool]) -> Regimen:
    """The candidate's regimen after the rules that fired (``decisions[i]`` for rule i)."""
    regimen = candidate.regimen
    for rule, fired in zip(candidate.rules, decisions, strict=False):
        if fired:
            regimen = rule.apply(regimen)
    return regimen

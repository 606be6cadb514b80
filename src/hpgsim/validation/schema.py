"""Validation target files (schema ``hpgsim-validation/1``, see ``validation/SCHEMA.md``).

A file is read target by target: a target with a bad field becomes an :class:`InvalidTarget`
carrying the message (it is reported as an error result and counts as failed), so that one bad
target never stops the others. Only a file that cannot be read at all (missing, not YAML, no
``targets`` list, another schema) raises :class:`TargetFileError`.

Times are parsed into hours on load (``"12 w"`` -> 2016.0); quantities, units and statistics
are checked as far as they can be without a simulation. Drug names are checked when a target is
run (against the drug catalog), so an unknown drug is an error result of that target alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hpgsim.errors import HpgsimError
from hpgsim.units import HOURS_PER, analyte, concentration_unit, parse_time

SCHEMA_ID = "hpgsim-validation/1"
RESULT_SCHEMA_ID = "hpgsim-validation-result/1"
DRUG_CONCENTRATION = "drug_concentration:"

Statistic = Literal["value", "ratio_to_baseline", "percent_change", "peak", "time_of_peak",
                    "average", "time_to", "fraction", "median", "mean"]
Direction = Literal["below", "above"]
COHORT_STATISTICS = ("fraction", "median", "mean")
DIMENSIONLESS_STATISTICS = ("ratio_to_baseline", "percent_change", "fraction")

CANONICAL_CONCENTRATION = {"mass": "ng/mL", "activity": "IU/L"}


class TargetFileError(HpgsimError):
    """The target file itself cannot be read (missing, not YAML, not a target list)."""


def _hours(value: Any) -> float:
    hours = parse_time(value, "time")
    if hours < 0.0:
        raise ValueError(f"{value!r} is before time 0; the subject is at its steady state then")
    return hours


Hours = Annotated[float, BeforeValidator(_hours)]


def check_unit(quantity: str, unit: str) -> None:
    """Raise ValueError unless ``unit`` is a unit of ``quantity``."""
    if quantity.startswith(DRUG_CONCENTRATION):
        concentration_unit(unit)
    else:
        analyte(quantity, "quantity").factor(unit)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Cohort(_Strict):
    """``{size, seed}``: how many virtual subjects, drawn reproducibly from which seed."""

    size: int = Field(ge=1)
    seed: int = 0


class Expected(_Strict):
    """The published value and the accepted interval ``[low, high]``, in the target's unit."""

    value: float
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Expected:
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        return self


class Measure(_Strict):
    """What is compared: a quantity, its unit, a statistic and its times (hours)."""

    quantity: str
    unit: str
    statistic: Statistic
    at: Hours | None = None
    window: tuple[Hours, Hours] | None = None
    threshold: float | None = None
    threshold_unit: str | None = None
    direction: Direction | None = None
    from_: Hours | None = Field(default=None, alias="from")
    relative: bool = False
    relative_to: Hours | None = None
    until: Hours | None = None
    ever: bool = False
    of: Literal["value", "time_to"] | None = None

    @property
    def of_time_to(self) -> bool:
        """Whether the statistic is a time to threshold (``time_to``, or a cohort median/mean
        with ``of: time_to``, implied by ``threshold``, ``direction`` and ``from``)."""
        if self.statistic == "time_to":
            return True
        if self.statistic not in ("median", "mean"):
            return False
        if self.of is not None:
            return self.of == "time_to"
        return None not in (self.threshold, self.direction, self.from_)

    @property
    def result_is_time(self) -> bool:
        """Whether the result is a time, in the time unit ``unit``."""
        return self.statistic == "time_of_peak" or self.of_time_to

    @property
    def start(self) -> float:
        """``from`` in hours (0 when absent)."""
        return self.from_ if self.from_ is not None else 0.0

    @property
    def named_times(self) -> tuple[float, ...]:
        """Every time the measure names except ``until`` (h)."""
        times = (self.at, self.from_, self.relative_to, *(self.window or ()))
        return tuple(t for t in times if t is not None)

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        stat = self.statistic
        need: tuple[str, ...]
        if self.of_time_to:
            need = ("threshold", "direction")
        elif stat == "fraction":
            need = ("threshold", "direction", "at")
        elif stat in ("peak", "time_of_peak", "average"):
            need = ("window",)
        else:
            need = ("at",)
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"statistic {stat!r} needs {', '.join(missing)}")
        if self.window is not None and self.window[1] < self.window[0]:
            raise ValueError("window ends before it starts")
        if stat == "fraction" and self.ever and self.at is not None and self.start > self.at:
            raise ValueError("ever: true looks from `from` up to `at`, but from is after at")
        if self.relative_to is not None and not self.relative:
            raise ValueError("relative_to needs relative: true")
        if self.relative and self.threshold is None:
            raise ValueError("relative: true needs a threshold (a fraction of the reference)")
        if self.relative and self.threshold_unit is not None:
            raise ValueError("a relative threshold is a fraction: remove threshold_unit")
        if self.until is not None and self.named_times and self.until < max(self.named_times):
            raise ValueError("until is before a time the measure names")
        if self.result_is_time:
            if self.unit not in HOURS_PER:
                raise ValueError(f"the result of {stat!r} is a time: unit must be one of "
                                 f"{', '.join(HOURS_PER)}, not {self.unit!r}")
        elif stat not in DIMENSIONLESS_STATISTICS:
            check_unit(self.quantity, self.unit)
        if self.threshold_unit is not None:
            check_unit(self.quantity, self.threshold_unit)
        if self.quantity.startswith(DRUG_CONCENTRATION):
            if not self.quantity[len(DRUG_CONCENTRATION):].strip():
                raise ValueError("drug_concentration: needs a drug name after the colon")
        else:
            analyte(self.quantity, "quantity")
        return self


class Target(_Strict):
    """One published outcome: who, on what regimen, which measure, and the expected value.

    ``subject`` and ``regimen`` stay mappings here: subjects are built (or, in a cohort,
    sampled) and regimen lines parsed when the target is run, so that their errors are errors
    of this target alone.
    """

    id: str = Field(min_length=1)
    title: str = ""
    source: str = ""
    verified: bool | None = None
    subject: dict[str, Any] = {}
    cohort: Cohort | None = None
    regimen: list[dict[str, Any]] = []
    measure: Measure
    expected: Expected
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = {k: v for k, v in data.items()
                    if not (k in ("subject", "regimen") and v is None)}
        return data


@dataclass(frozen=True)
class InvalidTarget:
    """A target that could not be read; ``expected``, ``low``, ``high`` and ``unit`` are taken
    from the entry where they are readable."""

    id: str
    error: str
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    title: str = ""
    source: str = ""
    notes: str = ""


Entry = Target | InvalidTarget


@dataclass(frozen=True)
class TargetFile:
    """The targets of one file, in file order; ``source`` names the file."""

    source: str
    entries: tuple[Entry, ...]

    def only(self, prefix: str) -> TargetFile:
        """The entries whose id starts with ``prefix``."""
        return TargetFile(self.source, tuple(e for e in self.entries if e.id.startswith(prefix)))


def _message(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _invalid(raw: Any, index: int, error: str) -> InvalidTarget:
    if not isinstance(raw, Mapping):
        return InvalidTarget(f"<target {index + 1}>", f"not a mapping: {raw!r}")
    expected = raw.get("expected")
    expected = expected if isinstance(expected, Mapping) else {}
    measure = raw.get("measure")
    unit = measure.get("unit") if isinstance(measure, Mapping) else None
    return InvalidTarget(
        id=str(raw.get("id") or f"<target {index + 1}>"), error=error,
        expected=_number(expected.get("value")), low=_number(expected.get("low")),
        high=_number(expected.get("high")), unit=unit if isinstance(unit, str) else None,
        title=_text(raw.get("title")), source=_text(raw.get("source")),
        notes=_text(raw.get("notes")))


def parse_targets(text: str, source: str = "<text>") -> TargetFile:
    """Read target-file text; raises TargetFileError only when the file as a whole is unusable."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TargetFileError(f"{source}: not valid YAML ({err})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("targets"), list):
        raise TargetFileError(f"{source}: not a target file (expected keys schema and targets)")
    if data.get("schema") != SCHEMA_ID:
        raise TargetFileError(f"{source}: schema is {data.get('schema')!r}, expected {SCHEMA_ID!r}")
    entries: list[Entry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["targets"]):
        try:
            entry: Entry = Target.model_validate(raw)
        except ValidationError as err:
            entry = _invalid(raw, i, _message(err))
        if entry.id in seen:
            entry = _invalid(raw, i, f"duplicate id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return TargetFile(source, tuple(entries))


def bundled_targets_path() -> Path:
    """The public target set shipped with hpgsim (a copy of ``validation/targets.yaml``)."""
    return Path(str(resources.files("hpgsim").joinpath("data", "targets.yaml")))


def load_targets(path: str | Path | None = None) -> TargetFile:
    """Read a target file (default: the bundled public set)."""
    p = Path(path) if path is not None else bundled_targets_path()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TargetFileError(f"{p}: cannot read the file ({err})") from None
    return parse_targets(text, str(p))

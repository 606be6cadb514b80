"""Lab results in long format: one record per (time, analyte), with unit, censoring and the
lab's own reference interval; validation of a batch before anything is stored.

A record keeps the value *as reported* (number and unit), so export gives back what came in;
:attr:`LabRecord.canonical` is the value in the canonical unit of
:data:`hpgsim.units.ANALYTES` for the model. Censoring is kept, never replaced by a number:
``"<0.5"`` is ``value=0.5, censor="<"`` (below the limit of detection, LOD) and ``">1500"`` is
``value=1500, censor=">"`` (above the upper reporting limit).

Times are timezone-aware UTC datetimes. Text without a zone is read as UTC; a bare date is
midnight UTC of that day.

Every check raises :class:`~hpgsim.errors.InputError` whose field names the place in the source
(``line 4.value``, ``entry[2].effectiveDateTime``) so the user can find and fix it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hpgsim.errors import InputError
from hpgsim.units import ANALYTES, analyte

CENSORS = ("", "<", ">")

# Largest value that can be a real measurement (canonical unit); above it the number is a typo or
# a unit mix-up. Set well above anything reported, AAS users included [I].
PLAUSIBLE_MAX: dict[str, float] = {
    "total_testosterone": 20_000.0,  # ng/dL: multi-gram AAS weeks stay below ~10,000 [I]
    "free_testosterone": 10_000.0,  # pg/mL: ~2-5% of the largest total T [I]
    "lh": 300.0,  # IU/L: castrate/anorchid men ~50-100 [I]
    "fsh": 300.0,  # IU/L [I]
    "estradiol": 5_000.0,  # pg/mL [I]
    "shbg": 500.0,  # nmol/L [I]
    "inhibin_b": 3_000.0,  # pg/mL [I]
    "intratesticular_testosterone": 10_000.0,  # nmol/L (~100x serum) [I]
    "sperm_concentration": 1_000.0,  # million/mL [I]
    "total_sperm_count": 5_000.0,  # million [I]
    "testis_volume": 150.0,  # mL, both testes [I]
}

# A reported 0 is only meaningful for counts (azoospermia: no sperm seen); for the likelihood it
# is "below" this limit [I: a centrifuged-pellet search finds a few sperm per mL x 1e5].
ZERO_MEANS_BELOW: dict[str, float] = {"sperm_concentration": 0.1, "total_sperm_count": 0.1}

# LOINC code -> (analyte, units the code is defined in). Codes per domain/conventions.md
# (high or medium-high confidence); molar T and E2 have their own codes.
LOINC: dict[str, tuple[str, tuple[str, ...]]] = {
    "2986-8": ("total_testosterone", ("ng/dL", "ng/mL")),
    "14913-8": ("total_testosterone", ("nmol/L",)),
    "2991-8": ("free_testosterone", ("pg/mL", "ng/dL")),
    "10501-5": ("lh", ("IU/L", "mIU/mL")),
    "15067-2": ("fsh", ("IU/L", "mIU/mL")),
    "2243-4": ("estradiol", ("pg/mL",)),
    "14715-7": ("estradiol", ("pmol/L",)),
    "13967-5": ("shbg", ("nmol/L",)),
    "9780-8": ("sperm_concentration", ("million/mL",)),
}

# hpgsim unit spelling -> UCUM code (http://unitsofmeasure.org); the others are spelled alike.
UCUM: dict[str, str] = {"IU/L": "[IU]/L", "mIU/mL": "m[IU]/mL", "million/mL": "10*6/mL",
                        "million": "10*6"}
_FROM_UCUM = {code: unit for unit, code in UCUM.items()}
_VALUE = re.compile(r"^\s*([<>])?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def loinc_for(analyte_name: str, unit: str) -> str | None:
    """The LOINC code defined for ``analyte_name`` reported in ``unit`` (None if none is)."""
    return next((code for code, (name, units) in LOINC.items()
                 if name == analyte_name and unit in units), None)


def normalize_unit(analyte_name: str, unit: str, field: str) -> str:
    """``unit`` in hpgsim's spelling for the analyte (case-insensitive; UCUM codes accepted)."""
    a = ANALYTES[analyte_name]
    text = _FROM_UCUM.get(unit.strip(), unit.strip())
    match = next((u for u in a.units if u.lower() == text.lower()), None)
    if match is None:
        raise InputError(field, unit, f"unknown unit for {a.label}",
                         f"use one of {', '.join(a.units)}")
    return match


def parse_value(text: str, field: str) -> tuple[float, str]:
    """``"12.5"`` -> (12.5, ""); ``"<0.5"`` -> (0.5, "<"); ``">1500"`` -> (1500.0, ">")."""
    m = _VALUE.match(text)
    if m is None:
        raise InputError(field, text, "not a number", 'write e.g. 512, 0.8, "<0.5" or ">1500"')
    return float(m.group(2)), m.group(1) or ""


def format_value(value: float, censor: str) -> str:
    """Inverse of :func:`parse_value`; the shortest text that reads back as the same float."""
    text = repr(float(value))
    return censor + (text[:-2] if text.endswith(".0") else text)


def parse_datetime(text: str, field: str) -> datetime:
    """ISO 8601 date or date-time; no zone means UTC; returned in UTC."""
    s = text.strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(field, text, "not an ISO 8601 date or date-time",
                         "write e.g. 2024-03-01 or 2024-03-01T08:30:00+01:00") from None
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).astimezone(UTC)


def format_datetime(t: datetime) -> str:
    """UTC ISO 8601 with a ``Z``; seconds only when needed."""
    u = t.astimezone(UTC)
    text = u.isoformat(timespec="microseconds" if u.microsecond else "seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class LabRecord:
    """One lab result as reported.

    ``taken_at``: sample time (UTC). ``analyte``: a key of ``hpgsim.units.ANALYTES``.
    ``value`` in ``unit`` (one of the analyte's units); with ``censor`` ``"<"`` it is the limit
    of detection, with ``">"`` the upper reporting limit. ``ref_low``/``ref_high``: the lab's own
    reference interval in ``unit`` (either may be absent). ``loinc``: the code as reported.
    """

    taken_at: datetime
    analyte: str
    value: float
    unit: str
    censor: str = ""
    ref_low: float | None = None
    ref_high: float | None = None
    loinc: str | None = None

    @property
    def canonical(self) -> float:
        """``value`` in the analyte's canonical unit (``ANALYTES[analyte].unit``)."""
        return self.value / ANALYTES[self.analyte].factor(self.unit)

    @property
    def display_value(self) -> str:
        """The value with its censor sign, e.g. ``<0.5``."""
        return format_value(self.value, self.censor)


def make_lab(*, taken_at: datetime, analyte_name: str, value: str | float, unit: str,
             ref_low: float | None = None, ref_high: float | None = None,
             loinc: str | None = None, censor: str = "", where: str = "") -> LabRecord:
    """A validated LabRecord from raw parts. ``value`` may carry the censor sign (``"<0.5"``).
    Errors name ``<where>.<field>``."""
    at = f"{where}." if where else ""
    a = analyte(analyte_name, f"{at}analyte")
    u = normalize_unit(a.name, unit, f"{at}unit")
    if isinstance(value, str):
        number, sign = parse_value(value, f"{at}value")
        if sign and censor and sign != censor:
            raise InputError(f"{at}value", value, "two different censor signs",
                             "give the sign once")
        censor = sign or censor
    else:
        number = float(value)
    if censor not in CENSORS:
        raise InputError(f"{at}censor", censor, "unknown censoring", 'use "<", ">" or nothing')
    _check_number(a.name, number, u, censor, f"{at}value")
    for name, bound in (("ref_low", ref_low), ("ref_high", ref_high)):
        if bound is not None and not (math.isfinite(bound) and bound >= 0.0):
            raise InputError(f"{at}{name}", bound, "not a non-negative number",
                             "give the lab's reference limit in the row's unit, or leave it empty")
    if ref_low is not None and ref_high is not None and ref_low >= ref_high:
        raise InputError(f"{at}ref_high", ref_high, "the reference interval is empty",
                         "ref_high must be above ref_low")
    if loinc:
        code = loinc.strip()
        if code not in LOINC:
            raise InputError(f"{at}loinc", code, "unknown LOINC code",
                             f"use one of {', '.join(LOINC)} or leave it empty")
        name, units = LOINC[code]
        if name != a.name or u not in units:
            raise InputError(f"{at}loinc", code,
                             f"LOINC {code} is {ANALYTES[name].label} in {'/'.join(units)}, "
                             f"not {a.label} in {u}", "fix the code, the analyte or the unit")
        loinc = code
    return LabRecord(taken_at, a.name, number, u, censor, ref_low, ref_high,
                     loinc or loinc_for(a.name, u))


def _check_number(name: str, number: float, unit: str, censor: str, field: str) -> None:
    a = ANALYTES[name]
    if not math.isfinite(number) or number < 0.0:
        raise InputError(field, number, "impossible value (negative or not finite)",
                         "check the number")
    if number == 0.0 and (censor or name not in ZERO_MEANS_BELOW):
        raise InputError(field, number, f"a {a.label} of exactly 0 is not a measurement",
                         'write a value below detection as "<LOD", e.g. "<0.1"')
    highest = PLAUSIBLE_MAX[name] * a.factor(unit)
    if number > highest:
        raise InputError(field, f"{number:g} {unit}", f"impossible {a.label} value",
                         f"check the number and the unit (at most {highest:g} {unit} is possible)")

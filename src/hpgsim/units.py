"""Quantities, canonical units and lab-unit conversion.

Internal canonical units: time in hours; each analyte in the first unit of
``ANALYTES[name].units`` (US clinical units, as in the validation schema). Conversion to display
units happens only at the edges (tables, plots, CLI) and is chosen per analyte by the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hpgsim.errors import InputError

# --- time -------------------------------------------------------------------------------------

HOURS_PER: dict[str, float] = {
    "min": 1.0 / 60.0,
    "h": 1.0,
    "d": 24.0,
    "w": 7.0 * 24.0,
    "mo": 30.4375 * 24.0,  # validation schema: 1 mo = 30.4375 d
    "y": 365.25 * 24.0,
}
_TIME_ALIASES = {
    "m": "min", "mins": "min", "minute": "min", "minutes": "min",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d",
    "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "month": "mo", "months": "mo", "mon": "mo",
    "yr": "y", "yrs": "y", "year": "y", "years": "y",
}
_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμ/%]*)\s*$")


def parse_time(text: str | float | int, field: str = "time") -> float:
    """Parse ``"<number> <unit>"`` (min, h, d, w, mo, y) into hours.

    A bare number is refused: the unit must be explicit.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise InputError(field, text, "a time needs a unit",
                         'write it as e.g. "7 d", "12 w", "90 min"')
    m = _QTY.match(text)
    unit = m.group(2).lower() if m else ""
    unit = _TIME_ALIASES.get(unit, unit)
    if m is None or unit not in HOURS_PER:
        raise InputError(
            field, text, "not a time",
            'write "<number> <unit>" with unit one of min, h, d, w, mo, y (e.g. "16 w")',
        )
    return float(m.group(1)) * HOURS_PER[unit]


def format_time(hours: float) -> str:
    """Render hours with the largest unit that keeps the number readable."""
    for unit in ("y", "w", "d", "h"):
        value = hours / HOURS_PER[unit]
        if abs(value) >= 1.0 and (unit != "y" or abs(value - round(value)) < 1e-9):
            return f"{value:g} {unit}"
    return f"{hours * 60.0:g} min"


# --- doses ------------------------------------------------------------------------------------

DOSE_UNITS: dict[str, tuple[str, float]] = {
    # unit -> (dimension, factor to the dimension's canonical unit: mg or IU)
    "mg": ("mass", 1.0),
    "g": ("mass", 1000.0),
    "ug": ("mass", 1e-3),
    "mcg": ("mass", 1e-3),
    "µg": ("mass", 1e-3),
    "μg": ("mass", 1e-3),
    "iu": ("activity", 1.0),
}


@dataclass(frozen=True)
class Dose:
    """A dose amount in its dimension's canonical unit (mg for mass, IU for activity)."""

    amount: float
    dimension: str  # "mass" | "activity"

    @property
    def unit(self) -> str:
        return "mg" if self.dimension == "mass" else "IU"

    def __str__(self) -> str:
        if self.dimension == "mass" and self.amount < 1.0:
            return f"{self.amount * 1000.0:g} ug"
        return f"{self.amount:g} {self.unit}"


def parse_dose(text: str | float | int, field: str = "dose") -> Dose:
    """Parse ``"200 mg"``, ``"10 ug"``, ``"1500 IU"``; refuses missing units and negatives."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise InputError(field, text, "a dose needs a unit",
                         'write e.g. "200 mg", "10 ug" or "1500 IU"')
    m = _QTY.match(text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in DOSE_UNITS:
        raise InputError(field, text, "not a dose",
                         'write "<number> <unit>" with unit mg, ug or IU')
    value = float(m.group(1))
    if not value > 0.0:
        raise InputError(field, text, "a dose must be positive", "give an amount above zero")
    dimension, factor = DOSE_UNITS[unit]
    return Dose(value * factor, dimension)


# --- analytes ---------------------------------------------------------------------------------

T_NG_DL_PER_NMOL_L = 28.84  # MW 288.42 g/mol (conventions.md; LOINC mass<->molar mapping)
E2_PMOL_L_PER_PG_ML = 3.6713  # MW 272.38 g/mol (conventions.md)


@dataclass(frozen=True)
class Analyte:
    """An observable with its canonical unit, alternative units and a reference interval."""

    name: str
    label: str
    units: tuple[str, ...]  # first = canonical
    factors: tuple[float, ...]  # multiply canonical value by factor -> that unit
    reference: tuple[float | None, float | None]  # canonical unit; None = no bound
    reference_source: str
    loinc: str | None = None

    @property
    def unit(self) -> str:
        return self.units[0]

    def factor(self, unit: str) -> float:
        """Factor from the canonical unit to ``unit``."""
        for u, f in zip(self.units, self.factors, strict=True):
            if u.lower() == unit.lower():
                return f
        raise InputError(
            f"units.{self.name}", unit, f"unknown unit for {self.name}",
            f"use one of {', '.join(self.units)}",
        )


_LAB = ("typical adult-male laboratory interval [S]; "
        "the range on your own lab report takes precedence")
ANALYTES: dict[str, Analyte] = {
    a.name: a
    for a in (
        Analyte("total_testosterone", "Total T", ("ng/dL", "nmol/L", "ng/mL"),
                (1.0, 1.0 / T_NG_DL_PER_NMOL_L, 0.01), (264.0, 916.0),
                "Endocrine Society 2018 harmonized range, non-obese men 19-39 y "
                "(Bhasin JCEM 2018;103:1715)",
                "2986-8"),
        Analyte("free_testosterone", "Free T", ("pg/mL", "pmol/L", "ng/dL"),
                (1.0, 1000.0 / 288.42, 0.1), (50.0, 210.0), _LAB, "2991-8"),
        Analyte("lh", "LH", ("IU/L", "mIU/mL"), (1.0, 1.0), (1.5, 9.3), _LAB, "10501-5"),
        Analyte("fsh", "FSH", ("IU/L", "mIU/mL"), (1.0, 1.0), (1.4, 18.1), _LAB, "15067-2"),
        Analyte("estradiol", "E2", ("pg/mL", "pmol/L"), (1.0, E2_PMOL_L_PER_PG_ML), (10.0, 40.0),
                _LAB, "2243-4"),
        Analyte("shbg", "SHBG", ("nmol/L",), (1.0,), (10.0, 57.0), _LAB, "13967-5"),
        Analyte("inhibin_b", "Inhibin B", ("pg/mL", "ng/L"), (1.0, 1.0), (80.0, 300.0), _LAB, None),
        Analyte("intratesticular_testosterone", "Intratesticular T", ("nmol/L", "ng/mL"),
                (1.0, 0.28842), (None, None), "no clinical reference interval", None),
        Analyte("sperm_concentration", "Sperm concentration", ("million/mL",), (1.0,), (15.0, None),
                "WHO 2010 lower reference limit (Cooper et al. Hum Reprod Update 2010)", "9780-8"),
        Analyte("total_sperm_count", "Total sperm count", ("million",), (1.0,), (39.0, None),
                "WHO 2010 lower reference limit (Cooper et al. Hum Reprod Update 2010)", None),
        Analyte("testis_volume", "Testis volume (both)", ("mL",), (1.0,), (24.0, None),
                "2 x 12 mL, common clinical lower limit per testis [S]", None),
    )
}
_ANALYTE_ALIASES = {
    "t": "total_testosterone", "tt": "total_testosterone", "testosterone": "total_testosterone",
    "ft": "free_testosterone", "free_t": "free_testosterone", "e2": "estradiol",
    "inhb": "inhibin_b", "itt": "intratesticular_testosterone", "sperm": "sperm_concentration",
}


def analyte(name: str, field: str = "analyte") -> Analyte:
    """Look up an analyte by name or common alias (``T``, ``E2``, ``FT``, ``ITT``...)."""
    key = name.strip().lower()
    key = _ANALYTE_ALIASES.get(key, key)
    if key not in ANALYTES:
        raise InputError(field, name, "unknown analyte", f"use one of {', '.join(ANALYTES)}")
    return ANALYTES[key]


def parse_unit_choices(text: str) -> dict[str, str]:
    """Parse ``"T=nmol/L,E2=pmol/L"`` into ``{"total_testosterone": "nmol/L", ...}`` (validated)."""
    choices: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            raise InputError("units", part, "expected ANALYTE=UNIT",
                             'write e.g. "T=nmol/L,E2=pmol/L"')
        name, unit = (s.strip() for s in part.split("=", 1))
        a = analyte(name, "units")
        a.factor(unit)
        choices[a.name] = next(u for u in a.units if u.lower() == unit.lower())
    return choices


# Drug concentrations: unit -> (dimension, value of one unit in ng/mL for mass or IU/L for
# activity). The schema's first-listed unit is ng/mL, or IU/L for drugs dosed in IU.
CONCENTRATION_UNITS: dict[str, tuple[str, float]] = {
    "ng/ml": ("mass", 1.0),
    "ug/l": ("mass", 1.0),
    "ng/dl": ("mass", 0.01),
    "pg/ml": ("mass", 1e-3),
    "ng/l": ("mass", 1e-3),
    "iu/l": ("activity", 1.0),
    "miu/ml": ("activity", 1.0),
}


def concentration_unit(unit: str) -> tuple[str, float]:
    """``(dimension, value of one unit in ng/mL or IU/L)`` of a drug-concentration unit."""
    try:
        return CONCENTRATION_UNITS[unit.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown drug-concentration unit {unit!r}; use one of ng/mL, ng/dL, "
                         "pg/mL, ug/L, ng/L, IU/L, mIU/mL") from None

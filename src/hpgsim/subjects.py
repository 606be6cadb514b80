"""The simulated man: covariates and optional baseline labs to individualize to."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hpgsim.errors import InputError

CONDITIONS = ("healthy", "gnrh_deficient", "primary_testicular_dysfunction")
ANCESTRIES = ("non_asian", "asian")

# plausible ranges; outside them the value is a typo, not a man
_RANGES: dict[str, tuple[float, float, str]] = {
    "age_years": (16.0, 100.0, "years"),
    "weight_kg": (35.0, 300.0, "kg"),
    "bmi": (14.0, 80.0, "kg/m2"),
    "testis_volume_ml": (1.0, 80.0, "mL, both testes together"),
    "total_testosterone_ng_dl": (1.0, 5000.0, "ng/dL"),
    "lh_iu_l": (0.01, 150.0, "IU/L"),
    "fsh_iu_l": (0.01, 200.0, "IU/L"),
    "estradiol_pg_ml": (0.5, 500.0, "pg/mL"),
    "sperm_concentration_million_per_ml": (0.01, 500.0, "million/mL"),
}


@dataclass(frozen=True)
class Subject:
    """Covariates of one man (validation-schema keys). Baseline labs are optional targets."""

    age_years: float = 30.0
    weight_kg: float = 80.0
    bmi: float | None = None
    ancestry: str = "non_asian"
    testis_volume_ml: float | None = None
    condition: str = "healthy"
    total_testosterone_ng_dl: float | None = None
    lh_iu_l: float | None = None
    fsh_iu_l: float | None = None
    estradiol_pg_ml: float | None = None
    sperm_concentration_million_per_ml: float | None = None

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise InputError("subject.condition", self.condition, "unknown condition",
                             f"use one of {', '.join(CONDITIONS)}")
        if self.ancestry not in ANCESTRIES:
            raise InputError("subject.ancestry", self.ancestry, "unknown ancestry",
                             f"use one of {', '.join(ANCESTRIES)}")
        for name, (lo, hi, unit) in _RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"subject.{name}", value, "not a number",
                                 f"give a number in {unit}")
            if not lo <= value <= hi:
                raise InputError(f"subject.{name}", value, "outside the plausible range",
                                 f"give a value between {lo:g} and {hi:g} {unit}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], field: str = "subject") -> Subject:
        """Build from a mapping, refusing unknown keys by name."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InputError(f"{field}.{key}", data[key], "unknown subject key",
                                 f"use one of {', '.join(sorted(known))}")
        try:
            return cls(**data)
        except InputError as err:
            raise err.at(field.rsplit(".", 1)[0]) if "." in field else err from None

    @property
    def baseline_labs(self) -> dict[str, float]:
        """Baseline labs given, keyed by analyte name (canonical units)."""
        pairs = {
            "total_testosterone": self.total_testosterone_ng_dl,
            "lh": self.lh_iu_l,
            "fsh": self.fsh_iu_l,
            "estradiol": self.estradiol_pg_ml,
            "sperm_concentration": self.sperm_concentration_million_per_ml,
        }
        return {k: v for k, v in pairs.items() if v is not None}

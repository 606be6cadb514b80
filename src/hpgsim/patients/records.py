"""A patient's covariates and dose history, and the regimen his history amounts to.

Times are timezone-aware UTC datetimes; the model's time 0 for a patient is chosen by the caller
(:func:`regimen_from_doses`), and everything before his first dose is his drug-free steady state.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hpgsim.errors import InputError
from hpgsim.patients.labs import format_datetime
from hpgsim.regimen.checks import check_dose, resolve
from hpgsim.regimen.model import Regimen, RegimenLine
from hpgsim.subjects import Subject
from hpgsim.units import HOURS_PER, Dose, parse_dose

DAYS_PER_YEAR = HOURS_PER["y"] / HOURS_PER["d"]
ESTIMATED_BIRTH_SLACK_DAYS = DAYS_PER_YEAR  # a birth date computed from an age is +-1 year
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_patient_id(patient_id: str) -> str:
    """The id, refused unless 1-64 letters, digits, ``.``, ``_`` or ``-``."""
    if not _ID.match(patient_id):
        raise InputError("patient", patient_id, "not a valid patient id",
                         "use 1-64 letters, digits, '.', '_' or '-' (e.g. P-0001)")
    return patient_id


@dataclass(frozen=True)
class PatientInfo:
    """A patient: id, birth date (``birth_date_estimated`` when computed from an age) and the
    covariates of :class:`hpgsim.subjects.Subject` (weight in kg, BMI in kg/m2, testis volume in
    mL for both testes)."""

    patient_id: str
    birth_date: date | None = None
    birth_date_estimated: bool = False
    weight_kg: float = 80.0
    bmi: float | None = None
    ancestry: str = "non_asian"
    condition: str = "healthy"
    testis_volume_ml: float | None = None

    def __post_init__(self) -> None:
        check_patient_id(self.patient_id)
        self.subject(None)  # validates the covariates

    @property
    def birth_slack_days(self) -> float:
        """How far before the recorded birth date a lab may still be (estimated birth dates)."""
        return ESTIMATED_BIRTH_SLACK_DAYS if self.birth_date_estimated else 0.0

    def age_at(self, when: datetime) -> float | None:
        """Age in years at ``when`` (None without a birth date)."""
        if self.birth_date is None:
            return None
        born = datetime(self.birth_date.year, self.birth_date.month, self.birth_date.day,
                        tzinfo=UTC)
        return (when - born) / timedelta(days=DAYS_PER_YEAR)

    def subject(self, when: datetime | None) -> Subject:
        """The model Subject at ``when``: age 30 when the birth date or time is unknown, else
        the age clamped to the model's 16-100 years."""
        age = self.age_at(when) if when is not None else None
        return Subject(age_years=30.0 if age is None else min(max(age, 16.0), 100.0),
                       weight_kg=self.weight_kg, bmi=self.bmi, ancestry=self.ancestry,
                       condition=self.condition, testis_volume_ml=self.testis_volume_ml)


def birth_date_from_age(age_years: float, today: date) -> date:
    """The birth date of someone ``age_years`` old today (approximate)."""
    return today - timedelta(days=round(age_years * DAYS_PER_YEAR))


@dataclass(frozen=True)
class DoseRecord:
    """One administration: time (UTC), catalog drug, amount in ``unit`` (``mg`` or ``IU``),
    catalog route and formulation (None when the product has none)."""

    given_at: datetime
    drug: str
    amount: float
    unit: str
    route: str
    formulation: str | None = None

    @property
    def dose(self) -> Dose:
        return Dose(self.amount, "mass" if self.unit == "mg" else "activity")


def make_dose(*, given_at: datetime, drug: str, dose: str, route: str | None = None,
              formulation: str | None = None, where: str = "") -> DoseRecord:
    """A validated DoseRecord: drug, route and formulation resolved against the catalog
    (aliases and default routes allowed), dose checked for its dimension and size."""
    at = f"{where}." if where else ""
    product = resolve(drug, route or None, formulation or None, field=where)
    amount = parse_dose(dose, f"{at}dose")
    check_dose(product.drug, amount, f"{at}dose")
    return DoseRecord(given_at, product.drug.name, amount.amount, amount.unit, product.route,
                      product.formulation)


def doses_from_regimen(regimen: Regimen, start: datetime) -> list[DoseRecord]:
    """The doses of a regimen (e.g. a protocol file) given from ``start``; pumps are refused."""
    if regimen.pumps():
        raise InputError("protocol", regimen.name, "a pump cannot be stored as dose history",
                         "record the pump's boluses, or leave the pump out of the history")
    return [DoseRecord(start + timedelta(hours=b.time), b.drug, b.amount,
                       resolve(b.drug).drug.dose_unit, b.route, b.formulation)
            for b in regimen.boluses()]


def regimen_from_doses(doses: Sequence[DoseRecord], t0: datetime, span_hours: float,
                       name: str = "history") -> Regimen:
    """The dose history as a Regimen on hours since ``t0``, simulated for ``span_hours``.
    Doses before ``t0`` are refused (``t0`` must not be after the first dose)."""
    lines = []
    for i, d in enumerate(sorted(doses, key=lambda d: d.given_at)):
        hours = (d.given_at - t0) / timedelta(hours=1)
        if hours < 0.0:
            raise InputError(f"doses[{i}].date", d.given_at.isoformat(),
                             "a dose before the start of the simulated span",
                             "start the span at or before the first dose")
        lines.append(RegimenLine(d.drug, d.dose, d.route, start=hours,
                                 formulation=d.formulation))
    return Regimen(tuple(lines), span=span_hours, name=name)


def check_history(times: Sequence[datetime], keys: Sequence[Hashable], wheres: Sequence[str], *,
                  what: str, same: str, patient: PatientInfo, now: datetime,
                  stored: Iterable[Hashable] = ()) -> None:
    """Refuse records (labs or doses: ``what``) dated in the future or before the patient's
    birth (less a year for a birth date estimated from an age), and duplicate ``keys`` within
    the batch or with ``stored`` (``same`` says what a key holds besides the time, for the
    message). ``wheres[i]`` names record i in messages."""
    seen = {k: "the database" for k in stored}
    born = patient.birth_date
    earliest = (None if born is None else datetime(born.year, born.month, born.day, tzinfo=UTC)
                - timedelta(days=patient.birth_slack_days))
    for t, key, where in zip(times, keys, wheres, strict=True):
        field = f"{where}.date"
        if t > now:
            raise InputError(field, format_datetime(t), f"a {what} dated in the future",
                             "check the date (and the year)")
        if earliest is not None and t < earliest:
            raise InputError(field, format_datetime(t), f"a {what} dated before the patient's "
                             "birth", "check the date, or the patient's birth date or age")
        if key in seen:
            raise InputError(field, format_datetime(t),
                             f"duplicate {what}: the same time and {same} is in {seen[key]}",
                             "remove the repeated row (or correct its date)")
        seen[key] = where

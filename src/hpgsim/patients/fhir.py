"""FHIR R4 Bundles of laboratory Observations: import and export.

Each lab result is an ``Observation`` (``category`` laboratory, ``code`` LOINC, ``subject``
``Patient/<id>``, ``effectiveDateTime``, ``valueQuantity`` with a UCUM ``code`` and, for a
censored value, ``comparator`` ``<`` or ``>``, ``referenceRange`` low/high in the same unit).
A result whose analyte and unit have no LOINC code in :data:`hpgsim.patients.labs.LOINC`
(free T in pmol/L, inhibin B) is exported with ``code.text`` only (the hpgsim analyte name) and
read back from it: no code is invented. Values, units and censoring are written as stored, so
export then import gives the same records.

Validation uses pydantic models of the few R4 elements read here (unknown elements are allowed
and ignored, as FHIR readers must). The ``fhir.resources`` package was not used: it covers all
of FHIR (hundreds of models) for a subset this small, its current releases default to R5 with R4
in a separate namespace, and its errors would still need mapping to ``entry[i].<element>``.
Non-Observation entries (e.g. the Patient) are skipped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hpgsim.errors import InputError
from hpgsim.patients.labs import (
    LOINC,
    UCUM,
    LabRecord,
    format_datetime,
    make_lab,
    parse_datetime,
)
from hpgsim.units import ANALYTES

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_RESULT_STATUSES = ("final", "amended", "corrected", "preliminary")
_ID_NAMESPACE = uuid.UUID("1c0bd1c3-7f8c-4a1f-9b9e-6b0a0f5a3e21")  # stable ids of exported results


class _Element(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Coding(_Element):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(_Element):
    coding: list[Coding] = []
    text: str | None = None


class Quantity(_Element):
    value: float
    comparator: Literal["<", "<=", ">=", ">"] | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class ReferenceRange(_Element):
    low: Quantity | None = None
    high: Quantity | None = None


class Reference(_Element):
    reference: str | None = None


class Observation(_Element):
    resourceType: Literal["Observation"]
    status: str
    code: CodeableConcept
    subject: Reference | None = None
    effectiveDateTime: str
    valueQuantity: Quantity
    referenceRange: list[ReferenceRange] = []


class Entry(_Element):
    resource: dict[str, Any]


class Bundle(_Element):
    resourceType: Literal["Bundle"]
    type: str
    entry: list[Entry] = []


def _path(prefix: str, loc: Sequence[int | str]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _invalid(err: ValidationError, prefix: str) -> InputError:
    first = err.errors(include_url=False)[0]
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return InputError(_path(prefix, first["loc"]), first.get("input"),
                      f"malformed FHIR: {first['msg']}{more}",
                      "give a FHIR R4 Bundle of Observations with valueQuantity")


def _analyte(code: CodeableConcept, where: str) -> tuple[str, str | None]:
    """(analyte name, LOINC code or None) of an Observation.code."""
    loinc = [c.code for c in code.coding if c.system == LOINC_SYSTEM and c.code]
    if loinc:
        known = [c for c in loinc if c in LOINC]
        if not known:
            raise InputError(f"{where}.code.coding", loinc[0], "unknown analyte (LOINC code)",
                             f"hpgsim reads LOINC {', '.join(LOINC)}")
        return LOINC[known[0]][0], known[0]
    if code.text in ANALYTES:
        return code.text, None
    raise InputError(f"{where}.code", code.text, "unknown analyte: no LOINC coding",
                     f"give a {LOINC_SYSTEM} coding (one of {', '.join(LOINC)})")


def read_bundle(text: str, patient_id: str,
                source: str = "bundle") -> tuple[list[LabRecord], list[str]]:
    """Parse and validate a Bundle's Observations; returns the records and where each came
    from (``entry[i]``). Any error refuses the whole Bundle."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(source, f"line {err.lineno}, column {err.colno}", "not valid JSON",
                         "give a FHIR R4 Bundle in JSON") from None
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as err:
        raise _invalid(err, source) from None
    records, wheres = [], []
    for i, entry in enumerate(bundle.entry):
        where = f"entry[{i}]"
        if entry.resource.get("resourceType") != "Observation":
            continue
        try:
            obs = Observation.model_validate(entry.resource)
        except ValidationError as err:
            raise _invalid(err, f"{where}.resource") from None
        at = f"{where}.resource"
        if obs.status not in _RESULT_STATUSES:
            raise InputError(f"{at}.status", obs.status, "not a result status",
                             f"use one of {', '.join(_RESULT_STATUSES)} (remove the others)")
        ref = obs.subject.reference if obs.subject else None
        if ref is not None and ref.split("/")[-1] != patient_id:
            raise InputError(f"{at}.subject.reference", ref,
                             f"observation of another patient than {patient_id}",
                             "import each patient's Bundle separately")
        name, code = _analyte(obs.code, at)
        q = obs.valueQuantity
        if q.comparator in ("<=", ">="):
            raise InputError(f"{at}.valueQuantity.comparator", q.comparator,
                             "only strict censoring is kept", 'use "<" or ">"')
        if q.system not in (None, UCUM_SYSTEM):
            raise InputError(f"{at}.valueQuantity.system", q.system, "not a UCUM unit",
                             f"give the unit as system {UCUM_SYSTEM} with a UCUM code")
        unit = q.code or q.unit
        if unit is None:
            raise InputError(f"{at}.valueQuantity.code", None, "no unit", "give a UCUM code")
        if len(obs.effectiveDateTime) < len("2024-03-01"):
            raise InputError(f"{at}.effectiveDateTime", obs.effectiveDateTime,
                             "a year or month alone is too imprecise for a lab time",
                             "give the day (and time) of the sample")
        ranges = obs.referenceRange[0] if obs.referenceRange else ReferenceRange()
        records.append(make_lab(
            taken_at=parse_datetime(obs.effectiveDateTime, f"{at}.effectiveDateTime"),
            analyte_name=name, value=q.value, unit=unit, censor=q.comparator or "",
            ref_low=ranges.low.value if ranges.low else None,
            ref_high=ranges.high.value if ranges.high else None, loinc=code,
            where=f"{at}.valueQuantity"))
        wheres.append(where)
    return records, wheres


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM_SYSTEM, "code": UCUM.get(unit, unit)}


def observation(record: LabRecord, patient_id: str) -> dict[str, Any]:
    """One lab record as an R4 Observation (JSON-able dict)."""
    a = ANALYTES[record.analyte]
    code: dict[str, Any] = {"text": record.analyte}
    if record.loinc:
        code["coding"] = [{"system": LOINC_SYSTEM, "code": record.loinc, "display": a.label}]
    value = _quantity(record.value, record.unit)
    if record.censor:
        value["comparator"] = record.censor
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_ID_NAMESPACE, f"{patient_id}|{record.analyte}|"
                                            f"{format_datetime(record.taken_at)}")),
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "laboratory"}]}],
        "code": code,
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": format_datetime(record.taken_at),
        "valueQuantity": value,
    }
    ranges = {k: _quantity(v, record.unit)
              for k, v in (("low", record.ref_low), ("high", record.ref_high)) if v is not None}
    if ranges:
        obs["referenceRange"] = [ranges]
    return obs


def write_bundle(records: Sequence[LabRecord], patient_id: str) -> str:
    """The records as a FHIR R4 Bundle (type collection), JSON text."""
    entries = [{"fullUrl": f"urn:uuid:{o['id']}", "resource": o}
               for o in (observation(r, patient_id) for r in records)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries},
                      indent=1) + "\n"

"""Patients over HTTP: records, labs and dose history in the patient store
(:class:`hpgsim.patients.store.Store`), his individual fit, and forecasts of candidate
protocols against his labs.

- ``forecast`` (immediate): time 0 is his first lab or dose, whichever came first (as for the
  fit). The first course is his dose history alone; each candidate then starts at ``start``
  (default: the day after his last dose or lab) after the history. The model is his stored fit
  (MAP parameters) when he has one, else the typical man for his covariates individualised to
  his uncensored labs from before his first dose (their mean per analyte as baseline labs).
- ``fit`` (a background job): :class:`hpgsim.patients.fit.IndividualFit` on his labs and doses;
  the result is stored and later forecasts use it.
- ``plan`` (a background job, needs a fit): :func:`hpgsim.patients.forecast.plan`, bands over
  posterior draws and endpoint probabilities per candidate, ranked.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hpgsim.errors import DoseWarning, InputError
from hpgsim.patients.fit import FitResult, IndividualFit, PatientData
from hpgsim.patients.forecast import Forecast, plan
from hpgsim.patients.labs import LabRecord, format_datetime, make_lab, parse_datetime
from hpgsim.patients.records import (
    DoseRecord,
    PatientInfo,
    birth_date_from_age,
    doses_from_regimen,
    regimen_from_doses,
)
from hpgsim.patients.store import Store
from hpgsim.patients.titration import Candidate, shifted
from hpgsim.regimen import Protocol
from hpgsim.regimen.model import DAY, WEEK
from hpgsim.result import DISCLAIMER
from hpgsim.subjects import Subject
from hpgsim.web.api import BUSY, ERRORS, submit_job
from hpgsim.web.jobs import Progress
from hpgsim.web.models import (
    Band,
    CandidateForecast,
    CompareOut,
    FitOut,
    FitParameter,
    FitPoint,
    JobOut,
    PlanOut,
    ProtocolIn,
    Strict,
)
from hpgsim.web.service import (
    check_limits,
    course_out,
    endpoint_rows,
    load_protocol,
    rounded,
    run_course,
    unique_labels,
)
from hpgsim.web.settings import Settings
from hpgsim.web.state import AppState, get_state

FOLLOW_UP_H = 12.0 * WEEK  # the history course runs this long past the last dose or lab
BASELINE_LAB_KEYS = {  # analyte -> Subject baseline-lab key
    "total_testosterone": "total_testosterone_ng_dl", "lh": "lh_iu_l", "fsh": "fsh_iu_l",
    "estradiol": "estradiol_pg_ml", "sperm_concentration": "sperm_concentration_million_per_ml",
}
DateText = Annotated[str, Field(max_length=40, examples=["2024-03-01", "2024-03-01T08:30:00Z"])]

router = APIRouter(prefix="/api/patients", tags=["patients"])
State = Annotated[AppState, Depends(get_state)]


class PatientIn(Strict):
    """A new patient: an id, a birth date or an age, and covariates."""

    id: Annotated[str, Field(max_length=64, examples=["P-0001"])]
    birth_date: DateText | None = None
    age_years: float | None = None
    weight_kg: float = 80.0
    bmi: float | None = None
    ancestry: Annotated[str, Field(max_length=20)] = "non_asian"
    condition: Annotated[str, Field(max_length=40)] = "healthy"
    testis_volume_ml: float | None = None


class PatientOut(BaseModel):
    id: str
    birth_date: str | None
    birth_date_estimated: bool
    weight_kg: float
    bmi: float | None
    ancestry: str
    condition: str
    testis_volume_ml: float | None


class LabIn(Strict):
    """One lab result as reported: value may carry a censor sign (``"<0.5"``)."""

    taken_at: DateText
    analyte: Annotated[str, Field(max_length=40)]
    value: float | Annotated[str, Field(max_length=40)]
    unit: Annotated[str, Field(max_length=20)]
    ref_low: float | None = None
    ref_high: float | None = None


class LabsIn(Strict):
    labs: list[LabIn] = Field(min_length=1, max_length=500)


class LabOut(BaseModel):
    """A stored lab; ``canonical``: the value in the analyte's canonical unit."""

    taken_at: str
    analyte: str
    value: float
    unit: str
    censor: str
    canonical: float
    ref_low: float | None
    ref_high: float | None
    loinc: str | None


class DosesIn(Strict):
    """A protocol given from ``start``: its doses become the patient's dose history."""

    protocol: ProtocolIn
    start: DateText


class DoseOut(BaseModel):
    given_at: str
    drug: str
    amount: float
    unit: str
    route: str
    formulation: str | None


class PatientDetail(BaseModel):
    patient: PatientOut
    labs: list[LabOut]
    doses: list[DoseOut]


class ForecastIn(Strict):
    """Candidate protocols (none: the history alone) starting at ``start``."""

    protocols: list[ProtocolIn] = Field(default_factory=list, max_length=20)
    start: DateText | None = None


class PlanIn(Strict):
    """Candidate protocols to plan, from ``start`` (default: the day after his last lab or
    dose), over ``n_draws`` posterior draws."""

    protocols: list[ProtocolIn] = Field(min_length=1, max_length=20)
    start: DateText | None = None
    n_draws: int = Field(100, ge=10, le=100_000)


class LabPoint(BaseModel):
    """A lab on the model's time axis (h since ``t0``), value in the canonical unit."""

    t_h: float
    analyte: str
    value: float
    censor: str


class ForecastOut(CompareOut):
    """The courses (history first, then each candidate), the labs on their time axis, and
    how the model was individualised: ``fitted`` (the stored fit's MAP) or to
    ``baseline_labs`` (his labs before the first dose)."""

    t0: str
    start_h: float
    labs: list[LabPoint]
    baseline_labs: dict[str, float]
    fitted: bool


def _patient_out(p: PatientInfo) -> PatientOut:
    return PatientOut(id=p.patient_id, birth_date=p.birth_date.isoformat() if p.birth_date else
                      None, birth_date_estimated=p.birth_date_estimated, weight_kg=p.weight_kg,
                      bmi=p.bmi, ancestry=p.ancestry, condition=p.condition,
                      testis_volume_ml=p.testis_volume_ml)


def _lab_out(r: LabRecord) -> LabOut:
    return LabOut(taken_at=format_datetime(r.taken_at), analyte=r.analyte, value=r.value,
                  unit=r.unit, censor=r.censor, canonical=r.canonical, ref_low=r.ref_low,
                  ref_high=r.ref_high, loinc=r.loinc)


def _dose_out(d: DoseRecord) -> DoseOut:
    return DoseOut(given_at=format_datetime(d.given_at), drug=d.drug, amount=d.amount,
                   unit=d.unit, route=d.route, formulation=d.formulation)


def _detail(store: Store, patient_id: str) -> PatientDetail:
    return PatientDetail(patient=_patient_out(store.patient(patient_id)),
                         labs=[_lab_out(r) for r in store.labs(patient_id)],
                         doses=[_dose_out(d) for d in store.doses(patient_id)])


def _store(state: AppState) -> Store:
    assert state.store is not None, "the patient router is mounted only with a store"
    return state.store


@router.get("", response_model=list[PatientOut])
def list_patients(state: State) -> list[PatientOut]:
    """Every patient, by id."""
    return [_patient_out(p) for p in _store(state).patients()]


@router.post("", response_model=PatientDetail, status_code=201, responses=ERRORS)
def add_patient(body: PatientIn, state: State) -> PatientDetail:
    """Store a new patient (an existing id is refused)."""
    store = _store(state)
    if body.birth_date is not None and body.age_years is not None:
        raise InputError("age_years", body.age_years, "both a birth date and an age given",
                         "give one of them")
    born: date | None = None
    if body.birth_date is not None:
        born = parse_datetime(body.birth_date, "birth_date").date()
    elif body.age_years is not None:
        Subject(age_years=body.age_years)  # range check, naming subject.age_years
        born = birth_date_from_age(body.age_years, datetime.now(UTC).date())
    info = PatientInfo(body.id, born, body.birth_date is None and born is not None,
                       body.weight_kg, body.bmi, body.ancestry, body.condition,
                       body.testis_volume_ml)
    store.add_patient(info)
    return _detail(store, body.id)


@router.get("/{patient_id}", response_model=PatientDetail, responses=ERRORS)
def get_patient(patient_id: str, state: State) -> PatientDetail:
    """A patient with his labs and dose history."""
    return _detail(_store(state), patient_id)


@router.post("/{patient_id}/labs", response_model=PatientDetail, responses=ERRORS)
def add_labs(patient_id: str, body: LabsIn, state: State) -> PatientDetail:
    """Add lab results: all are validated, then stored together or not at all."""
    store = _store(state)
    records = [make_lab(taken_at=parse_datetime(lab.taken_at, f"labs[{i}].taken_at"),
                        analyte_name=lab.analyte, value=lab.value, unit=lab.unit,
                        ref_low=lab.ref_low, ref_high=lab.ref_high, where=f"labs[{i}]")
               for i, lab in enumerate(body.labs)]
    store.import_labs(patient_id, records, [f"labs[{i}]" for i in range(len(records))], "web")
    return _detail(store, patient_id)


@router.post("/{patient_id}/doses", response_model=PatientDetail, responses=ERRORS)
def add_doses(patient_id: str, body: DosesIn, state: State) -> PatientDetail:
    """Record a protocol given from ``start`` as dose history (doses not after now)."""
    store = _store(state)
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        protocol, _ = load_protocol(body.protocol, "protocol", state.settings)
    start = parse_datetime(body.start, "start")
    now = datetime.now(UTC)
    doses = [d for d in doses_from_regimen(protocol.regimen, start) if d.given_at <= now]
    if not doses:
        raise InputError("start", body.start, "no dose of the protocol falls before now",
                         "give a start date in the past")
    store.import_doses(patient_id, doses, [f"doses[{i}]" for i in range(len(doses))], "web")
    return _detail(store, patient_id)


def _hours(t: datetime, t0: datetime) -> float:
    return (t - t0) / timedelta(hours=1)


def _baseline_subject(info: PatientInfo, labs: list[LabRecord], t0: datetime,
                      before: datetime) -> tuple[Subject, dict[str, float]]:
    """The patient at ``t0``, individualised to his uncensored labs taken before ``before``."""
    values: dict[str, list[float]] = defaultdict(list)
    for r in labs:
        if r.analyte in BASELINE_LAB_KEYS and not r.censor and r.taken_at < before:
            values[r.analyte].append(r.canonical)
    means = {k: math.fsum(v) / len(v) for k, v in values.items()}
    given: dict[str, Any] = {BASELINE_LAB_KEYS[k]: v for k, v in means.items()}
    return replace(info.subject(t0), **given), means


def _latest_fit(store: Store, patient_id: str) -> FitResult | None:
    found = store.latest_fit(patient_id)
    return FitResult.from_dict(found[1]) if found is not None else None


def _candidates(specs: list[ProtocolIn], settings: Settings) -> list[tuple[Protocol, list[str]]]:
    return [load_protocol(spec, f"protocols[{i}]", settings) for i, spec in enumerate(specs)]


@router.post("/{patient_id}/forecast", response_model=ForecastOut, responses=ERRORS)
def forecast(patient_id: str, body: ForecastIn, state: State) -> ForecastOut:
    """The dose history and each candidate protocol after it, with the labs to compare.

    With a stored fit (``POST .../fit``) the courses use its MAP parameters; without one, the
    model is individualised to his uncensored labs from before his first dose."""
    started = time.perf_counter()
    store, settings = _store(state), state.settings
    if len(body.protocols) + 1 > settings.max_compare:
        raise InputError("protocols", len(body.protocols), "more candidates than this server "
                         f"compares at once ({settings.max_compare - 1} besides the history)",
                         f"give at most {settings.max_compare - 1}")
    info, labs, doses = store.patient(patient_id), store.labs(patient_id), store.doses(patient_id)
    fit = _latest_fit(store, patient_id)
    first_dose = min((d.given_at for d in doses), default=None)
    t0 = min([r.taken_at for r in labs] + [d.given_at for d in doses] or [datetime.now(UTC)])
    last = max([_hours(d.given_at, t0) for d in doses] + [_hours(r.taken_at, t0) for r in labs]
               + [0.0])
    start_days = (math.ceil(_hours(parse_datetime(body.start, "start"), t0) / DAY)
                  if body.start is not None else math.floor(last / DAY) + 1)
    if start_days < 0:
        raise InputError("start", body.start, "before the patient's first dose or lab",
                         "give a later start")
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        means: dict[str, float] = {}
        overrides: dict[str, float] = {}
        if fit is not None:
            subject = info.subject(t0)
            overrides = dict(zip(fit.parameters, map(float, fit.values(fit.eta_map)),
                                 strict=True))
        else:
            before = first_dose or datetime.max.replace(tzinfo=UTC)
            subject, means = _baseline_subject(info, labs, t0, before)
        history = regimen_from_doses(doses, t0, max(last, start_days * DAY) + FOLLOW_UP_H,
                                     "history")
        check_limits(history, settings, "doses")
        runs: list[tuple[Protocol, list[str]]] = [(Protocol("History", "", history), [])]
        for i, (protocol, warns) in enumerate(_candidates(body.protocols, settings)):
            moved = shifted(protocol.regimen, start_days)
            combined = replace(moved, lines=history.lines + moved.lines, name=protocol.name)
            check_limits(combined, settings, f"protocols[{i}]")
            runs.append((Protocol(protocol.name, protocol.description, combined), warns))
        labels = unique_labels([p.name for p, _ in runs])
        courses = [run_course(p, w, subject, settings, None, label, overrides)
                   for (p, w), label in zip(runs, labels, strict=True)]
        outs = [course_out(c) for c in courses]
    points = [LabPoint(t_h=_hours(r.taken_at, t0), analyte=r.analyte, value=r.canonical,
                       censor=r.censor) for r in labs]
    return ForecastOut(courses=outs, table=endpoint_rows([c.summary for c in courses]),
                       elapsed_s=round(time.perf_counter() - started, 3), disclaimer=DISCLAIMER,
                       t0=format_datetime(t0), start_h=start_days * DAY, labs=points,
                       baseline_labs=means, fitted=fit is not None)


@router.post("/{patient_id}/fit", response_model=JobOut, status_code=202,
             responses=ERRORS | BUSY)
def start_fit(patient_id: str, state: State) -> JobOut | JSONResponse:
    """Start fitting the patient's parameters to his labs and doses (a background job; the fit
    is stored and later forecasts use it)."""
    store = _store(state)
    info, labs, doses = store.patient(patient_id), store.labs(patient_id), store.doses(patient_id)
    data = PatientData.from_records(info, labs, doses)  # refuses a patient without labs

    def work(progress: Progress) -> FitOut:
        progress(0.0, "fitting")
        with state.lock:
            result = IndividualFit().fit(data).result_
        store.save_fit(patient_id, result.to_dict())
        intervals = result.intervals()
        return FitOut(
            patient_id=patient_id, t0=format_datetime(result.t0), method=result.method,
            ess=result.ess, n_runs=result.n_runs, seconds=round(result.seconds, 3),
            notes=list(result.notes),
            parameters=[FitParameter(name=n, typical=float(result.typical[j]),
                                     map=float(result.values(result.eta_map)[j]),
                                     low=intervals[n][0], median=intervals[n][1],
                                     high=intervals[n][2])
                        for j, n in enumerate(result.parameters)],
            points=[FitPoint(t_h=float(t), analyte=a, observed=float(o), predicted=float(p),
                             censor=c)
                    for t, a, o, p, c in zip(result.times, result.analytes, result.observed,
                                             result.predicted, result.censor, strict=True)])

    return submit_job(state, "fit", work)


@router.post("/{patient_id}/plan", response_model=JobOut, status_code=202,
             responses=ERRORS | BUSY)
def start_plan(patient_id: str, body: PlanIn, state: State) -> JobOut | JSONResponse:
    """Start a plan (a background job): each candidate protocol after the patient's history
    over draws from his fit's posterior, with bands and endpoint probabilities, ranked."""
    store, settings = _store(state), state.settings
    if body.n_draws > settings.max_cohort:
        raise InputError("n_draws", body.n_draws, f"more than this server's cohort limit "
                         f"({settings.max_cohort})", f"ask for at most {settings.max_cohort}")
    fitted = _latest_fit(store, patient_id)
    if fitted is None:
        raise InputError("patient", patient_id, "the patient has no fit yet",
                         f"fit him first: POST /api/patients/{patient_id}/fit")
    info, labs, doses = store.patient(patient_id), store.labs(patient_id), store.doses(patient_id)
    data = PatientData.from_records(info, labs, doses)
    start = parse_datetime(body.start, "start") if body.start is not None else None
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        candidates = [Candidate(p.name or f"Protocol {i + 1}", p.regimen, ())
                      for i, (p, _) in enumerate(_candidates(body.protocols, settings))]

    def work(progress: Progress) -> PlanOut:
        started = time.perf_counter()
        progress(0.0, f"simulating {body.n_draws} draws per candidate")
        with state.lock:
            ranked = plan(fitted, data, candidates, start=start, n_draws=body.n_draws)
        return PlanOut(forecasts=[_candidate_out(f) for f in ranked],
                       elapsed_s=round(time.perf_counter() - started, 3))

    return submit_job(state, "plan", work)


def _candidate_out(f: Forecast) -> CandidateForecast:
    return CandidateForecast(
        name=f.name, n_draws=f.n_draws, times_h=np.round(f.days * DAY, 4).tolist(),
        bands={a: Band(p5=rounded(b[0]), p50=rounded(b[1]), p95=rounded(b[2]))
               for a, b in f.bands.items()},
        p_sperm_6mo=f.p_sperm_6mo, p_sperm_12mo=f.p_sperm_12mo, p_T300=f.p_T300,
        t_T300_days=list(f.t_T300_days) if f.t_T300_days is not None else None,
        e2_peak=list(f.e2_peak), next_labs_day=f.next_labs_day)

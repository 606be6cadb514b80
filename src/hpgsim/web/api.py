"""The HTTP API: model metadata, drug catalog, examples, protocol check, simulate, compare,
CSV export, cohort bands as background jobs.

Every body is validated (pydantic, then the library's own checks) and errors come back as
``{"error": {field, value, problem, fix, message}}`` (see :mod:`hpgsim.web.errors`).
"""

from __future__ import annotations

import time
import warnings
from importlib.metadata import version
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from hpgsim.drugs.catalog import catalog_rows
from hpgsim.errors import DoseWarning, InputError
from hpgsim.regimen.model import WEEKDAYS
from hpgsim.result import DISCLAIMER
from hpgsim.subjects import ANCESTRIES, CONDITIONS
from hpgsim.units import ANALYTES, analyte
from hpgsim.web.cohort import cohort_bands
from hpgsim.web.errors import http_error
from hpgsim.web.jobs import Busy, Progress, Work
from hpgsim.web.loop import DRUG_SITES, SIGNALS
from hpgsim.web.models import (
    AnalyteOut,
    CohortIn,
    CohortOut,
    CompareIn,
    CompareOut,
    CsvIn,
    DrugSiteOut,
    ErrorOut,
    ExampleDetail,
    ExampleOut,
    JobOut,
    MetaOut,
    ProtocolCheckIn,
    ProtocolOut,
    SignalOut,
    SimulateIn,
    SimulateOut,
)
from hpgsim.web.service import (
    course_out,
    csv_text,
    endpoint_rows,
    load_protocol,
    output_step,
    protocol_out,
    run_course,
    subject_of,
    unique_labels,
)
from hpgsim.web.state import AppState, get_state

PLOT_ANALYTES = ("total_testosterone", "free_testosterone", "lh", "fsh", "estradiol",
                 "inhibin_b", "sperm_concentration")
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not valid JSON"},
    422: {"model": ErrorOut, "description": "invalid input: the field, the problem, the fix"}}
BUSY: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "too many jobs queued or running"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such item"}}

router = APIRouter(prefix="/api")
State = Annotated[AppState, Depends(get_state)]


@router.get("/meta", response_model=MetaOut)
def meta(state: State) -> MetaOut:
    """Analytes (units, factors, reference intervals), loop signals, drug sites, limits."""
    s = state.settings
    return MetaOut(
        version=version("hpgsim"), disclaimer=DISCLAIMER,
        analytes=[AnalyteOut(name=a.name, label=a.label, units=list(a.units),
                             factors=list(a.factors), reference=list(a.reference),
                             reference_source=a.reference_source, loinc=a.loinc)
                  for a in ANALYTES.values()],
        plot_analytes=list(PLOT_ANALYTES),
        signals=[SignalOut(name=g.name, label=g.label, organ=g.organ, unit=g.unit,
                           description=g.description) for g in SIGNALS],
        drug_sites={k: DrugSiteOut(organ=v.organ, action=v.action) for k, v in DRUG_SITES.items()},
        conditions=list(CONDITIONS), ancestries=list(ANCESTRIES), weekdays=list(WEEKDAYS),
        limits={"max_span_weeks": s.max_span_weeks, "max_doses": s.max_doses,
                "max_points": s.max_points, "max_compare": s.max_compare,
                "max_cohort": s.max_cohort, "rate_per_minute": s.rate_per_minute},
        patients=state.store is not None, auth=s.token is not None)


@router.get("/drugs")
def drugs() -> list[dict[str, Any]]:
    """The drug catalog: one row per drug, route and formulation, with PK numbers and sources
    (the rows of ``hpgsim drugs --json``)."""
    return catalog_rows()


@router.get("/examples", response_model=list[ExampleOut])
def examples(state: State) -> list[ExampleOut]:
    """The example protocols."""
    return [ExampleOut(id=e.id, name=e.name, description=e.description)
            for e in state.examples.values()]


@router.get("/examples/{example_id}", response_model=ExampleDetail, responses=NOT_FOUND)
def example(example_id: str, state: State) -> ExampleDetail | JSONResponse:
    """One example: its protocol and subject, as the builder edits them."""
    found = state.examples.get(example_id)
    if found is None:
        return http_error(404, "example_id", f"no example {example_id[:80]!r}",
                          "pick one listed by GET /api/examples")
    return found


@router.post("/protocol", response_model=ProtocolOut, responses=ERRORS)
def check_protocol(body: ProtocolCheckIn, state: State) -> ProtocolOut:
    """Validate a protocol and render its compact text form, lines, phases and doses."""
    with state.lock:
        protocol, warns = load_protocol(body.protocol, "protocol", state.settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DoseWarning)  # already in ``warns``
            return protocol_out(protocol, warns)


@router.post("/simulate", response_model=SimulateOut, responses=ERRORS)
def simulate(body: SimulateIn, state: State) -> SimulateOut:
    """Simulate one protocol for one subject (default: the typical man)."""
    started = time.perf_counter()
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        subject = subject_of(body.subject)
        protocol, warns = load_protocol(body.protocol, "protocol", state.settings)
        label = unique_labels([protocol.name])[0]
        course = run_course(protocol, warns, subject, state.settings, body.output_step_h, label)
        out = course_out(course)
    return SimulateOut(course=out, table=endpoint_rows([course.summary]),
                       elapsed_s=round(time.perf_counter() - started, 3), disclaimer=DISCLAIMER)


@router.post("/simulate.csv", responses=ERRORS | {200: {"content": {"text/csv": {}}}},
             response_class=Response)
def simulate_csv(body: CsvIn, state: State) -> Response:
    """One course as CSV: a column per analyte and drug species, its unit in its name (units
    chosen per analyte with ``units``; canonical otherwise)."""
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        subject = subject_of(body.subject)
        protocol, warns = load_protocol(body.protocol, "protocol", state.settings)
        course = run_course(protocol, warns, subject, state.settings, body.output_step_h, "")
        text = csv_text(course.result, body.units)
    name = "".join(c if c.isalnum() else "_" for c in protocol.name)[:60] or "course"
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.post("/compare", response_model=CompareOut, responses=ERRORS)
def compare(body: CompareIn, state: State) -> CompareOut:
    """Simulate two or more protocols for the same subject; an endpoint table compares them."""
    started = time.perf_counter()
    limit = state.settings.max_compare
    if len(body.protocols) > limit:
        raise InputError("protocols", len(body.protocols),
                         f"more protocols than this server compares at once ({limit})",
                         f"compare at most {limit}")
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        subject = subject_of(body.subject)
        loaded = [load_protocol(p, f"protocols[{i}]", state.settings)
                  for i, p in enumerate(body.protocols)]
        labels = unique_labels([p.name for p, _ in loaded])
        courses = [run_course(p, w, subject, state.settings, body.output_step_h, label)
                   for (p, w), label in zip(loaded, labels, strict=True)]
        outs = [course_out(c) for c in courses]
    return CompareOut(courses=outs, table=endpoint_rows([c.summary for c in courses]),
                      elapsed_s=round(time.perf_counter() - started, 3), disclaimer=DISCLAIMER)


@router.post("/cohort", response_model=JobOut, status_code=202,
             responses=ERRORS | BUSY)
def cohort(body: CohortIn, state: State) -> JobOut | JSONResponse:
    """Start a cohort-band job (5-50-95% of each analyte over ``size`` virtual men); poll
    ``GET /api/jobs/{id}`` for progress and the result."""
    s = state.settings
    if body.size > s.max_cohort:
        raise InputError("size", body.size, f"larger than this server's cohort limit "
                         f"({s.max_cohort})", f"ask for at most {s.max_cohort} subjects")
    with state.lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        subject = subject_of(body.subject)
        protocol, _ = load_protocol(body.protocol, "protocol", s)
    names = [analyte(n, f"observables[{i}]").name
             for i, n in enumerate(body.observables or PLOT_ANALYTES)]
    step = output_step(protocol.regimen.end, s, body.output_step_h)
    label = unique_labels([protocol.name])[0]

    def work(progress: Progress) -> CohortOut:
        return cohort_bands(subject, protocol.regimen, label=label, size=body.size,
                            seed=body.seed, observables=names, step_h=step,
                            chunk=s.cohort_chunk, lock=state.lock, report=progress)

    return submit_job(state, "cohort", work)


def submit_job(state: AppState, kind: str, work: Work) -> JobOut | JSONResponse:
    """Queue ``work`` as a background job; 429 when too many are pending."""
    try:
        return state.jobs.submit(kind, work)
    except Busy:
        return http_error(429, "jobs", f"{state.settings.max_jobs} jobs are already queued or "
                          "running", "wait for one to finish, or cancel one")


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def job(job_id: str, state: State) -> JobOut | JSONResponse:
    """A background job: status, progress and, when done, its result."""
    out = state.jobs.get(job_id)
    return out if out is not None else _no_job(job_id)


@router.delete("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def cancel_job(job_id: str, state: State) -> JobOut | JSONResponse:
    """Cancel a queued or running job (a finished one is returned unchanged)."""
    out = state.jobs.cancel(job_id)
    return out if out is not None else _no_job(job_id)


def _no_job(job_id: str) -> JSONResponse:
    return http_error(404, "job_id", f"no job {job_id[:80]!r}",
                      "jobs are kept for a while after they finish; start a new one")

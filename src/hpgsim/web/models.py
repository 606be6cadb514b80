"""Request and response bodies of the HTTP API (pydantic), as published in its OpenAPI spec.

Requests mirror the protocol file format of :mod:`hpgsim.regimen.protocol` (quantities are
strings with their unit, ``"150 mg"``, ``"7 d"``) and the keys of :class:`hpgsim.Subject`; the
library validates the values and its :class:`~hpgsim.errors.InputError` names the field.
Lengths are capped here so that no request body is unbounded. Responses carry analyte values
in the canonical unit of ``hpgsim.units.ANALYTES`` and times in hours; the page converts units.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hpgsim.subjects import Subject

Qty = Annotated[str, Field(max_length=40, examples=["150 mg", "7 d"])]
Word = Annotated[str, Field(max_length=80)]
MAX_LINES = 12  # drug lines per phase
MAX_PHASES = 20
MAX_TEXT = 4000
MAX_STEP_H = 24.0 * 7.0  # coarsest output step a request may ask for


class Strict(BaseModel):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TaperStepIn(Strict):
    """One taper step: ``{"dose": "50 mg", "for": "2 w"}``."""

    dose: Qty
    for_: Qty = Field(alias="for")


class DrugIn(Strict):
    """One drug line of a phase (keys of a protocol file's drug line)."""

    drug: Word
    dose: Qty | None = None
    taper: list[TaperStepIn] | None = Field(None, max_length=MAX_PHASES)
    route: Word | None = None
    formulation: Word | None = None
    every: Qty | None = Field(None, examples=["7 d", "2x/w", "eod", "pulse"])
    days: list[Annotated[str, Field(max_length=12)]] | None = Field(None, max_length=7)
    pulse_interval: Qty | None = None
    start: Qty | None = None
    duration: Qty | None = None
    count: int | None = Field(None, ge=1, le=1_000_000)


class PhaseIn(Strict):
    """A phase: name, optional absolute start and duration, drug lines."""

    name: Word
    start: Qty | None = None
    duration: Qty | None = None
    drugs: list[DrugIn] = Field(default_factory=list, max_length=MAX_LINES)


class ProtocolIn(Strict):
    """A protocol: ``phases`` or the compact ``text`` form (exactly one), and a follow-up."""

    name: str = Field("", max_length=120)
    description: str = Field("", max_length=2000)
    start_weekday: Word = "mon"
    phases: list[PhaseIn] | None = Field(None, max_length=MAX_PHASES)
    text: str | None = Field(None, max_length=MAX_TEXT,
                             examples=["TC 150 mg q7d x 52w; then observe 26w"])
    follow_up: Qty | None = None

    def to_dict(self) -> dict[str, Any]:
        """The protocol as :func:`hpgsim.regimen.protocol_from_dict` reads it."""
        return self.model_dump(by_alias=True, exclude_none=True)


class SubjectIn(Strict):
    """The simulated man (keys of :class:`hpgsim.Subject`; ranges are checked by it)."""

    age_years: float | None = None
    weight_kg: float | None = None
    bmi: float | None = None
    ancestry: Word | None = None
    testis_volume_ml: float | None = None
    condition: Word | None = None
    total_testosterone_ng_dl: float | None = None
    lh_iu_l: float | None = None
    fsh_iu_l: float | None = None
    estradiol_pg_ml: float | None = None
    sperm_concentration_million_per_ml: float | None = None

    def to_subject(self, field: str = "subject") -> Subject:
        """The validated Subject (``InputError`` naming ``subject.<key>`` when out of range)."""
        return Subject.from_dict(self.model_dump(exclude_none=True), field)


StepH = Annotated[float, Field(gt=0.0, le=MAX_STEP_H)]


class SimulateIn(Strict):
    """One protocol for one subject; ``output_step_h`` is a wish (the server may coarsen it)."""

    protocol: ProtocolIn
    subject: SubjectIn | None = None
    output_step_h: StepH | None = None


class CsvIn(SimulateIn):
    """A course as CSV, with a display unit per analyte (``{"T": "nmol/L"}``)."""

    units: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=20)]] = \
        Field(default_factory=dict, max_length=20)


class CompareIn(Strict):
    """Two or more protocols for the same subject."""

    protocols: list[ProtocolIn] = Field(min_length=2, max_length=20)
    subject: SubjectIn | None = None
    output_step_h: StepH | None = None


class CohortIn(Strict):
    """Cohort bands: ``size`` virtual men around ``subject`` (between-subject variability)."""

    protocol: ProtocolIn
    subject: SubjectIn | None = None
    size: int = Field(200, ge=1, le=100_000)
    seed: int = Field(1, ge=0, le=2**32 - 1)
    observables: list[Annotated[str, Field(max_length=40)]] | None = Field(None, max_length=12)
    output_step_h: StepH | None = None


class ProtocolCheckIn(Strict):
    """A protocol to validate and render in the compact text form."""

    protocol: ProtocolIn


# --- responses -------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    """What was wrong: the field (dotted path), the value, the problem and the fix."""

    field: str
    value: str | None
    problem: str
    fix: str
    message: str


class ErrorOut(BaseModel):
    """Every error response."""

    error: ErrorBody


class DoseMark(BaseModel):
    """One discrete dose (amount in the drug's dose unit: mg or IU)."""

    t_h: float
    drug: str
    label: str
    route: str
    amount: float
    unit: str


class PumpBar(BaseModel):
    """A pump train: pulses of ``amount`` every ``interval_h`` from ``start_h`` to ``end_h``."""

    start_h: float
    end_h: float
    drug: str
    label: str
    route: str
    interval_h: float
    amount: float
    unit: str


class PhaseOut(BaseModel):
    name: str
    start_h: float
    end_h: float


class DrugSeries(BaseModel):
    """A drug species' concentration over time in ``unit``."""

    unit: str
    values: list[float | None]


class ProtocolOut(BaseModel):
    """A validated protocol: its compact text (None when none reproduces it), lines, phases."""

    name: str
    text: str | None
    lines: list[str]
    phases: list[PhaseOut]
    span_h: float
    doses: list[DoseMark]
    pumps: list[PumpBar]
    drug_classes: dict[str, str]
    warnings: list[str]


class CourseOut(BaseModel):
    """A simulated course.

    ``series``: analyte -> values at ``times_h`` (canonical units, 5 significant digits of the
    series' largest value); ``baseline``: the drug-free steady state; ``signals``: the model's
    internal signals (dimensionless, 1 = the typical man at rest; fractions for blockades);
    ``summary``: :meth:`hpgsim.summary.Summary.to_dict` in canonical units.
    """

    label: str
    protocol: ProtocolOut
    times_h: list[float]
    series: dict[str, list[float | None]]
    baseline: dict[str, float | None]
    signals: dict[str, list[float | None]]
    signal_baseline: dict[str, float | None]
    drugs: dict[str, DrugSeries]
    summary: dict[str, Any]
    warnings: list[str]
    output_step_h: float


class Cell(BaseModel):
    """One protocol's entry in an endpoint row: a value (canonical unit or weeks), the week it
    happened, or a text when there is no number."""

    value: float | None = None
    week: float | None = None
    text: str | None = None


class EndpointRow(BaseModel):
    """A row of the comparison table. With ``analyte`` set, values are in its canonical unit
    (and ``threshold`` too); ``kind`` says how to read ``value``: an analyte value, a week of
    the course, or weeks after the last suppressive dose."""

    key: str
    label: str
    kind: Literal["value", "week", "weeks_after"]
    analyte: str | None
    threshold: float | None
    cells: list[Cell]


class SimulateOut(BaseModel):
    """One course and its endpoint table."""

    course: CourseOut
    table: list[EndpointRow]
    elapsed_s: float
    disclaimer: str


class CompareOut(BaseModel):
    courses: list[CourseOut]
    table: list[EndpointRow]
    elapsed_s: float
    disclaimer: str


class Band(BaseModel):
    """Quantiles of one analyte across the cohort at each time (canonical unit)."""

    p5: list[float | None]
    p50: list[float | None]
    p95: list[float | None]


class CohortOut(BaseModel):
    """Cohort 5-50-95% bands; ``failed``: members whose solve failed (left out)."""

    label: str
    size: int
    seed: int
    failed: int
    times_h: list[float]
    bands: dict[str, Band]
    engine: str
    elapsed_s: float


class FitParameter(BaseModel):
    """A fitted parameter: its typical value for the patient's covariates, the MAP and the
    posterior median with its 90% interval."""

    name: str
    typical: float
    map: float
    low: float
    median: float
    high: float


class FitPoint(BaseModel):
    """A lab the fit used (h since ``t0``; canonical unit) and the MAP prediction there."""

    t_h: float
    analyte: str
    observed: float
    predicted: float
    censor: str


class FitOut(BaseModel):
    """An individual fit (:func:`hpgsim.patients.fit.fit_patient`)."""

    patient_id: str
    t0: str
    method: str
    ess: float
    n_runs: int
    seconds: float
    notes: list[str]
    parameters: list[FitParameter]
    points: list[FitPoint]


class CandidateForecast(BaseModel):
    """One candidate of a plan (:func:`hpgsim.patients.forecast.plan`): 5-50-95% bands over
    posterior draws on the protocol's clock (h from its start) and its endpoints: the
    probability of sperm >= 15 million/mL by 6 and 12 months, of total T >= 300 ng/dL, the days
    to it and the E2 peak (pg/mL) as (5%, median, 95%), and the most informative next lab day."""

    name: str
    n_draws: int
    times_h: list[float]
    bands: dict[str, Band]
    p_sperm_6mo: float | None
    p_sperm_12mo: float | None
    p_T300: float
    t_T300_days: list[float] | None
    e2_peak: list[float]
    next_labs_day: float | None


class PlanOut(BaseModel):
    """Candidates ranked best first."""

    forecasts: list[CandidateForecast]
    elapsed_s: float


class JobOut(BaseModel):
    """A background job; ``progress`` in [0, 1]; ``result`` once ``status`` is ``done``."""

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    message: str
    result: CohortOut | FitOut | PlanOut | None = None
    error: ErrorBody | None = None


class AnalyteOut(BaseModel):
    """An analyte: units (first canonical) with factors from the canonical unit, reference
    interval in the canonical unit (None: no bound), its source, LOINC code."""

    name: str
    label: str
    units: list[str]
    factors: list[float]
    reference: list[float | None]
    reference_source: str
    loinc: str | None


class SignalOut(BaseModel):
    """An internal model signal shown in the feedback-loop diagram."""

    name: str
    label: str
    organ: str
    unit: str
    description: str


class DrugSiteOut(BaseModel):
    """Where a drug class acts in the loop, and how."""

    organ: str
    action: str


class ExampleOut(BaseModel):
    id: str
    name: str
    description: str


class ExampleDetail(ExampleOut):
    protocol: ProtocolIn
    subject: SubjectIn | None


class MetaOut(BaseModel):
    """What the page needs to know about this server and the model."""

    version: str
    disclaimer: str
    analytes: list[AnalyteOut]
    plot_analytes: list[str]
    signals: list[SignalOut]
    drug_sites: dict[str, DrugSiteOut]
    conditions: list[str]
    ancestries: list[str]
    weekdays: list[str]
    limits: dict[str, float]
    patients: bool
    auth: bool

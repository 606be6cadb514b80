"""The trial file: arms, a cohort, endpoints and outputs (YAML, validated with pydantic).

    name: Recovery after TRT
    arms:
      - {name: stop, text: "observe 52w"}                     # compact text form
      - {name: restart, protocol: ../examples/hcg_serm.yaml}  # a protocol file (relative to
      - {name: inline, inline: {phases: [...], follow_up: 52 w}}  # this file) or inline
    cohort:
      size: 200          # subjects per arm (the same subjects in every arm)
      seed: 1
      chunk_size: 50     # subjects per chunk (the unit of work, of resumption and of seeding)
      max_size: 1000000  # the cap on size
      subject: {age_years: {mean: 35, sd: 8, min: 18, max: 60}, ancestry: {asian: 0.2,
                non_asian: 0.8}, testis_volume_ml: {...}, condition: {...}}
      prior_suppression: {agent: testosterone_cypionate, dose: 150 mg, route: im,
                          every: 7 d, duration: 52 w}
    endpoints:
      - {name: sperm_15, observable: sperm_concentration, threshold: 15, direction: above}
      - {name: azoospermic_26w, kind: fraction_at, observable: sperm_concentration,
         threshold: 0.1, direction: below, at: 26 w}
    outputs: {output_step: 1 d, plots: true, parquet: true, trajectories: false,
              report_at: [26 w, 52 w]}
    solver: {rtol: 1.0e-6, atol: 1.0e-9}   # the defaults; see docs/trials.md before loosening

Thresholds are in the canonical unit of the observable (``hpgsim.units.ANALYTES``: ng/dL,
IU/L, million/mL). Every time in an arm and in an endpoint counts from the end of the prior
suppression (the start of the arm); a prior duration of whole weeks keeps the arm's weekday
schedules on their weekdays. ``subject`` takes the validation-schema cohort keys
(``hpgsim.validation.cohort.sample_subjects``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from hpgsim.errors import InputError
from hpgsim.regimen import Regimen, load_protocol, parse_regimen, protocol_from_dict
from hpgsim.regimen.protocol import regimen_from_schema_lines
from hpgsim.simulation import SimulationOptions
from hpgsim.units import analyte, parse_time
from hpgsim.validation.cohort import sample_subjects

DEFAULT_MAX_SIZE = 1_000_000
DEFAULT_RTOL = SimulationOptions.rtol
DEFAULT_ATOL = SimulationOptions.atol


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArmSpec(_Strict):
    """One arm: exactly one of ``protocol`` (file path), ``inline`` (protocol mapping), ``text``."""

    name: str
    protocol: str | None = None
    inline: dict[str, Any] | None = None
    text: str | None = None


class PriorSpec(_Strict):
    """Suppression before the trial (one drug line), simulated before every arm."""

    agent: str
    dose: str
    route: str | None = None
    every: str = "7 d"
    duration: str


class CohortSpec(_Strict):
    """Size, seed, chunking, covariate distributions and prior suppression."""

    size: int
    seed: int = 0
    chunk_size: int = 100
    max_size: int = DEFAULT_MAX_SIZE
    subject: dict[str, Any] = {}
    prior_suppression: PriorSpec | None = None


class EndpointSpec(_Strict):
    """``time_to``: time (from arm start) to first reach ``threshold`` at or after ``after``
    (e.g. past the washout of exogenous T); ``fraction_at``: the fraction of subjects beyond
    ``threshold`` at time ``at``."""

    name: str
    observable: str
    threshold: float
    direction: Literal["above", "below"] = "above"
    kind: Literal["time_to", "fraction_at"] = "time_to"
    at: str | None = None
    after: str = "0 d"


class OutputSpec(_Strict):
    """Output grid (``output_step``), plots (PNG + HTML page) and Parquet tables on/off, times
    at which KM curves are tabulated, per-subject trajectories (Parquet, chunk by chunk)."""

    output_step: str = "1 d"
    plots: bool = True
    parquet: bool = True
    trajectories: bool = False
    report_at: list[str] = ["26 w", "52 w"]


class SolverSpec(_Strict):
    """Solver tolerances of the trial (``SimulationOptions`` defaults unless given; see
    docs/trials.md for the accuracy of looser ones)."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


class TrialFile(_Strict):
    """The whole trial file."""

    name: str = ""
    arms: list[ArmSpec]
    cohort: CohortSpec
    endpoints: list[EndpointSpec]
    outputs: OutputSpec = OutputSpec()
    solver: SolverSpec = SolverSpec()


@dataclass(frozen=True)
class Endpoint:
    """A validated endpoint; ``at`` (``fraction_at`` only) and ``after`` in hours from arm
    start."""

    name: str
    observable: str
    threshold: float
    direction: Literal["above", "below"]
    kind: Literal["time_to", "fraction_at"]
    at: float | None
    after: float


@dataclass(frozen=True)
class TrialSpec:
    """A validated trial: one full regimen per arm (prior suppression included), the prior
    alone, the arm start ``offset`` (h, the prior duration), solver tolerances, outputs, and
    the raw file (a plain mapping, sent to workers)."""

    name: str
    arms: tuple[tuple[str, Regimen], ...]
    prior: Regimen
    offset: float
    cohort: CohortSpec
    endpoints: tuple[Endpoint, ...]
    output_step: float
    report_at: tuple[float, ...]
    outputs: OutputSpec
    rtol: float
    atol: float
    data: dict[str, Any]
    base_dir: str

    @property
    def plots(self) -> bool:
        """Whether PNG plots and the HTML page are written."""
        return self.outputs.plots

    @property
    def observables(self) -> tuple[str, ...]:
        """Observables simulated: those the endpoints name, plus T, LH, FSH and sperm."""
        names = ["total_testosterone", "lh", "fsh", "sperm_concentration"]
        names += [e.observable for e in self.endpoints if e.observable not in names]
        return tuple(names)


def _shift(regimen: Regimen, offset: float, prior: Regimen) -> Regimen:
    """``prior`` followed by ``regimen`` started ``offset`` hours later."""
    lines = tuple(replace(ln, start=ln.start + offset,
                          end=None if ln.end is None else ln.end + offset) for ln in regimen.lines)
    phases = tuple(replace(ph, start=ph.start + offset, end=ph.end + offset)
                   for ph in regimen.phases)
    return replace(regimen, lines=prior.lines + lines, phases=prior.phases + phases,
                   span=regimen.end + offset)


def _arm(arm: ArmSpec, index: int, base_dir: Path) -> Regimen:
    forms = [k for k in ("protocol", "inline", "text") if getattr(arm, k) is not None]
    field = f"arms[{index}]"
    if len(forms) != 1:
        raise InputError(field, arm.name, "give exactly one of protocol, inline or text",
                         "name a protocol file, or write the protocol inline or as text")
    try:
        if arm.protocol is not None:
            path = Path(arm.protocol)
            return load_protocol(path if path.is_absolute() else base_dir / path).regimen
        if arm.inline is not None:
            return protocol_from_dict(arm.inline, field).regimen
        return parse_regimen(arm.text or "", name=arm.name)
    except InputError as err:
        raise err.at(field) from None


def _check_cohort(c: CohortSpec) -> None:
    if c.max_size < 1:
        raise InputError("cohort.max_size", c.max_size, "must be positive", "give e.g. 1000000")
    if not 1 <= c.size <= c.max_size:
        raise InputError("cohort.size", c.size, f"must be between 1 and {c.max_size}",
                         "give a cohort size >= 1 (or raise cohort.max_size)")
    if c.chunk_size < 1:
        raise InputError("cohort.chunk_size", c.chunk_size, "must be positive", "give e.g. 100")


def _endpoint(e: EndpointSpec, index: int) -> Endpoint:
    field = f"endpoints[{index}]"
    name = analyte(e.observable, f"{field}.observable").name
    if e.kind == "fraction_at" and e.at is None:
        raise InputError(f"{field}.at", None, "a fraction_at endpoint needs a time",
                         'give e.g. at: "26 w"')
    at = None if e.at is None else parse_time(e.at, f"{field}.at")
    return Endpoint(e.name, name, e.threshold, e.direction, e.kind, at,
                    parse_time(e.after, f"{field}.after"))


def trial_from_dict(data: Any, base_dir: str | Path = ".", where: str = "trial") -> TrialSpec:
    """Validate a parsed trial file; protocol paths are relative to ``base_dir``."""
    if not isinstance(data, Mapping):
        raise InputError("trial", type(data).__name__, f"{where} is not a mapping",
                         "write the trial as YAML keys: arms, cohort, endpoints, outputs")
    try:
        spec = TrialFile.model_validate(dict(data))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "trial"
        raise InputError(loc, first.get("input"), f"{first['msg']} in {where}",
                         "see hpgsim.population.spec for the trial file keys") from None
    if not spec.arms:
        raise InputError("arms", [], "a trial needs at least one arm", "add an arm")
    names = [a.name for a in spec.arms]
    if len(set(names)) != len(names):
        raise InputError("arms", names, "arm names repeat", "give each arm its own name")
    if not spec.endpoints:
        raise InputError("endpoints", [], "a trial needs at least one endpoint", "add one")
    _check_cohort(spec.cohort)
    sample_subjects(spec.cohort.subject, 1, spec.cohort.seed, "cohort.subject")  # checks keys
    prior = Regimen(())
    offset = 0.0
    if (p := spec.cohort.prior_suppression) is not None:
        line = {"drug": p.agent, "dose": p.dose, "every": p.every, "duration": p.duration}
        if p.route is not None:
            line["route"] = p.route
        prior = regimen_from_schema_lines([line], where="cohort.prior_suppression")
        offset = parse_time(p.duration, "cohort.prior_suppression.duration")
    base = Path(base_dir)
    arms = []
    for i, arm in enumerate(spec.arms):
        regimen = _arm(arm, i, base)
        if not regimen.lines and regimen.span is None:
            raise InputError(f"arms[{i}]", arm.name, "the arm is empty (no drugs, no follow-up)",
                             'give a regimen, or "observe 52w" for a no-treatment arm')
        arms.append((arm.name, _shift(regimen, offset, prior)))
    step = parse_time(spec.outputs.output_step, "outputs.output_step")
    report_at = tuple(parse_time(t, "outputs.report_at") for t in spec.outputs.report_at)
    endpoints = tuple(_endpoint(e, i) for i, e in enumerate(spec.endpoints))
    shortest = min(r.end for _, r in arms) - offset
    for i, e in enumerate(endpoints):
        for key, value in (("at", e.at), ("after", e.after)):
            if value is not None and not 0.0 <= value < shortest:
                raise InputError(f"endpoints[{i}].{key}", value, "outside the arms' follow-up",
                                 f"give a time from 0 to below {shortest:g} h after arm start")
    try:
        SimulationOptions(rtol=spec.solver.rtol, atol=spec.solver.atol)
    except InputError as err:
        raise InputError(err.field.replace("options.", "solver."), err.value, err.problem,
                         err.fix) from None
    return TrialSpec(spec.name, tuple(arms), prior, offset, spec.cohort, endpoints, step,
                     report_at, spec.outputs, spec.solver.rtol, spec.solver.atol, dict(data),
                     str(base))


def load_trial(path: str | Path) -> TrialSpec:
    """Load and validate a trial file (YAML)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("trial", str(p), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("trial", str(p), f"cannot read the file ({err})",
                         "give a readable UTF-8 YAML file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError("trial", str(p), f"not valid YAML{at}",
                         "fix the YAML syntax (indentation, colons, quotes)") from None
    return trial_from_dict(data, p.parent, str(p))


def with_trajectories(spec: TrialSpec) -> TrialSpec:
    """``spec`` with ``outputs.trajectories`` on (the raw mapping too, so workers see it)."""
    outputs = dict(spec.data.get("outputs") or {}, trajectories=True)
    return replace(spec, outputs=spec.outputs.model_copy(update={"trajectories": True}),
                   data=dict(spec.data, outputs=outputs))

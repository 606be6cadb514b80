"""What the API does, without HTTP: validate protocols against the server's limits, simulate
them, and turn results into response bodies.

All model work runs under one lock (see :class:`hpgsim.web.app.AppState`): the simulator
records warnings with ``warnings.catch_warnings``, which is process-wide, and the compiled
engine already uses every core for a cohort, so requests gain nothing from running side by side.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.catalog import default_catalog
from hpgsim.errors import DoseWarning, InputError
from hpgsim.export import CSV_FORMAT, to_table
from hpgsim.regimen import Protocol, protocol_from_dict, render_regimen
from hpgsim.regimen.model import Regimen
from hpgsim.result import Result
from hpgsim.simulation import SimulationOptions, simulate
from hpgsim.subjects import Subject
from hpgsim.summary import RECOVERY_THRESHOLDS, SUMMARY_ANALYTES, Summary, summarize
from hpgsim.units import ANALYTES, HOURS_PER, format_time
from hpgsim.web.loop import loop_signals
from hpgsim.web.models import (
    Cell,
    CourseOut,
    DoseMark,
    DrugSeries,
    EndpointRow,
    PhaseOut,
    ProtocolIn,
    ProtocolOut,
    PumpBar,
    SubjectIn,
)
from hpgsim.web.settings import Settings

WEEK = HOURS_PER["w"]
SIGNIFICANT = 5  # digits kept in series sent to the page (of each series' largest value)
FloatArray = NDArray[np.float64]


def rounded(values: Sequence[float] | FloatArray, digits: int = SIGNIFICANT) -> list[float | None]:
    """Values rounded to ``digits`` significant digits of their largest magnitude, as JSON-ready
    floats (None for NaN or infinite)."""
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    top = float(np.max(np.abs(x[finite]))) if finite.any() else 0.0
    decimals = digits - 1 - math.floor(math.log10(top)) if top > 0.0 else 0
    out: list[float | None] = np.round(x, decimals).tolist()
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist(), strict=True)]
    return out


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth of lists and dicts, made None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def subject_of(spec: SubjectIn | None) -> Subject:
    """The requested subject, or the typical man."""
    return spec.to_subject() if spec is not None else Subject()


def load_protocol(spec: ProtocolIn, field: str, settings: Settings) -> tuple[Protocol, list[str]]:
    """Validate ``spec`` and check it against the server's limits.

    Returns the protocol and its dose warnings. Errors name ``<field>.<path in the protocol>``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DoseWarning)
        try:
            protocol = protocol_from_dict(spec.to_dict(), "the protocol")
        except InputError as err:
            raise err.at(field) from None
    check_limits(protocol.regimen, settings, field)
    return protocol, [str(w.message) for w in caught if issubclass(w.category, DoseWarning)]


def check_limits(regimen: Regimen, settings: Settings, field: str) -> None:
    """Refuse a regimen longer, or with more doses, than the server allows."""
    if regimen.end > settings.max_span_h:
        raise InputError(field, format_time(regimen.end),
                         f"the simulated span is longer than this server's limit of "
                         f"{settings.max_span_weeks:g} weeks",
                         "shorten the phases or the follow-up")
    doses = sum(line.n_events() for line in regimen.lines)
    if doses > settings.max_doses:
        raise InputError(field, doses, f"more doses than this server's limit of "
                         f"{settings.max_doses}", "use longer intervals or shorter durations")


def output_step(span_h: float, settings: Settings, wish: float | None) -> float:
    """The output step (h): the wish (default 1 h), coarsened to keep the course under
    ``settings.max_points`` samples."""
    return max(wish or 1.0, float(math.ceil(span_h / settings.max_points)))


def protocol_out(protocol: Protocol, warnings_: Sequence[str]) -> ProtocolOut:
    """The validated protocol as the page shows it: text form, lines, phases, dose marks."""
    regimen = protocol.regimen
    catalog = default_catalog()
    try:
        text: str | None = render_regimen(regimen)
    except ValueError:
        text = None
    doses = [DoseMark(t_h=b.time, drug=b.drug, label=catalog.drugs[b.drug].label, route=b.route,
                      amount=b.amount, unit=catalog.drugs[b.drug].dose_unit)
             for b in regimen.boluses() if b.time < regimen.end]
    pumps = [PumpBar(start_h=p.start, end_h=min(p.end, regimen.end), drug=p.drug,
                     label=catalog.drugs[p.drug].label, route=p.route, interval_h=p.interval,
                     amount=p.amount, unit=catalog.drugs[p.drug].dose_unit)
             for p in regimen.pumps()]
    drugs = {ln.drug for ln in regimen.lines}
    return ProtocolOut(
        name=protocol.name, text=text, lines=[ln.describe() for ln in regimen.lines],
        phases=[PhaseOut(name=p.name, start_h=p.start, end_h=p.end) for p in regimen.phases],
        span_h=regimen.end, doses=doses, pumps=pumps,
        drug_classes={d: catalog.drugs[d].drug_class for d in sorted(drugs)},
        warnings=list(warnings_))


@dataclass(frozen=True)
class Course:
    """A simulated protocol with its summary."""

    label: str
    protocol: Protocol
    protocol_warnings: tuple[str, ...]
    result: Result
    summary: Summary
    step_h: float
    parameters: Mapping[str, float]


def run_course(protocol: Protocol, protocol_warnings: Sequence[str], subject: Subject,
               settings: Settings, step_wish: float | None, label: str,
               parameters: Mapping[str, float] | None = None) -> Course:
    """Simulate ``protocol`` for ``subject`` (with parameter overrides, e.g. an individual
    fit) on the server's output grid and summarize it."""
    regimen: Regimen = protocol.regimen
    step = output_step(regimen.end, settings, step_wish)
    overrides = dict(parameters or {})
    result = simulate(subject, regimen, SimulationOptions(output_step=step), overrides)
    return Course(label, protocol, tuple(protocol_warnings), result, summarize(result), step,
                  overrides)


def course_out(course: Course) -> CourseOut:
    """The response body of one course."""
    r = course.result
    signals, signal_base = loop_signals(r, course.parameters)
    warns = list(dict.fromkeys([*course.protocol_warnings, *r.warnings]))
    return CourseOut(
        label=course.label,
        protocol=protocol_out(course.protocol, course.protocol_warnings),
        times_h=np.round(r.times, 4).tolist(),
        series={n: rounded(r.observables[n]) for n in r.observable_names},
        baseline={n: finite_or_none(float(v)) for n, v in r.baseline.items()},
        signals={k: rounded(v) for k, v in signals.items()},
        signal_baseline={k: finite_or_none(v) for k, v in signal_base.items()},
        drugs={s: DrugSeries(unit=r.drug_units[s], values=rounded(v)) for s, v in r.drugs.items()},
        summary=finite_or_none(course.summary.to_dict()),
        warnings=warns,
        output_step_h=course.step_h,
    )


def unique_labels(names: Sequence[str]) -> list[str]:
    """Protocol names as labels: ``Protocol <n>`` when empty, ``(2)``, ``(3)`` on repeats."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names, start=1):
        base = name.strip() or f"Protocol {i}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return out


def _recovery_cell(summary: Summary, analyte: str) -> Cell:
    rc = summary.recovery
    if rc is None:
        return Cell(text="no suppressive dose")
    mark = next((m for m in rc.marks if m.analyte == analyte), None)
    if mark is None or mark.time_h is None:
        return Cell(text="not reached")
    if mark.never_below:
        return Cell(text="never fell below")
    return Cell(value=mark.time_h / WEEK, week=(rc.start_h + mark.time_h) / WEEK)


def endpoint_rows(summaries: Sequence[Summary]) -> list[EndpointRow]:
    """The comparison table: recovery clock and times, nadirs and end values per protocol."""
    rows = [EndpointRow(
        key="recovery_start", label="Recovery clock starts (last suppressive dose)",
        kind="week", analyte=None, threshold=None,
        cells=[Cell(week=s.recovery.start_h / WEEK) if s.recovery else
               Cell(text="no suppressive dose") for s in summaries])]
    rows += [EndpointRow(
        key=f"recovery_{name}", label=f"{ANALYTES[name].label} back to", kind="weeks_after",
        analyte=name, threshold=threshold, cells=[_recovery_cell(s, name) for s in summaries])
        for name, (threshold, _) in RECOVERY_THRESHOLDS.items()]
    names = [n for n in SUMMARY_ANALYTES if all(n in s.nadirs for s in summaries)]
    rows += [EndpointRow(
        key=f"nadir_{n}", label=f"Nadir {ANALYTES[n].label}", kind="value", analyte=n,
        threshold=None, cells=[Cell(value=s.nadirs[n].value, week=s.nadirs[n].time_h / WEEK)
                               for s in summaries]) for n in names]
    rows += [EndpointRow(
        key=f"end_{n}", label=f"End {ANALYTES[n].label}", kind="value", analyte=n,
        threshold=None, cells=[Cell(value=s.final[n]) for s in summaries]) for n in names]
    return rows


def csv_text(result: Result, units: Mapping[str, str]) -> str:
    """The course as CSV, columns as :func:`hpgsim.export.to_table` names them."""
    table = to_table(result, units)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack(list(table.values())), fmt=CSV_FORMAT, delimiter=",",
               header=",".join(table), comments="")
    return buffer.getvalue()

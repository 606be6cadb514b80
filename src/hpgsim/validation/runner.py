"""Run validation targets: simulate each scenario, compute its statistic, compare.

Each target's measure is compiled into a :class:`Plan`: the quantity resolved (an analyte, or
the species a drug delivers), the threshold in canonical units, the simulated span and the output
step. The span is ``until`` when given, else the latest time the measure names, and ``from + 3
y`` for a time to threshold (``validation/SCHEMA.md``). The output step is the coarsest of
``STEP_LADDER`` that resolves the measure:

- at most ``DEFAULT_STEP`` (1 h);
- at most a window's length / ``WINDOW_SAMPLES`` (peaks of a 4-min gonadorelin curve need
  seconds, a 10-week dosing interval needs an hour);
- for a result that is a time, at most its unit / ``SAMPLES_PER_TIME_UNIT`` (a half-life in
  minutes is read to about a second, one in days to half an hour);
- fine enough that the point times ``at`` and ``relative_to`` fall on the grid, so that values
  there are simulated, not interpolated;
- but never finer than span / ``MAX_SAMPLES``, to bound memory.

Targets that describe the same scenario (same subject, cohort, regimen and step) share one
simulation per subject; since the model is causal, a longer shared span changes nothing at the
times a target reads. Every subject of a scenario is simulated once and reduced, in the process
that simulated it, to one outcome per plan (a value, a time or a 0/1); the outcomes are then
summarised (the value of one subject, a fraction, a median, a mean) and compared with the
expected interval. Cohort members run in a process pool when a run has more than
``PARALLEL_ABOVE`` simulations. Nothing depends on target ids.

A target that cannot be run (unknown drug, bad field, solver failure, a statistic that does not
exist, e.g. a threshold never crossed) gives a result with ``error`` set and ``passed`` False.
In a cohort, a member whose simulation fails is left out and counted in ``failed_members``.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpgsim.drugs.catalog import default_catalog
from hpgsim.errors import DoseWarning, HpgsimError
from hpgsim.regimen.model import Regimen
from hpgsim.regimen.protocol import regimen_from_schema_lines
from hpgsim.result import Result
from hpgsim.simulation import SimulationOptions, simulate
from hpgsim.subjects import Subject
from hpgsim.units import HOURS_PER, analyte, concentration_unit, format_time
from hpgsim.validation import statistics as st
from hpgsim.validation.cohort import member_parameters, sample_parameters, sample_subjects
from hpgsim.validation.schema import (
    CANONICAL_CONCENTRATION,
    COHORT_STATISTICS,
    DIMENSIONLESS_STATISTICS,
    DRUG_CONCENTRATION,
    RESULT_SCHEMA_ID,
    Entry,
    InvalidTarget,
    Measure,
    Target,
    TargetFile,
)

TIME_TO_HORIZON = 3.0 * HOURS_PER["y"]  # default search span of a time to threshold (SCHEMA.md)
DEFAULT_STEP = 1.0  # h
STEP_LADDER = (1.0, 0.5, 0.25, 0.1, 0.05, 1.0 / 60.0, 1.0 / 240.0, 1.0 / 720.0, 1.0 / 3600.0)  # h
WINDOW_SAMPLES = 1000
SAMPLES_PER_TIME_UNIT = 50
MAX_SAMPLES = 200_000
MIN_SPAN = 1.0  # h: a target read at time 0 still simulates one hour
PARALLEL_ABOVE = 20  # simulations in one run above which a process pool is used
_ON_GRID = 1e-6  # relative slack for a point time to count as a multiple of the step


class Undefined(HpgsimError):
    """The statistic does not exist for this simulation (e.g. the threshold is never crossed)."""


# --- quantities ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A measured quantity: an analyte, or a drug species (``drug=True``).

    ``unit`` is the canonical unit: the analyte's first unit, or ng/mL (IU/L for species counted
    in IU) for a drug. ``to_canonical`` converts the species' own concentration unit to it.
    """

    name: str
    drug: bool
    unit: str
    to_canonical: float = 1.0

    def factor(self, unit: str) -> float:
        """Factor from the canonical unit to ``unit``."""
        if not self.drug:
            return analyte(self.name).factor(unit)
        dimension, one = concentration_unit(unit)
        if CANONICAL_CONCENTRATION[dimension] != self.unit:
            raise ValueError(f"{unit!r} is not a unit of {self.name} concentration ({self.unit})")
        return 1.0 / one

    def trajectory(self, result: Result) -> tuple[st.FloatArray, float]:
        """Values over ``result.times`` and the value just before time 0, canonical unit."""
        if self.drug:
            return result.get(DRUG_CONCENTRATION + self.name) * self.to_canonical, 0.0
        return result.observables[self.name], result.baseline[self.name]


def resolve_quantity(text: str) -> Quantity:
    """An analyte name (or alias), or ``drug_concentration:<species or drug>``.

    A drug names the species it delivers (``testosterone_enanthate`` -> ``testosterone``); a
    drug that delivers several (clomiphene) must be named by species.
    """
    if not text.startswith(DRUG_CONCENTRATION):
        a = analyte(text, "measure.quantity")
        return Quantity(a.name, drug=False, unit=a.unit)
    name = text[len(DRUG_CONCENTRATION):].strip()
    catalog = default_catalog()
    if name not in catalog.species:
        drug = catalog.drug(name, "measure.quantity")
        delivered = sorted({p.species for forms in drug.routes.values()
                            for product in forms.values() for p in product.paths})
        if len(delivered) != 1:
            raise ValueError(f"{drug.name} delivers several species ({', '.join(delivered)}): "
                             f"name one, e.g. {DRUG_CONCENTRATION}{delivered[0]}")
        name = delivered[0]
    species = catalog.species[name]
    dimension, one = concentration_unit(species.unit)
    return Quantity(name, drug=True, unit=CANONICAL_CONCENTRATION[dimension], to_canonical=one)


# --- plans ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """A measure compiled for simulation: times in hours, threshold in canonical units (or a
    fraction of the reference when relative), the span to simulate and the output step."""

    measure: Measure
    quantity: Quantity
    threshold: float | None
    horizon: float  # end of a time-to-threshold search (h)
    span: float
    step: float

    def outcome(self, result: Result) -> float | None:
        """This subject's contribution: a value (canonical unit), a time (h), a 0/1 for
        ``fraction``; None for a time to a threshold never reached before ``horizon``."""
        m = self.measure
        t = result.times
        x, base = self.quantity.trajectory(result)
        if m.of_time_to:
            reached = st.crossing_time(t, x, self._threshold(t, x, base), m.direction or "below",
                                       m.start, self.horizon)
            return None if reached is None else reached - m.start
        if m.statistic == "fraction":
            at = m.at if m.at is not None else 0.0
            threshold = self._threshold(t, x, base)
            if m.ever:
                return float(st.ever_beyond(t, x, threshold, m.direction or "below", m.start, at))
            return float(st.beyond(st.value_at(t, x, at), threshold, m.direction or "below"))
        if m.window is not None and m.statistic in ("peak", "time_of_peak", "average"):
            a, b = m.window
            if m.statistic == "average":
                return st.time_average(t, x, a, b)
            when, value = st.peak(t, x, a, b)
            return value if m.statistic == "peak" else when - a
        value = st.value_at(t, x, m.at if m.at is not None else 0.0)
        if m.statistic in ("ratio_to_baseline", "percent_change"):
            if base == 0.0:
                raise ValueError(f"the baseline of {m.quantity} is 0: no ratio to it")
            ratio = value / base
            return ratio if m.statistic == "ratio_to_baseline" else 100.0 * (ratio - 1.0)
        return value

    def _threshold(self, t: st.FloatArray, x: st.FloatArray, base: float) -> float:
        m = self.measure
        assert self.threshold is not None  # Measure guarantees a threshold where one is read
        if not m.relative:
            return self.threshold
        reference = base if m.relative_to is None else st.value_at(t, x, m.relative_to)
        if reference <= 0.0:
            raise ValueError(f"relative threshold: the reference value of {m.quantity} is "
                             f"{reference:g}, not positive")
        return self.threshold * reference

    def summarize(self, outcomes: Sequence[float | None]) -> float:
        """The statistic over all subjects' outcomes, in the target's unit."""
        m = self.measure
        if m.statistic in COHORT_STATISTICS:
            value = self._aggregate(outcomes)
        elif outcomes[0] is None:
            raise Undefined(f"the subject does not {self._reach()}")
        else:
            value = outcomes[0]
        if m.result_is_time:
            return value / HOURS_PER[m.unit]
        if m.statistic in DIMENSIONLESS_STATISTICS:
            return value
        return value * self.quantity.factor(m.unit)

    def _aggregate(self, outcomes: Sequence[float | None]) -> float:
        m = self.measure
        if m.statistic == "fraction":
            return float(np.mean([o for o in outcomes if o is not None]))
        if not m.of_time_to:
            values = [o for o in outcomes if o is not None]
            return float(np.median(values) if m.statistic == "median" else np.mean(values))
        censor = self.horizon - m.start
        pairs = [(o, True) if o is not None else (censor, False) for o in outcomes]
        if m.statistic == "median":
            median = st.km_median(pairs)
            if median is None:
                raise Undefined(
                    f"more than half of the {len(pairs)} subjects do not {self._reach()}")
            return median
        mean = st.mean_of_events(pairs)
        if mean is None:
            raise Undefined(f"not one of the {len(pairs)} subjects does {self._reach()}")
        return mean

    def _reach(self) -> str:
        m = self.measure
        if not m.relative:
            level = f"{m.threshold:g} {m.threshold_unit or self.quantity.unit}"
        elif m.relative_to is None:
            level = f"{m.threshold:g} x its baseline"
        else:
            level = f"{m.threshold:g} x its value at {format_time(m.relative_to)}"
        return (f"reach {m.quantity} {m.direction} {level} between "
                f"{format_time(m.start)} and {format_time(self.horizon)}")


def _span(m: Measure) -> tuple[float, float]:
    """(span, time-to horizon) in hours."""
    horizon = m.until if m.until is not None else m.start + TIME_TO_HORIZON
    if m.of_time_to:
        return max(horizon, MIN_SPAN), horizon
    latest = m.until if m.until is not None else max(m.named_times, default=0.0)
    return max(latest, MIN_SPAN), horizon


def _on_grid(time: float, step: float) -> bool:
    k = time / step
    return abs(k - round(k)) <= _ON_GRID * max(1.0, k)


def choose_step(m: Measure, span: float) -> float:
    """The output step (h) for measure ``m`` over ``span`` (see the module docstring)."""
    desired = DEFAULT_STEP
    if m.window is not None and m.window[1] > m.window[0]:
        desired = min(desired, (m.window[1] - m.window[0]) / WINDOW_SAMPLES)
    if m.result_is_time:
        desired = min(desired, HOURS_PER[m.unit] / SAMPLES_PER_TIME_UNIT)
    floor = span / MAX_SAMPLES
    desired = max(desired, floor)
    ladder = [s for s in STEP_LADDER if s >= floor] or [STEP_LADDER[0]]
    i = next((k for k, s in enumerate(ladder) if s <= desired), len(ladder) - 1)
    points = [p for p in (m.at, m.relative_to) if p is not None]
    while i + 1 < len(ladder) and not all(_on_grid(p, ladder[i]) for p in points):
        i += 1
    return ladder[i]


def compile_plan(target: Target) -> Plan:
    """Compile ``target``'s measure; raises ValueError/HpgsimError for a measure it cannot run."""
    m = target.measure
    if target.cohort is not None and m.statistic not in COHORT_STATISTICS:
        raise ValueError(f"statistic {m.statistic!r} describes one subject; a cohort target needs "
                         f"one of {', '.join(COHORT_STATISTICS)}")
    quantity = resolve_quantity(m.quantity)
    threshold = m.threshold
    if threshold is not None and not m.relative and m.threshold_unit is not None:
        threshold /= quantity.factor(m.threshold_unit)
    span, horizon = _span(m)
    return Plan(m, quantity, threshold, horizon, span, choose_step(m, span))


# --- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetResult:
    """The outcome of one target. ``simulated``, ``expected``, ``low``, ``high`` are in ``unit``.

    ``members``: subjects simulated (1 without a cohort); ``failed_members``: cohort members
    whose simulation failed and were left out.
    """

    id: str
    simulated: float | None
    expected: float | None
    low: float | None
    high: float | None
    unit: str | None
    passed: bool
    error: str | None
    title: str = ""
    source: str = ""
    notes: str = ""
    members: int = 0
    failed_members: int = 0

    @property
    def miss_factor(self) -> float:
        """How far off a simulated value is: max(simulated/expected, expected/simulated); 1 when
        passed, inf when either is missing, zero or of the other sign."""
        if self.passed:
            return 1.0
        s, e = self.simulated, self.expected
        if s is None or e is None or s * e <= 0.0:
            return math.inf
        return max(s / e, e / s)

    def to_json(self) -> dict[str, Any]:
        """The result object of ``hpgsim-validation-result/1``."""
        return {"id": self.id, "simulated": self.simulated, "expected": self.expected,
                "low": self.low, "high": self.high, "unit": self.unit, "passed": self.passed,
                "error": self.error}


def results_json(results: Iterable[TargetResult]) -> dict[str, Any]:
    """The output object of ``hpgsim validate --json``."""
    return {"schema": RESULT_SCHEMA_ID, "results": [r.to_json() for r in results]}


def dumps(results: Iterable[TargetResult]) -> str:
    """``results_json`` as JSON text (strict: no NaN)."""
    return json.dumps(results_json(results), indent=2, allow_nan=False)


def _result(entry: Entry, simulated: float | None = None, error: str | None = None,
            members: int = 0, failed: int = 0) -> TargetResult:
    if isinstance(entry, InvalidTarget):
        return TargetResult(entry.id, None, entry.expected, entry.low, entry.high, entry.unit,
                            False, entry.error, entry.title, entry.source, entry.notes)
    e = entry.expected
    if simulated is not None and not math.isfinite(simulated):
        simulated, error = None, error or f"the simulated statistic is {simulated}"
    passed = error is None and simulated is not None and e.low <= simulated <= e.high
    return TargetResult(entry.id, simulated, e.value, e.low, e.high, entry.measure.unit, passed,
                        error, entry.title, entry.source, entry.notes, members, failed)


# --- simulation jobs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    """One subject of one scenario, with every plan to reduce its simulation to."""

    subject: Subject
    multipliers: dict[str, float] | None  # cohort variability; None for a single subject
    regimen: Regimen
    span: float
    step: float
    plans: tuple[Plan, ...]


@dataclass(frozen=True)
class _Failed:
    message: str


Outcome = float | None | _Failed


def run_job(job: _Job) -> list[Outcome] | str:
    """Simulate one subject and reduce it to one outcome per plan; a message if the simulation
    fails. Top-level so that a process pool can run it."""
    options = SimulationOptions(output_step=job.step, t_end=job.span)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseWarning)
        try:
            parameters = (None if job.multipliers is None
                          else member_parameters(job.subject, job.multipliers))
            result = simulate(job.subject, job.regimen, options, parameters)
        except (HpgsimError, ValueError, ArithmeticError) as err:
            return f"simulation failed: {err}"
    outcomes: list[Outcome] = []
    for plan in job.plans:
        try:
            outcomes.append(plan.outcome(result))
        except (HpgsimError, ValueError) as err:
            outcomes.append(_Failed(str(err)))
    return outcomes


@dataclass
class _Scenario:
    """Targets sharing subject, cohort, regimen and step: one simulation per subject."""

    subject: dict[str, Any]
    cohort: tuple[int, int] | None  # (size after any cap, seed)
    regimen: list[dict[str, Any]]
    step: float
    items: list[tuple[int, Target, Plan]] = field(default_factory=list)
    jobs: list[_Job] = field(default_factory=list)
    outputs: list[list[Outcome] | str] = field(default_factory=list)
    error: str | None = None  # why the scenario could not be set up

    @property
    def span(self) -> float:
        return max(plan.span for _, _, plan in self.items)

    def prepare(self) -> None:
        """Build the regimen and the subjects' jobs; raises for a scenario that cannot run."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DoseWarning)
            regimen = regimen_from_schema_lines(self.regimen, until=self.span)
        plans = tuple(plan for _, _, plan in self.items)
        if self.cohort is None:
            members: list[tuple[Subject, dict[str, float] | None]] = [
                (Subject.from_dict(self.subject), None)]
        else:
            size, seed = self.cohort
            members = list(zip(sample_subjects(self.subject, size, seed),
                               sample_parameters(size, seed), strict=True))
        self.jobs = [_Job(s, m, regimen, self.span, self.step, plans) for s, m in members]

    def results(self) -> Iterator[tuple[int, TargetResult]]:
        """(file position, result) of each target, from the jobs' outputs."""
        done = [o for o in self.outputs if not isinstance(o, str)]
        failed = len(self.outputs) - len(done)
        for k, (index, target, plan) in enumerate(self.items):
            if self.error is not None or not done:
                yield index, _result(target, error=self.error or str(self.outputs[0]),
                                     failed=failed)
                continue
            column = [o[k] for o in done]
            bad = next((o for o in column if isinstance(o, _Failed)), None)
            if bad is not None:
                yield index, _result(target, error=bad.message, members=len(done), failed=failed)
                continue
            try:
                value = plan.summarize([o for o in column if not isinstance(o, _Failed)])
            except (HpgsimError, ValueError) as err:
                yield index, _result(target, error=str(err), members=len(done), failed=failed)
                continue
            yield index, _result(target, value, members=len(done), failed=failed)


def _scenarios(entries: Sequence[Entry], cohort_size: int | None,
               results: list[TargetResult | None]) -> list[_Scenario]:
    groups: dict[str, _Scenario] = {}
    for index, entry in enumerate(entries):
        if isinstance(entry, InvalidTarget):
            results[index] = _result(entry)
            continue
        try:
            plan = compile_plan(entry)
        except (HpgsimError, ValueError) as err:
            results[index] = _result(entry, error=str(err))
            continue
        cohort = None
        if entry.cohort is not None:
            size = entry.cohort.size if cohort_size is None else min(entry.cohort.size, cohort_size)
            cohort = (size, entry.cohort.seed)
        key = json.dumps([entry.subject, cohort, entry.regimen, plan.step], sort_keys=True,
                         default=str)
        scenario = groups.setdefault(
            key, _Scenario(entry.subject, cohort, entry.regimen, plan.step))
        scenario.items.append((index, entry, plan))
    return list(groups.values())


def run_targets(targets: TargetFile | Sequence[Entry], *, cohort_size: int | None = None,
                workers: int | None = None,
                progress: Callable[[TargetResult], None] | None = None) -> list[TargetResult]:
    """Run every target; results in target order.

    ``cohort_size`` caps cohort sizes (the first N members of the full cohort); ``workers`` is
    the number of processes (default: the CPU count; 1 runs everything in this process);
    ``progress`` is called with each result as it is ready.
    """
    entries = targets.entries if isinstance(targets, TargetFile) else tuple(targets)
    if cohort_size is not None and cohort_size < 1:
        raise ValueError(f"cohort_size must be >= 1, got {cohort_size}")
    results: list[TargetResult | None] = [None] * len(entries)
    scenarios = _scenarios(entries, cohort_size, results)
    if progress is not None:
        for r in results:
            if r is not None:
                progress(r)
    runnable: list[_Scenario] = []
    for sc in scenarios:
        try:
            sc.prepare()
            runnable.append(sc)
        except (HpgsimError, ValueError) as err:
            sc.error = str(err)
            _collect(sc, results, progress)
    n_jobs = sum(len(sc.jobs) for sc in runnable)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers > 1 and n_jobs > PARALLEL_ABOVE:
        _run_pool(runnable, n_workers, results, progress)
    else:
        for sc in runnable:
            sc.outputs = [run_job(job) for job in sc.jobs]
            _collect(sc, results, progress)
    return [r for r in results if r is not None]


def _collect(sc: _Scenario, results: list[TargetResult | None],
             progress: Callable[[TargetResult], None] | None) -> None:
    for index, result in sc.results():
        results[index] = result
        if progress is not None:
            progress(result)


def _run_pool(scenarios: Sequence[_Scenario], workers: int, results: list[TargetResult | None],
              progress: Callable[[TargetResult], None] | None) -> None:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future[list[Outcome] | str], tuple[int, int]] = {}
        for s, sc in enumerate(scenarios):
            sc.outputs = [""] * len(sc.jobs)
            for j, job in enumerate(sc.jobs):
                futures[pool.submit(run_job, job)] = (s, j)
        left = [len(sc.jobs) for sc in scenarios]
        for future in as_completed(futures):
            s, j = futures[future]
            scenarios[s].outputs[j] = future.result()
            left[s] -= 1
            if left[s] == 0:
                _collect(scenarios[s], results, progress)


def run_target(target: Target, *, cohort_size: int | None = None,
               workers: int | None = None) -> TargetResult:
    """Run one target."""
    return run_targets([target], cohort_size=cohort_size, workers=workers)[0]

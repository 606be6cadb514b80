"""What a simulated course means clinically: phase statistics, nadirs, the recovery clock and
an honest account of pulsatile dosing.

Every number is computed on the piecewise-linear interpolant of the output grid: means are time
averages (trapezoid rule), fractions of time are exact for that interpolant, and crossing times are
interpolated between samples. Values are held in canonical units and converted only for display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpgsim.drugs.catalog import default_catalog
from hpgsim.drugs.pk import Bolus, modal_product
from hpgsim.export import resolve_units
from hpgsim.result import DISCLAIMER, FloatArray, Result
from hpgsim.units import ANALYTES, HOURS_PER, analyte
from hpgsim.validation.statistics import time_average, window

WEEK = HOURS_PER["w"]
SUMMARY_ANALYTES = ("total_testosterone", "free_testosterone", "lh", "fsh", "estradiol",
                    "sperm_concentration")
# Drug classes whose last dose starts the recovery clock (exogenous androgen, GnRH analogues).
SUPPRESSIVE_CLASSES = frozenset({"androgen", "gnrh_agonist", "gnrh_antagonist"})


def _lower_limit(name: str) -> float:
    low = ANALYTES[name].reference[0]
    if low is None:
        raise ValueError(f"ANALYTES[{name!r}] has no lower reference limit")
    return low


# analyte -> (threshold in canonical unit, source)
RECOVERY_THRESHOLDS: dict[str, tuple[float, str]] = {
    "total_testosterone": (300.0, "AUA 2018 diagnostic cut-off (Mulhall, J Urol 2018;200:423)"),
    "lh": (_lower_limit("lh"), ANALYTES["lh"].reference_source),
    "sperm_concentration": (_lower_limit("sperm_concentration"),
                            ANALYTES["sperm_concentration"].reference_source),
}
# A GnRH agonist whose slowest PK half-life is shorter than the endogenous GnRH inter-pulse
# interval is cleared within one interval: it acts as a pulse, not as sustained receptor
# occupancy, so it does not start the recovery clock and its LH pulses are reported instead.
ENDOGENOUS_PULSE_INTERVAL_H = 95.0 / 60.0  # LH pulses every ~95 min in men (Veldhuis 1987 [P])
PULSE_RISE = 1.5  # an LH pulse: LH above 1.5x (+50 %) its level at the dose
# A rise counts as recovery once it holds this long, so a drug-driven LH pulse or one hCG peak
# is not read as recovery.
RECOVERY_HOLD_H = HOURS_PER["w"]


# --- piecewise-linear helpers ------------------------------------------------------------------

def _window(t: FloatArray, x: FloatArray, a: float, b: float) -> tuple[FloatArray, FloatArray]:
    """Samples in [a, b] with interpolated end points (a, b clipped to the output span)."""
    return window(t, x, max(a, float(t[0])), min(b, float(t[-1])))


def _time_within(t: FloatArray, x: FloatArray, lo: float, hi: float) -> float:
    """Hours during which the linear interpolant of (t, x) lies in [lo, hi]."""
    x0, x1, dt = x[:-1], x[1:], np.diff(t)
    flat = x0 == x1
    slope = np.where(flat, 1.0, x1 - x0)
    s_lo, s_hi = (lo - x0) / slope, (hi - x0) / slope
    s_a = np.clip(np.minimum(s_lo, s_hi), 0.0, 1.0)
    s_b = np.clip(np.maximum(s_lo, s_hi), 0.0, 1.0)
    frac = np.where(flat, ((x0 >= lo) & (x0 <= hi)).astype(float), s_b - s_a)
    return float(np.sum(frac * dt))


# --- the summary -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stat:
    """Time-weighted mean, minimum and maximum over a phase (canonical unit)."""

    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class PhaseSummary:
    """Statistics of one phase ``[start_h, end_h)``; ``lh_in_range`` is a fraction of its time."""

    name: str
    start_h: float
    end_h: float
    stats: dict[str, Stat]
    lh_in_range: float


@dataclass(frozen=True)
class Nadir:
    value: float  # canonical unit
    time_h: float


@dataclass(frozen=True)
class RecoveryMark:
    """First time (h after the clock start) ``analyte`` rose to ``threshold`` and stayed there
    for ``RECOVERY_HOLD_H`` (or to the end of the span); None if never.

    ``sustained``: it stayed at or above the threshold to the end of the simulated span.
    ``never_below``: it did not fall below the threshold after the clock start (time 0).
    """

    analyte: str
    threshold: float
    time_h: float | None
    sustained: bool
    never_below: bool


@dataclass(frozen=True)
class RecoveryClock:
    """Recovery measured from the last dose of a suppressive drug (``drug`` at ``start_h``)."""

    start_h: float
    drug: str
    end_h: float
    marks: tuple[RecoveryMark, ...]


@dataclass(frozen=True)
class PulseReport:
    """LH response to boluses of a pulse-acting drug (e.g. SC gonadorelin).

    Per dose, over the time until the next dose: ``hours_raised``, hours with LH above
    ``PULSE_RISE`` times its level at the dose; ``hours_normal``, hours with LH at or above its
    lower reference limit. ``phase_lh``: (phase, mean LH, peak LH) of phases with doses.
    ``first_step_h``: median output step right after a dose (shorter pulses are unresolved).
    """

    drug: str
    route: str
    doses: int
    interval_h: float | None
    hours_raised: tuple[float, ...]
    hours_normal: tuple[float, ...]
    phase_lh: tuple[tuple[str, float, float], ...]
    first_step_h: float

    def share(self, hours: Sequence[float]) -> float:
        """Mean share of the dosing interval covered by ``hours`` (NaN for a single dose)."""
        return math.nan if self.interval_h is None else float(np.mean(hours)) / self.interval_h


@dataclass(frozen=True)
class Summary:
    """The clinically read outline of one :class:`~hpgsim.result.Result` (canonical units)."""

    name: str
    span_h: tuple[float, float]
    regimen: tuple[str, ...]
    phases: tuple[PhaseSummary, ...]
    nadirs: dict[str, Nadir]
    final: dict[str, float]
    recovery: RecoveryClock | None
    pulses: tuple[PulseReport, ...]
    warnings: tuple[str, ...]

    def to_dict(self, units: Mapping[str, str] | None = None) -> dict[str, Any]:
        """A JSON-ready dict; analyte values in ``units`` (listed under ``"units"``), times in h."""
        conv = _Units(units)

        def stat(name: str, s: Stat) -> dict[str, float]:
            return {"mean": conv(name, s.mean), "min": conv(name, s.min), "max": conv(name, s.max)}

        rec = None
        if self.recovery is not None:
            rec = {
                "start_h": self.recovery.start_h, "drug": self.recovery.drug,
                "end_h": self.recovery.end_h,
                "marks": [{"analyte": m.analyte, "threshold": conv(m.analyte, m.threshold),
                           "threshold_source": RECOVERY_THRESHOLDS[m.analyte][1],
                           "reached": m.time_h is not None, "time_h": m.time_h,
                           "sustained": m.sustained, "never_below": m.never_below}
                          for m in self.recovery.marks],
            }
        return {
            "schema": "hpgsim-summary/1",
            "name": self.name,
            "span_h": list(self.span_h),
            "units": {n: conv.unit(n) for n in self.final},
            "regimen": list(self.regimen),
            "phases": [{"name": p.name, "start_h": p.start_h, "end_h": p.end_h,
                        "stats": {n: stat(n, s) for n, s in p.stats.items()},
                        "lh_in_range_fraction": _nan_to_none(p.lh_in_range)}
                       for p in self.phases],
            "nadirs": {n: {"value": conv(n, v.value), "time_h": v.time_h}
                       for n, v in self.nadirs.items()},
            "final": {n: conv(n, v) for n, v in self.final.items()},
            "recovery_clock": rec,
            "pulsatile": [{"drug": p.drug, "route": p.route, "doses": p.doses,
                           "interval_h": p.interval_h,
                           "lh_raised_hours_per_dose": list(p.hours_raised),
                           "lh_raised_fraction_of_interval": _nan_to_none(p.share(p.hours_raised)),
                           "lh_normal_hours_per_dose": list(p.hours_normal),
                           "lh_normal_fraction_of_interval": _nan_to_none(p.share(p.hours_normal)),
                           "first_output_step_h": p.first_step_h,
                           "phase_lh": [{"phase": n, "mean": conv("lh", m), "peak": conv("lh", k)}
                                        for n, m, k in p.phase_lh]} for p in self.pulses],
            "warnings": list(self.warnings),
            "disclaimer": DISCLAIMER,
        }

    def to_text(self, units: Mapping[str, str] | None = None) -> str:
        """A plain-text report; analyte values in ``units`` (analyte -> unit), times in weeks."""
        conv = _Units(units)
        out = [f"hpgsim summary: {self.name or 'regimen'}",
               f"Simulated span: week {_w(self.span_h[0])} to {_w(self.span_h[1])}"]
        out += ["Regimen:"] + [f"  {line}" for line in self.regimen or ("(no doses)",)]
        for p in self.phases:
            out += ["", f"Phase {p.name!r} (week {_w(p.start_h)} to {_w(p.end_h)}):",
                    f"  {'':<22}{'mean':>9}{'min':>9}{'max':>9}  unit"]
            out += [f"  {ANALYTES[n].label:<22}{conv.fmt(n, s.mean):>9}{conv.fmt(n, s.min):>9}"
                    f"{conv.fmt(n, s.max):>9}  {conv.unit(n)}" for n, s in p.stats.items()]
            lo, hi = ANALYTES["lh"].reference
            out.append(f"  LH within its reference range ({conv.fmt('lh', lo or 0.0)}-"
                       f"{conv.fmt('lh', hi or math.inf)} {conv.unit('lh')}): "
                       f"{100.0 * p.lh_in_range:.0f}% of the phase")
        out += ["", "Nadirs (whole course):"]
        out += [f"  {ANALYTES[n].label:<22}{conv.fmt(n, v.value):>9} {conv.unit(n)} at week "
                f"{_w(v.time_h)}" for n, v in self.nadirs.items()]
        out += ["", "At the end of the simulated span:"]
        out += [f"  {ANALYTES[n].label:<22}{conv.fmt(n, v):>9} {conv.unit(n)}"
                for n, v in self.final.items()]
        out += ["", *self._recovery_lines(conv)]
        for pr in self.pulses:
            out += ["", *_pulse_lines(pr, conv)]
        if self.warnings:
            out += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        out += ["", DISCLAIMER]
        return "\n".join(out)

    def _recovery_lines(self, conv: _Units) -> list[str]:
        if self.recovery is None:
            return ["Recovery clock: no androgen or GnRH-analogue dose in the regimen."]
        rc = self.recovery
        lines = [f"Recovery clock (from the last dose of {rc.drug} at week {_w(rc.start_h)}; "
                 f"simulated to {_w(rc.end_h - rc.start_h)} w after it; a rise counts once it "
                 f"holds for {RECOVERY_HOLD_H / WEEK:g} w):"]
        for m in rc.marks:
            note = ""
            if m.time_h is not None and not m.never_below and not m.sustained:
                note = "; fell below again later"
            lines.append(f"  {_mark_label(m.analyte, m.threshold, conv)}: "
                         f"{_mark_value(m, rc)}{note}")
        return lines


class _Units:
    """Display-unit choices and number formatting for one report."""

    def __init__(self, units: Mapping[str, str] | None) -> None:
        self.chosen = resolve_units(units)

    def unit(self, name: str) -> str:
        return self.chosen.get(name, ANALYTES[name].unit)

    def __call__(self, name: str, value: float) -> float:
        return value * analyte(name).factor(self.unit(name))

    def fmt(self, name: str, value: float) -> str:
        return _num(self(name, value))


def _num(x: float) -> str:
    """3 significant figures (whole numbers from 100 up), never in exponent notation."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.0f}" if abs(x) >= 99.5 else f"{x:#.3g}"


def _w(hours: float) -> str:
    return f"{hours / WEEK:.1f}"


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _mark_label(name: str, threshold: float, conv: _Units) -> str:
    return f"{ANALYTES[name].label} >= {conv.fmt(name, threshold)} {conv.unit(name)}"


def _mark_value(m: RecoveryMark, rc: RecoveryClock) -> str:
    if m.time_h is None:
        return "not reached within the simulated span"
    if m.never_below:
        return "never fell below it after the last dose"
    return f"{_w(m.time_h)} w after the last dose (week {_w(rc.start_h + m.time_h)})"


def _recovery_cells(summary: Summary, conv: _Units) -> dict[str, str]:
    """Row label -> value of each recovery mark, for the comparison table."""
    rc = summary.recovery
    if rc is None:
        return {_mark_label(a, t, conv): "no suppressive dose"
                for a, (t, _) in RECOVERY_THRESHOLDS.items()}
    return {_mark_label(m.analyte, m.threshold, conv): _mark_value(m, rc) for m in rc.marks}


def _pulse_lines(pr: PulseReport, conv: _Units) -> list[str]:
    every = (f"mean interval {pr.interval_h:.0f} h" if pr.interval_h is not None
             else "single dose")
    lo = ANALYTES["lh"].reference[0] or 0.0
    lines = [f"Pulsatile-acting drug {pr.drug} ({pr.route}), {pr.doses} bolus(es), {every}:"]
    for hours, what in ((pr.hours_raised, f"LH above {PULSE_RISE:g}x its pre-dose level"),
                        (pr.hours_normal, f"LH >= {conv.fmt('lh', lo)} {conv.unit('lh')} "
                                          "(lower reference limit)")):
        share = pr.share(hours)
        lines.append(f"  {what}: {np.mean(hours):.1f} h per dose (range {np.min(hours):.1f}-"
                     f"{np.max(hours):.1f} h" + ("" if math.isnan(share) else
                                                 f"; {100.0 * share:.0f}% of the interval") + ")")
    lines += [f"  phase {name!r}: mean LH {conv.fmt('lh', mean)} vs peak LH "
              f"{conv.fmt('lh', peak)} {conv.unit('lh')}" for name, mean, peak in pr.phase_lh]
    if not any(h > 0.0 for h in pr.hours_raised):
        lines.append(f"  -> no LH rise above {PULSE_RISE:g}x the pre-dose level was resolved")
    elif pr.share(pr.hours_normal) >= 0.5:
        lines.append("  -> LH is at or above its lower reference limit for most of each interval")
    else:
        lines.append("  -> each bolus gives an LH pulse lasting hours, not a sustained drive")
    lines.append(f"  (output step right after a dose: {pr.first_step_h:.2g} h; "
                 "shorter pulses are not resolved)")
    return lines


# --- building it ------------------------------------------------------------------------------

def _is_pulse_like(drug_name: str, route: str, formulation: str | None) -> bool:
    """A GnRH agonist product cleared within one endogenous GnRH inter-pulse interval."""
    drug = default_catalog().drug(drug_name)
    if drug.drug_class != "gnrh_agonist":
        return False
    rates = modal_product(drug.name, route, formulation).rates
    return bool(math.log(2.0) / np.min(np.abs(rates)) < ENDOGENOUS_PULSE_INTERVAL_H)


def _phases(result: Result) -> list[tuple[str, float, float]]:
    t0, t1 = float(result.times[0]), float(result.times[-1])
    phases = [(p.name, p.start, p.end) for p in result.regimen.phases
              if p.end > t0 and p.start < t1]
    if not phases:
        return [("whole course", t0, t1)]
    last = max(p[2] for p in phases)
    return phases + ([("follow-up", last, t1)] if last < t1 else [])


def _phase(result: Result, names: Sequence[str], name: str, a: float, b: float) -> PhaseSummary:
    win = {n: _window(result.times, result.observables[n], a, b) for n in {*names, "lh"}}
    stats = {n: Stat(time_average(*win[n], float(win[n][0][0]), float(win[n][0][-1])),
                     float(np.min(win[n][1])), float(np.max(win[n][1])))
             for n in names}
    lo, hi = ANALYTES["lh"].reference
    tw, lh = win["lh"]
    dur = float(tw[-1] - tw[0])
    inside = _time_within(tw, lh, lo or 0.0, hi or math.inf) / dur if dur > 0.0 else math.nan
    return PhaseSummary(name, float(a), float(b), stats, inside)


def _rise(tw: FloatArray, xw: FloatArray, thr: float) -> tuple[float | None, bool, bool]:
    """(time of the first rise to ``thr`` that holds ``RECOVERY_HOLD_H``, sustained, never_below).

    Times are absolute (h); the rise time is interpolated between samples.
    """
    below = xw < thr
    if not below.any():
        return float(tw[0]), True, True
    for k in np.flatnonzero(below[:-1] & ~below[1:]) + 1:
        t_cross = tw[k - 1] + (thr - xw[k - 1]) / (xw[k] - xw[k - 1]) * (tw[k] - tw[k - 1])
        if not below[k:][tw[k:] <= t_cross + RECOVERY_HOLD_H].any():
            return float(t_cross), not below[k:].any(), False
    return None, False, False


def _recovery(result: Result, suppressive: Sequence[Bolus]) -> RecoveryClock | None:
    if not suppressive:
        return None
    last = suppressive[-1]
    end = float(result.times[-1])
    marks = []
    for name, (thr, _) in RECOVERY_THRESHOLDS.items():
        if name in result.observables:
            t_rise, sustained, never_below = _rise(
                *_window(result.times, result.observables[name], last.time, end), thr)
            marks.append(RecoveryMark(name, thr, None if t_rise is None else t_rise - last.time,
                                      sustained, never_below))
    return RecoveryClock(last.time, last.drug, end, tuple(marks))


def _pulses(result: Result, boluses: Sequence[Bolus],
            phases: Sequence[PhaseSummary]) -> tuple[PulseReport, ...]:
    t, lh = result.times, result.observables["lh"]
    lo = ANALYTES["lh"].reference[0] or 0.0
    groups: dict[tuple[str, str], list[float]] = {}
    for b in boluses:
        groups.setdefault((b.drug, b.route), []).append(b.time)
    reports = []
    for (drug, route), times in groups.items():
        interval = float(np.mean(np.diff(times))) if len(times) > 1 else None
        ends = [*times[1:], times[-1] + interval if interval else float(t[-1])]
        raised, normal, steps = [], [], []
        for td, te in zip(times, ends, strict=True):
            tw, xw = _window(t, lh, td, te)
            raised.append(_time_within(tw, xw, PULSE_RISE * float(np.interp(td, t, lh)), math.inf))
            normal.append(_time_within(tw, xw, lo, math.inf))
            steps.append(float(tw[1] - tw[0]))
        with_doses = [(p.name, p.stats["lh"].mean, p.stats["lh"].max) for p in phases
                      if any(p.start_h <= td < p.end_h for td in times)]
        reports.append(PulseReport(drug, route, len(times), interval, tuple(raised),
                                   tuple(normal), tuple(with_doses), float(np.median(steps))))
    return tuple(reports)


def summarize(result: Result) -> Summary:
    """Summarize ``result``: per-phase statistics of total T, free T, LH, FSH, E2 and sperm
    concentration, nadirs, the recovery clock and the LH response to pulse-acting boluses."""
    names = [n for n in SUMMARY_ANALYTES if n in result.observables]
    phases = tuple(_phase(result, names, *p) for p in _phases(result))
    nadirs = {n: Nadir(float(np.min(result.observables[n])),
                       float(result.times[np.argmin(result.observables[n])])) for n in names}
    catalog = default_catalog()
    boluses = [b for b in result.regimen.boluses() if b.time < result.times[-1]]
    kinds = {(b.drug, b.route, b.formulation) for b in boluses}
    pulse_kinds = {k for k in kinds if _is_pulse_like(*k)}
    pulse_like = [b for b in boluses if (b.drug, b.route, b.formulation) in pulse_kinds]
    suppressive = [b for b in boluses if (b.drug, b.route, b.formulation) not in pulse_kinds
                   and catalog.drug(b.drug).drug_class in SUPPRESSIVE_CLASSES]
    return Summary(
        name=result.regimen.name,
        span_h=(float(result.times[0]), float(result.times[-1])),
        regimen=tuple(line.describe() for line in result.regimen.lines),
        phases=phases,
        nadirs=nadirs,
        final={n: float(result.observables[n][-1]) for n in names},
        recovery=_recovery(result, suppressive),
        pulses=_pulses(result, pulse_like, phases),
        warnings=result.warnings,
    )


def compare_table(summaries: Sequence[Summary], labels: Sequence[str],
                  units: Mapping[str, str] | None = None) -> str:
    """Side-by-side text table of whole-course metrics (recovery, nadirs, end values)."""
    conv = _Units(units)
    rows: list[tuple[str, list[str]]] = [("recovery clock starts (week)", [
        _w(s.recovery.start_h) if s.recovery else "-" for s in summaries])]
    cells = [_recovery_cells(s, conv) for s in summaries]
    keys = dict.fromkeys(k for c in cells for k in c)
    rows += [(k, [c.get(k, "-") for c in cells]) for k in keys]
    names = [n for n in SUMMARY_ANALYTES if all(n in s.final for s in summaries)]
    rows += [(f"nadir {ANALYTES[n].label} ({conv.unit(n)})",
              [f"{conv.fmt(n, s.nadirs[n].value)} @ wk {_w(s.nadirs[n].time_h)}"
               for s in summaries]) for n in names]
    rows += [(f"end {ANALYTES[n].label} ({conv.unit(n)})",
              [conv.fmt(n, s.final[n]) for s in summaries]) for n in names]
    head = max(len(r[0]) for r in rows)
    widths = [max(len(labels[i]), *(len(r[1][i]) for r in rows)) for i in range(len(summaries))]
    lines = [["", *labels], *([label, *cells] for label, cells in rows)]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(line, [head, *widths], strict=True))
                     .rstrip() for line in lines)
    return f"{text}\n\n{DISCLAIMER}"

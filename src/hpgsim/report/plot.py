"""Static figures of simulated courses (PNG or SVG).

One panel per observable against time in weeks, with the analyte's reference interval shaded,
phase boundaries, a dose strip (a tick per bolus, a bar per pump) and the disclaimer in the
footer. Several results are overlaid for comparison; uncertainty bands (e.g. cohort p5-p95) can
be drawn behind them. matplotlib is imported only when a figure is drawn, without pyplot, so
no global backend state is touched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hpgsim.errors import InputError
from hpgsim.export import resolve_units
from hpgsim.result import DISCLAIMER, FloatArray, Result
from hpgsim.units import HOURS_PER, analyte

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WEEK = HOURS_PER["w"]
DEFAULT_OBSERVABLES = ("total_testosterone", "free_testosterone", "lh", "fsh", "estradiol",
                       "inhibin_b", "sperm_concentration")
LOG_SCALE = frozenset({"sperm_concentration", "total_sperm_count"})
# Floor of the log axes (canonical unit, million/mL or million): lower values, azoospermia (0)
# included, are drawn on it so that they stay visible.
LOG_FLOOR = 0.01
FORMATS = (".png", ".svg")
REFERENCE_COLOR = "#2ca02c"
LEGEND_NOTE = ("Green band: reference interval (dashed: lower reference limit); dotted lines: "
               "phase boundaries.")


@dataclass(frozen=True)
class Band:
    """A shaded interval over ``times`` (h); ``lower``/``upper`` per analyte, canonical units."""

    times: FloatArray
    lower: Mapping[str, FloatArray]
    upper: Mapping[str, FloatArray]

    @classmethod
    def from_results(cls, lo: Result, hi: Result) -> Band:
        """The band between two results on the same time grid (e.g. p5 and p95 subjects)."""
        if lo.times.shape != hi.times.shape or not np.allclose(lo.times, hi.times):
            raise InputError("bands", "(lo, hi)", "the two results have different time grids",
                             "simulate both with the same output times")
        return cls(lo.times, lo.observables, hi.observables)


def plot_result(
    results: Result | Sequence[Result],
    path: str | Path,
    observables: Sequence[str] = DEFAULT_OBSERVABLES,
    units: Mapping[str, str] | None = None,
    labels: Sequence[str] | None = None,
    bands: Mapping[str, Band | tuple[Result, Result]] | None = None,
    title: str | None = None,
) -> Path:
    """Draw ``results`` (overlaid) to ``path``; the format follows its extension (.png, .svg).

    ``observables``: analyte names or aliases, one panel each. ``units``: display unit per
    analyte (default canonical). ``labels``: legend entry per result (default: regimen names).
    ``bands``: label -> band; a label equal to a result's label takes that result's colour.
    Returns the path written.
    """
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise InputError("plot path", str(out), "unknown figure format",
                         f"end the file name in {' or '.join(FORMATS)}")
    runs = [results] if isinstance(results, Result) else list(results)
    if not runs:
        raise InputError("results", runs, "nothing to plot", "pass at least one Result")
    names = [analyte(n, "observables").name for n in observables]
    if not names:
        raise InputError("observables", list(observables), "no panel to draw",
                         "name at least one analyte, e.g. T or LH")
    for n in names:
        if any(n not in r.observables for r in runs):
            raise InputError("observables", n, "not in the simulation output",
                             f"use some of {', '.join(runs[0].observable_names)}")
    if labels is None:
        labels = [r.regimen.name or f"run {i + 1}" for i, r in enumerate(runs)]
    if len(labels) != len(runs):
        raise InputError("labels", list(labels), f"{len(labels)} labels for {len(runs)} results",
                         "give one label per result")
    chosen = resolve_units(units)
    band_objs = {k: v if isinstance(v, Band) else Band.from_results(*v)
                 for k, v in (bands or {}).items()}

    try:
        from matplotlib import rc_context
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plot", out.suffix[1:], "matplotlib is not installed",
                         'install it with python3 -m pip install "hpgsim[plot]"') from None

    colors = [f"C{i % 10}" for i in range(len(runs))]
    color_of = dict(zip(labels, colors, strict=True))
    strip = _dose_rows(runs, labels, colors)
    heights = [2.0] * len(names) + ([0.35 * len(strip) + 0.4] if strip else [])
    footer = 0.45  # inches
    fig = Figure(figsize=(10.0, sum(heights) + footer + 0.6))
    axes = fig.subplots(len(heights), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]

    for ax, name in zip(axes, names, strict=False):
        a = analyte(name)
        unit = chosen.get(name, a.unit)
        f = a.factor(unit)
        floor = LOG_FLOOR * f if name in LOG_SCALE else None
        for label, b in band_objs.items():
            if name in b.lower and name in b.upper:
                ax.fill_between(b.times / WEEK, _floor(b.lower[name] * f, floor),
                                _floor(b.upper[name] * f, floor),
                                color=color_of.get(label, "0.5"), alpha=0.2, linewidth=0,
                                label=None if label in color_of else label)
        for r, label, color in zip(runs, labels, colors, strict=True):
            ax.plot(r.times / WEEK, _floor(r.get(name, unit), floor), color=color, lw=1.4,
                    label=label)
        _reference(ax, name, f)
        if floor is not None:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor * 0.8)
        ax.set_ylabel(f"{a.label}\n({unit})", fontsize=9)
        ax.grid(True, alpha=0.3)
        _phases(ax, runs, colors, annotate=ax is axes[0])
    if strip:
        _draw_strip(axes[-1], strip)
    if len(runs) > 1 or band_objs:
        axes[0].legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("time (weeks)")
    fig.suptitle(title or " vs ".join(labels), fontsize=11)
    height = fig.get_figheight()
    fig.tight_layout(rect=(0.0, footer / height, 1.0, 1.0))
    fig.text(0.01, 0.08 / height, textwrap.fill(f"{DISCLAIMER} {LEGEND_NOTE}", 150), fontsize=7,
             color="0.3", va="bottom")
    with rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, accessible
        fig.savefig(out, format=out.suffix[1:].lower(), dpi=120)
    return out


def _floor(values: FloatArray, floor: float | None) -> FloatArray:
    return values if floor is None else np.maximum(values, floor)


def _reference(ax: Axes, name: str, factor: float) -> None:
    """Shade the reference interval (or mark a lower limit when there is no upper one)."""
    lo, hi = analyte(name).reference
    if hi is not None:
        ax.axhspan((lo or 0.0) * factor, hi * factor, color=REFERENCE_COLOR, alpha=0.12,
                   zorder=0, linewidth=0)
    elif lo is not None:
        ax.axhline(lo * factor, color=REFERENCE_COLOR, ls="--", lw=1.0, zorder=0)


def _phases(ax: Axes, runs: Sequence[Result], colors: Sequence[str], annotate: bool) -> None:
    """Dotted lines at phase boundaries; names on the top panel when all runs share them."""
    shared = all(r.regimen.phases == runs[0].regimen.phases for r in runs)
    for r, color in zip(runs[:1] if shared else runs, colors, strict=False):
        for ph in r.regimen.phases:
            for t in (ph.start, ph.end):
                ax.axvline(t / WEEK, color="0.4" if shared else color, ls=":", lw=0.9)
            if annotate and shared:
                ax.text((ph.start + ph.end) / 2 / WEEK, 1.02, ph.name, ha="center", va="bottom",
                        transform=ax.get_xaxis_transform(), fontsize=8, color="0.3")


@dataclass(frozen=True)
class _StripRow:
    """One dose-strip row: bolus times and pump (start, duration) spans, in weeks."""

    label: str
    color: str
    ticks: list[float]
    spans: list[tuple[float, float]]


def _dose_rows(runs: Sequence[Result], labels: Sequence[str],
               colors: Sequence[str]) -> list[_StripRow]:
    """One strip row per (result, drug)."""
    rows = []
    for r, label, color in zip(runs, labels, colors, strict=True):
        boluses, pumps = r.regimen.boluses(), r.regimen.pumps()
        for drug in dict.fromkeys(ln.drug for ln in r.regimen.lines):
            rows.append(_StripRow(
                f"{label}: {drug}" if len(runs) > 1 else drug, color,
                [b.time / WEEK for b in boluses if b.drug == drug],
                [(p.start / WEEK, (p.end - p.start) / WEEK) for p in pumps if p.drug == drug],
            ))
    return rows


def _draw_strip(ax: Axes, rows: Sequence[_StripRow]) -> None:
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        if row.ticks:
            ax.vlines(row.ticks, y - 0.35, y + 0.35, color=row.color, lw=0.8)
        if row.spans:
            ax.broken_barh(row.spans, (y - 0.25, 0.5), color=row.color, alpha=0.6)
    ax.set_yticks(range(len(rows)), [r.label for r in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_ylabel("doses", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)

"""Trial outputs: endpoint table, KM curves and quantile bands as CSV, and PNG plots.

Files under the output directory: ``endpoints.csv`` (one row per arm and endpoint),
``km.csv`` (cumulative recovery 1 - S with its 95 % Greenwood interval, per arm and
``time_to`` endpoint, times in weeks from the arm start), ``bands.csv`` (p5, p50, p95 of each
observable per arm on the output grid, canonical units) and, when ``outputs.plots`` is on,
``km_<endpoint>.png`` (one curve per arm) and ``bands_<observable>.png``. matplotlib is
imported only when a plot is drawn, without pyplot.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hpgsim.population.run import ArmSummary, TrialSummary, kaplan_meier
from hpgsim.result import DISCLAIMER
from hpgsim.units import ANALYTES, HOURS_PER

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WEEK = HOURS_PER["w"]


def _cumulative_at(arm: ArmSummary, name: str, at: float) -> float:
    """KM cumulative fraction with the event by ``at`` (h from arm start)."""
    t, s, _, _ = kaplan_meier(arm.times[name], arm.events[name])
    return float(1.0 - s[np.searchsorted(t, at, side="right") - 1])


def _median_weeks(arm: ArmSummary, name: str) -> float:
    """First time (weeks) the KM survival falls to 0.5 or below; NaN if it never does."""
    t, s, _, _ = kaplan_meier(arm.times[name], arm.events[name])
    below = np.nonzero(s <= 0.5)[0]
    return float(t[below[0]] / WEEK) if below.size else float("nan")


def endpoint_rows(summary: TrialSummary) -> list[dict[str, object]]:
    """The endpoint table: per arm and endpoint, subjects solved/failed, events or subjects
    beyond the threshold, their fraction, KM median (weeks) and KM fraction at ``report_at``."""
    rows: list[dict[str, object]] = []
    spec = summary.spec
    for arm in summary.arms:
        for e in spec.endpoints:
            row: dict[str, object] = {"arm": arm.name, "endpoint": e.name, "kind": e.kind,
                                      "n": arm.n_ok, "failed": arm.n_failed}
            if e.kind == "time_to":
                events = int(np.count_nonzero(arm.events[e.name]))
                row |= {"events": events, "fraction": round(events / max(arm.n_ok, 1), 6),
                        "km_median_weeks": round(_median_weeks(arm, e.name), 4)}
                for at in spec.report_at:
                    row[f"km_by_{at / WEEK:g}w"] = round(_cumulative_at(arm, e.name, at), 6)
            else:
                row |= {"events": arm.beyond[e.name],
                        "fraction": round(arm.beyond[e.name] / max(arm.n_ok, 1), 6)}
            rows.append(row)
    return rows


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)


def write_report(summary: TrialSummary, out_dir: str | Path) -> list[Path]:
    """Write the CSV tables (and the PNG plots if asked); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "endpoints.csv", out / "km.csv", out / "bands.csv"]
    _write_csv(paths[0], endpoint_rows(summary))
    km_rows: list[dict[str, object]] = []
    time_to = [e.name for e in summary.spec.endpoints if e.kind == "time_to"]
    for arm in summary.arms:
        for name in time_to:
            t, s, lo, hi = kaplan_meier(arm.times[name], arm.events[name])
            km_rows += [{"arm": arm.name, "endpoint": name, "weeks": round(ti / WEEK, 4),
                         "recovered": 1.0 - si, "lower": 1.0 - hi_, "upper": 1.0 - lo_}
                        for ti, si, lo_, hi_ in zip(t, s, lo, hi, strict=True)]
    _write_csv(paths[1], km_rows)
    band_rows = [{"arm": arm.name, "observable": k, "weeks": round(float(g) / WEEK, 4),
                  "p5": b[0, i], "p50": b[1, i], "p95": b[2, i]}
                 for arm in summary.arms for k, b in arm.bands.items()
                 for i, g in enumerate(arm.grid)]
    _write_csv(paths[2], band_rows)
    if summary.spec.plots:
        paths += _plots(summary, out, time_to)
    return paths


def _save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` with the disclaimer as a footer."""
    fig.subplots_adjust(bottom=0.2)
    fig.text(0.01, 0.01, textwrap.fill(DISCLAIMER, 110), fontsize=6, color="0.3", va="bottom")
    fig.savefig(path, dpi=100)
    return path


def _plots(summary: TrialSummary, out: Path, time_to: list[str]) -> list[Path]:
    """KM curves (one figure per endpoint, one curve per arm) and band figures."""
    from matplotlib.figure import Figure

    paths = []
    for name in time_to:
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for arm in summary.arms:
            t, s, lo, hi = kaplan_meier(arm.times[name], arm.events[name])
            line = ax.step(t / WEEK, 1.0 - s, where="post", label=arm.name)[0]
            ax.fill_between(t / WEEK, 1.0 - hi, 1.0 - lo, step="post", alpha=0.2,
                            color=line.get_color())
        ax.set(xlabel="weeks from arm start", ylabel="cumulative fraction recovered",
               title=name, ylim=(0, 1))
        ax.legend()
        paths.append(_save(fig, out / f"km_{name}.png"))
    for k in summary.arms[0].bands:
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for arm in summary.arms:
            b, w = arm.bands[k], arm.grid / WEEK
            line = ax.plot(w, b[1], label=f"{arm.name} median")[0]
            ax.fill_between(w, b[0], b[2], alpha=0.2, color=line.get_color())
        ax.set(xlabel="weeks from arm start", ylabel=f"{k} ({ANALYTES[k].unit})", title=k)
        ax.legend()
        paths.append(_save(fig, out / f"bands_{k}.png"))
    return paths

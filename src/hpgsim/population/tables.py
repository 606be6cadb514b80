"""Trial tables: rows of the endpoint, comparison, KM and band tables, written as CSV and
Parquet, and per-subject trajectories (Parquet, one file per arm and chunk).

- ``endpoints``: per arm and endpoint: subjects solved/failed, events (or subjects beyond the
  threshold), their fraction, the KM median (weeks) and the KM fraction by each ``report_at``.
- ``comparison``: per ``time_to`` endpoint, every arm against the first: log-rank chi-square
  and p-value, Peto hazard ratio (recovery rate of the arm over the first) with its 95 %
  interval, and per ``report_at`` the difference in KM cumulative recovery with its 95 %
  interval (Greenwood variances, arms treated as independent samples). ``fraction_at``
  endpoints: the difference of the two fractions with a Wald interval.
- ``km``: cumulative recovery 1 - S with its 95 % Greenwood interval, per arm and endpoint,
  on the output grid (weeks from the arm start, so its size does not grow with the cohort);
  ``bands``: p5, p50, p95 of each observable per arm on the grid (canonical units).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hpgsim.export import pyarrow_modules, slug
from hpgsim.population.run import ArmSummary, TrialSummary
from hpgsim.population.stats import Z95, cumulative_at, km_on_grid, log_rank, median_time
from hpgsim.result import DISCLAIMER
from hpgsim.units import ANALYTES, HOURS_PER

WEEK = HOURS_PER["w"]
Row = dict[str, object]


def _r(x: float) -> float:
    return round(float(x), 6)


def endpoint_rows(summary: TrialSummary) -> list[Row]:
    """The endpoint table (module docstring)."""
    rows: list[Row] = []
    spec = summary.spec
    for arm in summary.arms:
        for e in spec.endpoints:
            row: Row = {"arm": arm.name, "endpoint": e.name, "kind": e.kind, "n": arm.n_ok,
                        "failed": arm.n_failed}
            if e.kind == "time_to":
                t, ev = arm.times[e.name], arm.events[e.name]
                events = int(np.count_nonzero(ev))
                row |= {"events": events, "fraction": _r(events / max(arm.n_ok, 1)),
                        "km_median_weeks": round(median_time(t, ev) / WEEK, 4)}
                for at in spec.report_at:
                    row[f"km_by_{at / WEEK:g}w"] = _r(cumulative_at(t, ev, at)[0])
            else:
                row |= {"events": arm.beyond[e.name],
                        "fraction": _r(arm.beyond[e.name] / max(arm.n_ok, 1))}
            rows.append(row)
    return rows


def _fraction_difference(a: ArmSummary, b: ArmSummary, name: str) -> Row:
    pa, pb = a.beyond[name] / max(a.n_ok, 1), b.beyond[name] / max(b.n_ok, 1)
    se = np.sqrt(pa * (1 - pa) / max(a.n_ok, 1) + pb * (1 - pb) / max(b.n_ok, 1))
    return {"difference": _r(pb - pa), "lower": _r(pb - pa - Z95 * se),
            "upper": _r(pb - pa + Z95 * se)}


def comparison_rows(summary: TrialSummary) -> list[Row]:
    """The comparison table (module docstring): every arm after the first against it."""
    rows: list[Row] = []
    spec = summary.spec
    ref = summary.arms[0]
    for arm in summary.arms[1:]:
        for e in spec.endpoints:
            row: Row = {"arm": arm.name, "reference": ref.name, "endpoint": e.name,
                        "measure": "log_rank" if e.kind == "time_to" else "fraction"}
            if e.kind != "time_to":
                rows.append(row | _fraction_difference(ref, arm, e.name))
                continue
            c = log_rank(ref.times[e.name], ref.events[e.name], arm.times[e.name],
                         arm.events[e.name])
            row |= {"log_rank_chi2": _r(c.chi2), "p_value": float(f"{c.p_value:.4g}"),
                    "hazard_ratio": _r(c.hazard_ratio), "hr_lower": _r(c.hr_lower),
                    "hr_upper": _r(c.hr_upper)}
            for at in spec.report_at:
                fa, sa = cumulative_at(ref.times[e.name], ref.events[e.name], at)
                fb, sb = cumulative_at(arm.times[e.name], arm.events[e.name], at)
                half = Z95 * np.hypot(sa, sb)
                row |= {f"diff_by_{at / WEEK:g}w": _r(fb - fa),
                        f"diff_by_{at / WEEK:g}w_lower": _r(fb - fa - half),
                        f"diff_by_{at / WEEK:g}w_upper": _r(fb - fa + half)}
            rows.append(row)
    return rows


def km_rows(summary: TrialSummary) -> list[Row]:
    """The KM table (module docstring)."""
    rows: list[Row] = []
    for arm in summary.arms:
        for e in summary.spec.endpoints:
            if e.kind != "time_to":
                continue
            s, lo, hi = km_on_grid(arm.times[e.name], arm.events[e.name], arm.grid)
            rows += [{"arm": arm.name, "endpoint": e.name, "weeks": round(ti / WEEK, 4),
                      "recovered": _r(1.0 - si), "lower": _r(1.0 - hi_),
                      "upper": _r(1.0 - lo_)}
                     for ti, si, lo_, hi_ in zip(arm.grid, s, lo, hi, strict=True)]
    return rows


def band_rows(summary: TrialSummary) -> list[Row]:
    """The bands table (module docstring); the unit is in the ``unit`` column."""
    return [{"arm": arm.name, "observable": k, "unit": ANALYTES[k].unit,
             "weeks": round(float(g) / WEEK, 4), "p5": b[0, i], "p50": b[1, i], "p95": b[2, i]}
            for arm in summary.arms for k, b in arm.bands.items()
            for i, g in enumerate(arm.grid)]


def write_csv(path: Path, rows: list[Row]) -> Path:
    """``rows`` as CSV (columns in order of first appearance)."""
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[Row]) -> Path:
    """``rows`` as Parquet (missing cells null), with the disclaimer in the file metadata."""
    pa, _ = pyarrow_modules()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    return _write(pa.table({k: [row.get(k) for row in rows] for k in fields}), path)


def _write(table: object, path: Path) -> Path:
    _, pq = pyarrow_modules()
    pq.write_table(table.replace_schema_metadata(  # type: ignore[attr-defined]
        {"hpgsim.disclaimer": DISCLAIMER}), path)
    return path


def write_tables(summary: TrialSummary, out: Path) -> list[Path]:
    """Every table as CSV, and as Parquet when ``outputs.parquet``; returns the paths."""
    tables = {"endpoints": endpoint_rows(summary), "comparison": comparison_rows(summary),
              "km": km_rows(summary), "bands": band_rows(summary)}
    paths = [write_csv(out / f"{name}.csv", rows) for name, rows in tables.items()]
    if summary.spec.outputs.parquet:
        paths += [write_parquet(out / f"{name}.parquet", rows) for name, rows in tables.items()]
    return paths


def write_trajectories(path: Path, grid: NDArray[np.float64],
                       columns: dict[str, NDArray[np.generic]]) -> Path:
    """One chunk of one arm in long form: ``subject``, ``weeks`` (from the arm start) and one
    float32 column per observable named with its canonical unit (``columns``: ``subject``
    (subjects,) and each observable (subjects, len(grid)))."""
    pa, _ = pyarrow_modules()
    path.parent.mkdir(parents=True, exist_ok=True)
    subject = np.asarray(columns["subject"])
    data = {"subject": np.repeat(subject, grid.size), "weeks": np.tile(grid / WEEK,
                                                                       subject.size)}
    data |= {f"{k}_{slug(ANALYTES[k].unit)}": np.asarray(v).reshape(-1)
             for k, v in columns.items() if k != "subject"}
    return _write(pa.table(data), path)

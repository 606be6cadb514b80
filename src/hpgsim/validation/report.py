"""What ``hpgsim validate`` shows: the plain-text table, and the one-page HTML report.

The report (``write_report``) is one self-contained page: a summary (pass count, errors, known
misses, and the misses no known-miss file explains, i.e. regressions), one row per target, a
"Known misses" section with each miss's cause, a forest plot per target family (the id up to
its first ``-``) embedded as a PNG data URI, and every parameter table with its sources.
matplotlib is imported only to draw the plots, without pyplot; without it the page says that
the plots are left out.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hpgsim.params import ParamTable
from hpgsim.physiology import parameter_tables
from hpgsim.result import DISCLAIMER
from hpgsim.validation.cohort import VARIABILITY
from hpgsim.validation.runner import TargetResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

UNEXPLAINED = "not yet explained"
FIGURE_WIDTH = 4.0  # in
ROW_HEIGHT = 0.35  # in per target of a family plot
FIGURE_MARGIN = 0.8  # in: title and axis label of a family plot
FIGURE_DPI = 80


# --- the plain-text table ------------------------------------------------------------------

def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def status(r: TargetResult) -> str:
    """``pass``, ``miss`` (simulated, outside the interval) or ``error`` (not simulated)."""
    if r.passed:
        return "pass"
    return "error" if r.error is not None or r.simulated is None else "miss"


def _interval(r: TargetResult) -> str:
    return f"{_num(r.expected)} [{_num(r.low)}, {_num(r.high)}]"


def format_table(results: Sequence[TargetResult]) -> str:
    """The plain-text table: id, simulated, expected [low, high], unit, status; then the errors
    and the pass count."""
    rows = [("id", "simulated", "expected [low, high]", "unit", "result")]
    rows += [(r.id, _num(r.simulated), _interval(r), r.unit or "-",
              "MISS" if status(r) == "miss" else status(r)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]])
             for row in rows]
    errors = [r for r in results if r.error is not None]
    if errors:
        lines += ["", "errors:"] + [f"  {r.id}: {r.error}" for r in errors]
    dropped = [r for r in results if r.failed_members and r.error is None]
    if dropped:
        lines += ["", "cohort members left out (failed simulations):"]
        lines += [f"  {r.id}: {r.failed_members} of {r.members + r.failed_members}"
                  for r in dropped]
    passed = sum(r.passed for r in results)
    lines += ["", f"{passed} of {len(results)} targets passed ({len(errors)} with errors)"]
    return "\n".join(lines)


# --- the HTML report ----------------------------------------------------------------------

def family(target_id: str) -> str:
    """A target's family: its id up to the first ``-`` (``HAND05-REC-T`` -> ``HAND05``)."""
    return target_id.split("-", 1)[0]


def _factor(r: TargetResult) -> str:
    if status(r) == "error":
        return "-"
    return "∞" if math.isinf(r.miss_factor) else f"{r.miss_factor:.3g}"


def write_report(results: Sequence[TargetResult], directory: Path, source: str,
                 known_misses: Mapping[str, str] | None = None) -> Path:
    """Write ``directory/report.html`` (see the module docstring) and return its path.

    ``known_misses`` maps target ids to the cause of their miss; None when no known-miss file
    applies to these targets (every miss is then unexplained).
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(render_report(results, source, known_misses), encoding="utf-8")
    return path


def render_report(results: Sequence[TargetResult], source: str,
                  known_misses: Mapping[str, str] | None = None) -> str:
    """The report page as HTML text."""
    esc = html.escape
    known = known_misses if known_misses is not None else {}
    failed = sorted((r for r in results if not r.passed), key=lambda r: -r.miss_factor)
    unexplained = [r for r in failed if r.id not in known]
    now_passing = [r for r in results if r.passed and r.id in known]
    passed = len(results) - len(failed)
    errors = sum(status(r) == "error" for r in results)
    share = f"{100.0 * passed / len(results):.0f}%" if results else "-"
    stale = sorted(set(known) - {r.id for r in results})
    known_note = ""
    if known_misses is None:
        known_note = ("<p>No known-miss file applies to these targets (give one with "
                      "<code>--known-misses FILE</code>): every miss counts as unexplained.</p>")
    elif stale:
        known_note = ("<p>Known misses listed for targets not in this run: "
                      f"{esc(', '.join(stale))}</p>")
    regressions = ("<div class='regressions'><b>Misses not in the known-miss file "
                   f"(regressions): {len(unexplained)}</b>: "
                   + ", ".join(f"<a href='#{esc(r.id)}'>{esc(r.id)}</a>" for r in unexplained)
                   + "</div>") if unexplained else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hpgsim validation</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 80em; }}
table {{ border-collapse: collapse; font-size: 85%; margin-bottom: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }}
td.pass {{ color: #070; }} td.miss {{ color: #b00; font-weight: bold; }}
td.error {{ color: #850; font-weight: bold; }}
.regressions {{ border: 2px solid #b00; padding: 0.5em; margin: 1em 0; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
.disclaimer {{ color: #555; font-size: 85%; }}
</style></head><body>
<h1>hpgsim validation</h1>
<p class="disclaimer">{esc(DISCLAIMER)}</p>
<p>Targets: {esc(source)}.</p>
<p><b>{passed} of {len(results)} targets passed ({share})</b>; {errors} with errors;
{len(failed) - len(unexplained)} known misses; {len(unexplained)} misses not yet explained;
{len(now_passing)} listed as known misses now pass.</p>
{known_note}{regressions}
<h2>Targets</h2>
{_results_table(results, known)}
<h2>Known misses</h2>
{_known_misses(failed, now_passing, known)}
<h2>Simulated against published, per family</h2>
{_figures_section(results)}
<h2>Parameters</h2>
{"".join(_parameter_table(t) for t in (*parameter_tables(), VARIABILITY))}
</body></html>
"""


def _results_table(results: Sequence[TargetResult], known: Mapping[str, str]) -> str:
    esc = html.escape
    rows = []
    for r in results:
        marker = ""
        if r.id in known:
            marker = "now passes" if r.passed else "known"
        simulated = _num(r.simulated)
        if r.failed_members:
            simulated += (f" <small>({r.failed_members} of {r.members + r.failed_members} "
                          "members failed)</small>")
        rows.append(
            f"<tr id='{esc(r.id)}'><td>{esc(r.id)}</td><td>{esc(r.title)}</td>"
            f"<td>{esc(r.source)}</td><td>{simulated}</td><td>{_num(r.expected)}</td>"
            f"<td>[{_num(r.low)}, {_num(r.high)}]</td><td>{esc(r.unit or '')}</td>"
            f"<td class='{status(r)}'>{status(r)}</td><td>{_factor(r)}</td>"
            f"<td title='{esc(known.get(r.id, ''))}'>{marker}</td></tr>")
    return ("<table><tr><th>id</th><th>title</th><th>source</th><th>simulated</th>"
            "<th>published</th><th>interval</th><th>unit</th><th>result</th>"
            "<th>miss factor</th><th>known miss</th></tr>\n" + "\n".join(rows) + "\n</table>")


def _known_misses(failed: Sequence[TargetResult], now_passing: Sequence[TargetResult],
                  known: Mapping[str, str]) -> str:
    """Every miss and error, the largest miss first, with its cause; then the listed targets
    that now pass."""
    esc = html.escape
    if not failed and not now_passing:
        return "<p>None: every target passed.</p>"
    items = []
    for r in failed:
        outcome = (f"error: {esc(r.error)}" if r.error is not None else
                   f"simulated {_num(r.simulated)}, published {esc(_interval(r))} "
                   f"{esc(r.unit or '')} (miss factor {_factor(r)})")
        cause = esc(known[r.id]) if r.id in known else f"<i>{UNEXPLAINED}</i>"
        notes = f"<br><small>{esc(r.notes)}</small>" if r.notes else ""
        items.append(f"<li><b>{esc(r.id)}</b>: {outcome}.<br>Cause: {cause}{notes}</li>")
    passing = "".join(
        f"<li><b>{esc(r.id)}</b>: simulated {_num(r.simulated)} within {esc(_interval(r))} "
        f"{esc(r.unit or '')}; was listed as: {esc(known[r.id])}</li>" for r in now_passing)
    listed = (f"<h3>Listed as known misses, now pass</h3><ul>{passing}</ul>"
              if now_passing else "")
    return f"<ul>\n{chr(10).join(items)}\n</ul>{listed}"


def _figures_section(results: Sequence[TargetResult]) -> str:
    if importlib.util.find_spec("matplotlib") is None:
        return ("<p>Plots left out: matplotlib is not installed "
                "(<code>pip install 'hpgsim[plot]'</code>).</p>")
    families: dict[str, list[TargetResult]] = {}
    for r in results:
        families.setdefault(family(r.id), []).append(r)
    images = "\n".join(
        f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,"
        f"{_png(_family_figure(name, members))}'></figure>"
        for name, members in families.items())
    return ("<p>One row per target: bar, the published interval; black tick, the published "
            "value; dot, the simulated value (red when outside the interval).</p>"
            f"<div class='figures'>\n{images}\n</div>")


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _family_figure(name: str, members: Sequence[TargetResult]) -> Figure:
    """A forest plot of one family, one row per target (the first on top).

    Targets in other units share the axis as simulated / published on a log scale. Where a
    published value, interval bound or simulated value is not positive, the family is drawn on
    a linear axis of (value - published) / half the interval width instead (a zero-width
    interval is scaled by the published value). Targets with no simulated value are a gap
    labelled with the reason.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    drawn = [(r, r.simulated, r.expected, r.low, r.high) for r in members
             if r.simulated is not None and r.expected is not None and r.low is not None
             and r.high is not None]
    log = all(min(s, e, lo) > 0.0 for _, s, e, lo, _ in drawn)
    fig = Figure(figsize=(FIGURE_WIDTH, ROW_HEIGHT * len(members) + FIGURE_MARGIN),
                 layout="constrained")
    ax = fig.add_subplot()
    rows = {r.id: len(members) - 1 - i for i, r in enumerate(members)}
    for r, s, e, lo, hi in drawn:
        if log:
            x = [v / e for v in (s, e, lo, hi)]
        else:
            scale = (hi - lo) / 2.0 or abs(e) or 1.0
            x = [(v - e) / scale for v in (s, e, lo, hi)]
        y = rows[r.id]
        ax.hlines(y, x[2], x[3], lw=5, color="#9cc3e6")
        ax.plot(x[1], y, "|", ms=9, mew=1.5, color="k")
        ax.plot(x[0], y, "o", ms=4, color="#1f3f8f" if r.passed else "#d00000")
    drawn_ids = {r.id for r, *_ in drawn}
    for r in members:
        if r.id not in drawn_ids:
            ax.text(0.5, rows[r.id], "error: not simulated" if r.error else "no published value",
                    transform=ax.get_yaxis_transform(), ha="center", va="center", fontsize=6,
                    color="0.4")
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axvline(1.0, color="0.6", lw=0.6)
        for f in (0.5, 2.0):
            ax.axvline(f, color="0.7", lw=0.6, ls="--")
        ax.set_xlabel("simulated / published (log; dashed: factor 2)", fontsize=7)
    else:
        ax.axvline(0.0, color="0.6", lw=0.6)
        ax.set_xlabel("(value − published) / half interval width\n"
                      "(linear axis: some values are ≤ 0)", fontsize=7)
    ax.set_yticks(list(rows.values()), list(rows), fontsize=6)
    ax.set_ylim(-0.7, len(members) - 0.3)
    ax.tick_params(axis="x", labelsize=6)
    ax.set_title(name, fontsize=8)
    return fig


def _parameter_table(table: ParamTable) -> str:
    """One parameter table: name, value (the active value; the tabulated one beside it when a
    calibration override is in place), unit, description, source."""
    esc = html.escape
    values = table.values_dict()
    rows = []
    for name, p in table.items():
        value = f"{values[name]:.4g}"
        if values[name] != p.value:
            value += f" <small>(tabulated {p.value:.4g})</small>"
        rows.append(f"<tr><td>{esc(name)}</td><td>{value}</td><td>{esc(p.unit)}</td>"
                    f"<td>{esc(p.description)}</td><td>{esc(p.source)}</td></tr>")
    return (f"<h3>{esc(table.title)}</h3><table><tr><th>name</th><th>value</th><th>unit</th>"
            "<th>description</th><th>source</th></tr>\n" + "\n".join(rows) + "\n</table>\n")

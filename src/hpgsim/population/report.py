"""Trial outputs: the tables (``tables``), and when ``outputs.plots`` is on, PNG plots and one
self-contained HTML page.

Plots: ``km_<endpoint>.png`` (one curve per arm with its 95 % band) and
``bands_<observable>.png`` (median and 5-95 % band per arm), each with the disclaimer as a
footer. ``report.html`` holds the same figures (embedded as data URIs, no external
files or scripts), the endpoint and comparison tables, and the disclaimer once. matplotlib is
imported only when a plot is drawn, without pyplot.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from hpgsim.population.run import TrialSummary
from hpgsim.population.stats import km_on_grid
from hpgsim.population.tables import WEEK, Row, comparison_rows, endpoint_rows, write_tables
from hpgsim.result import DISCLAIMER
from hpgsim.units import ANALYTES

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def write_report(summary: TrialSummary, out_dir: str | Path) -> list[Path]:
    """Write the tables (and the plots and HTML page if asked); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = write_tables(summary, out)
    if summary.spec.plots:
        figures = _figures(summary)
        paths.append(_write_html(summary, figures, out / "report.html"))
        for name, fig in figures.items():
            _footer(fig).savefig(out / name, dpi=100)
            paths.append(out / name)
    return paths


def _footer(fig: Figure) -> Figure:
    """``fig`` with the disclaimer as a footer."""
    fig.subplots_adjust(bottom=0.2)
    fig.text(0.01, 0.01, textwrap.fill(DISCLAIMER, 110), fontsize=6, color="0.3", va="bottom")
    return fig


def _figures(summary: TrialSummary) -> dict[str, Figure]:
    """KM figures (one per ``time_to`` endpoint, one curve per arm) and band figures, by file
    name, without the footer."""
    from matplotlib.figure import Figure

    figures: dict[str, Figure] = {}
    for e in summary.spec.endpoints:
        if e.kind != "time_to":
            continue
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for arm in summary.arms:
            s, lo, hi = km_on_grid(arm.times[e.name], arm.events[e.name], arm.grid)
            w = arm.grid / WEEK
            line = ax.step(w, 1.0 - s, where="post", label=arm.name)[0]
            ax.fill_between(w, 1.0 - hi, 1.0 - lo, step="post", alpha=0.2,
                            color=line.get_color())
        ax.set(xlabel="weeks from arm start", ylabel="cumulative fraction recovered",
               title=e.name, ylim=(0, 1))
        ax.legend()
        figures[f"km_{e.name}.png"] = fig
    for k in summary.arms[0].bands:
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for arm in summary.arms:
            b, w = arm.bands[k], arm.grid / WEEK
            line = ax.plot(w, b[1], label=f"{arm.name} median")[0]
            ax.fill_between(w, b[0], b[2], alpha=0.2, color=line.get_color())
        ax.set(xlabel="weeks from arm start", ylabel=f"{k} ({ANALYTES[k].unit})",
               title=f"{k}: median and 5-95 %")
        ax.legend()
        figures[f"bands_{k}.png"] = fig
    return figures


def _table(rows: list[Row]) -> str:
    if not rows:
        return "<p>(none: a comparison needs two arms)</p>"
    fields = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(f, '')))}</td>" for f in fields)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _write_html(summary: TrialSummary, figures: dict[str, Figure], path: Path) -> Path:
    """One self-contained page: figures as PNG data URIs, the tables, the disclaimer once."""
    images = []
    for name, fig in figures.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        images.append(f'<figure><img alt="{html.escape(name)}" '
                      f'src="data:image/png;base64,{data}"></figure>')
    spec = summary.spec
    n = ", ".join(f"{a.name}: {a.n_ok} solved, {a.n_failed} failed" for a in summary.arms)
    title = html.escape(spec.name or "Virtual trial")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:80em}}
table{{border-collapse:collapse;font-size:0.85em;margin-bottom:1.5em}}
td,th{{border:1px solid #bbb;padding:0.2em 0.5em}}figure{{display:inline-block;margin:0.5em}}
.disclaimer{{background:#fff4d6;padding:0.7em;border:1px solid #e0c060}}</style></head>
<body><h1>{title}</h1>
<p class="disclaimer">{html.escape(DISCLAIMER)}</p>
<p>{spec.cohort.size} subjects per arm (seed {spec.cohort.seed}); {html.escape(n)}.
Times in weeks from the arm start; thresholds in canonical units.</p>
<h2>Endpoints</h2>{_table(endpoint_rows(summary))}
<h2>Comparison with {html.escape(summary.arms[0].name)}</h2>
<p>Log-rank test and Peto hazard ratio (arms treated as independent samples, although they
share their virtual subjects); differences in KM cumulative recovery with 95 % intervals.</p>
{_table(comparison_rows(summary))}
<h2>Recovery curves and bands</h2>{"".join(images)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path

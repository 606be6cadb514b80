"""``hpgsim validate``: run a validation target file and compare with the published values.

Registered in ``hpgsim.cli`` as ``main.add_command(validate_command)``.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from hpgsim.validation.runner import TargetResult, dumps, run_targets
from hpgsim.validation.schema import TargetFileError, load_targets


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _status(r: TargetResult) -> str:
    return "pass" if r.passed else ("error" if r.simulated is None else "MISS")


def _interval(r: TargetResult) -> str:
    return f"{_num(r.expected)} [{_num(r.low)}, {_num(r.high)}]"


def format_table(results: Sequence[TargetResult]) -> str:
    """The plain-text table: id, simulated, expected [low, high], unit, status; then the errors
    and the pass count."""
    rows = [("id", "simulated", "expected [low, high]", "unit", "result")]
    rows += [(r.id, _num(r.simulated), _interval(r), r.unit or "-", _status(r)) for r in results]
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


def write_report(results: Sequence[TargetResult], directory: Path, source: str) -> Path:
    """Write ``directory/report.html``: one row per target and a "Known misses" section (misses
    and errors, the largest miss first, with the target's notes)."""
    directory.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    passed = sum(r.passed for r in results)
    rows = "\n".join(
        f"<tr class='{_status(r).lower()}'><td>{esc(r.id)}</td><td>{esc(r.title)}</td>"
        f"<td>{esc(r.source)}</td><td>{_num(r.simulated)}</td><td>{esc(_interval(r))}</td>"
        f"<td>{esc(r.unit or '')}</td><td>{_status(r)}</td></tr>" for r in results)
    misses = sorted((r for r in results if not r.passed), key=lambda r: -r.miss_factor)
    items = "\n".join(
        f"<li><b>{esc(r.id)}</b>: simulated {_num(r.simulated)}, expected {esc(_interval(r))} "
        f"{esc(r.unit or '')}" + (f"; error: {esc(r.error)}" if r.error else "")
        + (f"<br><small>{esc(r.notes)}</small>" if r.notes else "") + "</li>" for r in misses)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hpgsim validation</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 90%; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }}
tr.pass td:last-child {{ color: #070; }} tr.miss td:last-child {{ color: #b00; }}
tr.error td:last-child {{ color: #850; }}
</style></head><body>
<h1>hpgsim validation</h1>
<p>Targets: {esc(source)}. {passed} of {len(results)} passed.</p>
<table><tr><th>id</th><th>title</th><th>source</th><th>simulated</th>
<th>expected [low, high]</th><th>unit</th><th>result</th></tr>
{rows}
</table>
<h2>Known misses</h2>
<ul>
{items}
</ul>
</body></html>
"""
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


@click.command("validate")
@click.option("--targets", "targets_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Target file (hpgsim-validation/1); default: the bundled public set.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result object (hpgsim-validation-result/1) instead of the table.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, metavar="DIR", help="Also write DIR/report.html.")
@click.option("--only", metavar="ID-PREFIX", default=None,
              help="Run only the targets whose id starts with ID-PREFIX.")
@click.option("--cohort-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="Simulate at most N members of each cohort (the first N), for speed.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes for the simulations (default: the CPU count).")
def validate_command(targets_path: Path | None, as_json: bool, report_dir: Path | None,
                     only: str | None, cohort_size: int | None, workers: int | None) -> None:
    """Simulate each validation target and compare with its published value.

    Exit status 0 whatever passed; non-zero only when the target file cannot be read.
    """
    try:
        file = load_targets(targets_path)
    except TargetFileError as err:
        raise click.ClickException(str(err)) from None
    if only is not None:
        file = file.only(only)
    total = len(file.entries)
    done = 0

    def progress(r: TargetResult) -> None:
        nonlocal done
        done += 1
        if sys.stderr.isatty():
            click.echo(f"[{done}/{total}] {r.id}: {_status(r)}", err=True)

    results = run_targets(file, cohort_size=cohort_size, workers=workers, progress=progress)
    click.echo(dumps(results) if as_json else format_table(results))
    if report_dir is not None:
        path = write_report(results, report_dir, file.source)
        if not as_json:
            click.echo(f"report: {path}")

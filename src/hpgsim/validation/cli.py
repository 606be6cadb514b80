"""``hpgsim validate``: run a validation target file and compare with the published values.

Registered in ``hpgsim.cli`` as ``main.add_command(validate_command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hpgsim.errors import InputError
from hpgsim.validation.known import load_known_misses
from hpgsim.validation.report import format_table, status, write_report
from hpgsim.validation.runner import TargetResult, dumps, run_targets
from hpgsim.validation.schema import TargetFileError, load_targets


@click.command("validate")
@click.option("--targets", "targets_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Target file (hpgsim-validation/1); default: the bundled public set.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result object (hpgsim-validation-result/1) instead of the table.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, metavar="DIR", help="Also write DIR/report.html.")
@click.option("--known-misses", "known_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE",
              help="Known misses (id: cause) for the report; default: the bundled file when the "
                   "bundled targets are run, none for a --targets file.")
@click.option("--only", metavar="ID-PREFIX", default=None,
              help="Run only the targets whose id starts with ID-PREFIX.")
@click.option("--cohort-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="Simulate at most N members of each cohort (the first N), for speed.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes for the simulations (default: the CPU count).")
def validate_command(targets_path: Path | None, as_json: bool, report_dir: Path | None,
                     known_path: Path | None, only: str | None, cohort_size: int | None,
                     workers: int | None) -> None:
    """Simulate each validation target and compare with its published value.

    Exit status 0 whatever passed; non-zero only when the target file (or the known-miss
    file) cannot be read.
    """
    try:
        file = load_targets(targets_path)
        known = (load_known_misses(known_path) if known_path is not None or targets_path is None
                 else None)
    except (TargetFileError, InputError) as err:
        raise click.ClickException(str(err)) from None
    if only is not None:
        file = file.only(only)
    total = len(file.entries)
    done = 0

    def progress(r: TargetResult) -> None:
        nonlocal done
        done += 1
        if sys.stderr.isatty():
            click.echo(f"[{done}/{total}] {r.id}: {status(r)}", err=True)

    results = run_targets(file, cohort_size=cohort_size, workers=workers, progress=progress)
    click.echo(dumps(results) if as_json else format_table(results))
    if report_dir is not None:
        path = write_report(results, report_dir, file.source, known)
        if not as_json:
            click.echo(f"report: {path}")

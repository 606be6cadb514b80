"""``hpgsim trial FILE --out DIR [--workers N] [--scheduler ADDR] [--trajectories]``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hpgsim.errors import HpgsimError
from hpgsim.population.backends import make_backend
from hpgsim.population.report import write_report
from hpgsim.population.run import n_chunks, run_trial
from hpgsim.population.spec import load_trial, with_trajectories
from hpgsim.result import DISCLAIMER


@click.command("trial")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Output directory (chunks already in it are not rerun).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run chunks in N local processes.")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Run chunks on a Dask scheduler, e.g. tcp://host:8786.")
@click.option("--trajectories", is_flag=True,
              help="Also write every subject's course (Parquet, one file per arm and chunk).")
def trial_command(file: Path, out_dir: Path, workers: int | None, scheduler: str | None,
                  trajectories: bool) -> None:
    """Run a virtual-population trial; write endpoint and comparison tables, KM curves, bands
    and an HTML page to --out."""
    try:
        spec = load_trial(file)
        if trajectories:
            spec = with_trajectories(spec)
        backend = make_backend(workers, scheduler)
        start = time.perf_counter()
        with click.progressbar(length=n_chunks(spec), label="chunks") as bar:
            summary = run_trial(spec, out_dir, backend,
                                progress=lambda done, total: bar.update(done - bar.pos))
        paths = write_report(summary, out_dir)
    except HpgsimError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{summary.computed} chunks computed in {time.perf_counter() - start:.1f} s; "
               f"wrote {', '.join(p.name for p in paths)} to {out_dir}")
    click.echo(DISCLAIMER)

"""The ``hpgsim`` command: simulate a protocol, compare protocols, list the drug catalog, and
``validate`` (from :mod:`hpgsim.validation.cli`).

Bad input (any :class:`~hpgsim.errors.HpgsimError`) ends the command with one line
``error: <message>`` on stderr and exit status 2; a :class:`~hpgsim.errors.DoseWarning` is
printed as ``warning: <message>`` and the run goes on.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

import click

from hpgsim.errors import DoseWarning, HpgsimError, InputError
from hpgsim.export import slug
from hpgsim.interop.cli import export_sbml_command
from hpgsim.patients.cli import COMMANDS as PATIENT_COMMANDS
from hpgsim.population.cli import trial_command
from hpgsim.result import Result
from hpgsim.units import analyte, parse_unit_choices
from hpgsim.validation.cli import validate_command
from hpgsim.web.cli import serve_command

PLOT_OBSERVABLES = "T,free_T,LH,FSH,E2,inhibin_b,sperm"
LIST_INLINE_CHARS = 80  # `hpgsim drugs`: longer lists print one item per line


class _Failure(click.ClickException):
    """An hpgsim error shown as one line, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (HpgsimError, OSError) as err:
            raise _Failure(" ".join(str(err).split())) from None


@contextmanager
def _dose_warnings_to_stderr() -> Iterator[None]:
    """Print each DoseWarning as ``warning: ...`` when it is raised; other warnings unchanged."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", DoseWarning)
        show = warnings.showwarning

        def _show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
            if issubclass(category, DoseWarning):
                click.echo(f"warning: {message}", err=True)
            else:
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = _show
        yield


def _run_protocol(path: Path) -> tuple[str, Result]:
    """Load and simulate a protocol file; returns (name, result)."""
    from hpgsim import simulate
    from hpgsim.regimen.protocol import load_protocol

    with _dose_warnings_to_stderr():
        protocol = load_protocol(path)
        return protocol.name or path.stem, simulate(protocol.subject, protocol.regimen)


def _run_text(text: str) -> tuple[str, Result]:
    """Parse and simulate a compact text regimen for the typical man."""
    from hpgsim import Subject, simulate
    from hpgsim.regimen.text import parse_regimen

    with _dose_warnings_to_stderr():
        regimen = parse_regimen(text)
        return regimen.name or text, simulate(Subject(), regimen)


def _observables(text: str) -> tuple[str, ...]:
    return tuple(analyte(n.strip(), "observables").name for n in text.split(",") if n.strip())


def _write_tables(result: Result, out: Path, stem: str, fmt: str,
                  units: dict[str, str]) -> list[Path]:
    from hpgsim.export import write_csv, write_parquet

    files = []
    if fmt in ("csv", "both"):
        files.append(write_csv(result, out / f"{stem}.csv", units))
    if fmt in ("parquet", "both"):
        files.append(write_parquet(result, out / f"{stem}.parquet", units))
    return files


_units_option = click.option(
    "--units", default="", metavar="A=UNIT,...",
    help="Display unit per analyte, e.g. T=nmol/L,E2=pmol/L (default: ng/dL, pg/mL, IU/L...).")
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet", "both"]), default="csv",
    show_default=True, help="Time-series table format.")
_plot_option = click.option(
    "--plot", "plot_fmt", type=click.Choice(["png", "svg", "none"]), default="png",
    show_default=True, help="Figure format (needs matplotlib).")
_observables_option = click.option(
    "--observables", default=PLOT_OBSERVABLES, show_default=True,
    help="Comma-separated analytes, one plot panel each.")
_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hpgsim", prog_name="hpgsim")
def main() -> None:
    """hpgsim: simulate the male HPG axis under TRT, AAS and recovery protocols.

    Research and education tool, not medical advice.
    """


@main.command()
@click.argument("protocol", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", help='A regimen in compact form instead of a file, e.g. '
              '"TC 150 mg q7d x 52w".')
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for timeseries, summary and plot (created; none written without it).")
@_units_option
@_format_option
@_plot_option
@_observables_option
@_json_option
def simulate(protocol: Path | None, text: str | None, out: Path | None, units: str, fmt: str,
             plot_fmt: str, observables: str, as_json: bool) -> None:
    """Simulate PROTOCOL (a YAML file) or --text, print the summary and write files to --out."""
    if (protocol is None) == (text is None):
        raise InputError("protocol", protocol or text, "give exactly one of PROTOCOL or --text",
                         'e.g. hpgsim simulate examples/post_trt_recovery.yaml, or --text "..."')
    unit_choices, panels = parse_unit_choices(units), _observables(observables)
    run = _run_protocol(protocol) if protocol is not None else _run_text(str(text))
    _report([run], out, unit_choices, fmt, plot_fmt, panels, as_json)


@main.command()
@click.argument("protocols", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", "texts", multiple=True,
              help="A regimen in compact form to compare as well (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the overlaid plot, the comparison and one table per protocol.")
@_units_option
@_format_option
@_plot_option
@_observables_option
@_json_option
def compare(protocols: Sequence[Path], texts: Sequence[str], out: Path | None, units: str,
            fmt: str, plot_fmt: str, observables: str, as_json: bool) -> None:
    """Simulate several PROTOCOLS (and --text regimens) and compare them side by side."""
    if len(protocols) + len(texts) < 2:
        raise InputError("protocols", [str(p) for p in protocols] + list(texts),
                         "need at least two protocols to compare",
                         "give two or more YAML files and/or --text regimens")
    unit_choices, panels = parse_unit_choices(units), _observables(observables)
    runs = [_run_protocol(p) for p in protocols] + [_run_text(t) for t in texts]
    _report(runs, out, unit_choices, fmt, plot_fmt, panels, as_json)


def _report(runs: Sequence[tuple[str, Result]], out: Path | None, units: dict[str, str],
            fmt: str, plot_fmt: str, panels: Sequence[str], as_json: bool) -> None:
    """Summarize, write the files to ``out`` (if given) and print text or JSON.

    One run: ``timeseries.*`` and its summary. Several: one table per run (``<n>_<label>.*``),
    the side-by-side table as ``summary.txt`` and an overlaid plot.
    """
    from hpgsim.summary import compare_table, summarize

    labels = _unique([name for name, _ in runs])
    results = [r for _, r in runs]
    summaries = [summarize(r) for r in results]
    if len(runs) == 1:
        text, stems = summaries[0].to_text(units), ["timeseries"]
        payload: dict[str, Any] = {"summary": summaries[0].to_dict(units)}
    else:
        text = compare_table(summaries, labels, units)
        stems = [f"{i}_{slug(lb)}" for i, lb in enumerate(labels, start=1)]
        payload = {"protocols": [{"label": lb, "summary": s.to_dict(units)}
                                 for lb, s in zip(labels, summaries, strict=True)]}
    files: list[Path] = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for stem, result in zip(stems, results, strict=True):
            files += _write_tables(result, out, stem, fmt, units)
        (out / "summary.txt").write_text(text + "\n", encoding="utf-8")
        (out / "summary.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        files += [out / "summary.txt", out / "summary.json"]
        if plot_fmt != "none":
            from hpgsim.report.plot import plot_result

            files.append(plot_result(results, out / f"plot.{plot_fmt}", observables=panels,
                                     units=units, labels=labels))
    if as_json:
        click.echo(json.dumps(payload | {"files": [str(f) for f in files]}, indent=2))
        return
    click.echo(text)
    if files:
        click.echo("\nFiles written:")
        for f in files:
            click.echo(f"  {f}")


@main.command()
@_json_option
def drugs(as_json: bool) -> None:
    """List the drug catalog: drugs, routes, PK parameters and their sources."""
    from hpgsim.drugs.catalog import catalog_rows

    rows = catalog_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for i, row in enumerate(rows):
        (_, head), *rest = row.items()
        if i:
            click.echo()
        click.echo(head)
        for key, value in rest:
            if value is None:
                continue
            if not isinstance(value, list):
                click.echo(f"  {key}: {value}")
            elif sum(len(str(v)) for v in value) <= LIST_INLINE_CHARS:
                click.echo(f"  {key}: {', '.join(map(str, value))}")
            else:
                click.echo(f"  {key}:")
                for v in value:
                    click.echo(f"    - {v}")


@main.command()
@_json_option
def params(as_json: bool) -> None:
    """List every physiology parameter: value, unit, description and source, by organ."""
    from hpgsim.physiology import parameter_tables, parameters_markdown

    if as_json:
        tables = {t.title: [vars(p) for p in t.values()] for t in parameter_tables()}
        click.echo(json.dumps(tables, indent=2))
        return
    click.echo(parameters_markdown())


main.add_command(validate_command)
main.add_command(serve_command)
main.add_command(export_sbml_command)
main.add_command(trial_command)
for _command in PATIENT_COMMANDS:
    main.add_command(_command)


def _unique(labels: Sequence[str]) -> list[str]:
    """Labels made unique by a ``(2)``, ``(3)``... suffix on repeats."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out

"""Command-line interface of the patient store: ``patient``, ``labs``, ``doses``, ``fit`` and
``plan``. Registered in :mod:`hpgsim.cli` with ``for c in COMMANDS: main.add_command(c)``.

Every command takes ``--db URL`` (a SQLAlchemy URL or a SQLite file path; default
``$HPGSIM_DATABASE_URL`` or the user's data directory, see :mod:`hpgsim.patients.store`).
Errors are :class:`~hpgsim.errors.InputError`, which ``hpgsim``'s group prints as one line.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hpgsim.errors import InputError
from hpgsim.patients.labs import format_datetime, parse_datetime
from hpgsim.units import ANALYTES, parse_unit_choices

if TYPE_CHECKING:
    from hpgsim.patients.fit import PatientData
    from hpgsim.patients.labs import LabRecord
    from hpgsim.patients.records import PatientInfo
    from hpgsim.patients.store import Store

_db_option = click.option("--db", "db", default=None, metavar="URL",
                          help="Database: a SQLAlchemy URL or a SQLite file path.")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _store(db: str | None) -> Store:
    try:
        from hpgsim.patients.store import Store
    except ImportError:
        raise InputError("database", "sqlalchemy", "the patient store needs SQLAlchemy",
                         "pip install 'hpgsim[patients]'") from None
    return Store(db)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=1, default=str))


@click.group("patient")
def patient_group() -> None:
    """Patients: add, list, show."""


@patient_group.command("add")
@click.argument("patient_id")
@click.option("--age", type=float, help="Age in years (the birth date is then estimated).")
@click.option("--birth-date", help="Birth date, YYYY-MM-DD.")
@click.option("--weight", type=float, default=80.0, show_default=True, help="Weight in kg.")
@click.option("--bmi", type=float, help="BMI in kg/m2.")
@click.option("--ancestry", default="non_asian", show_default=True)
@click.option("--condition", default="healthy", show_default=True)
@click.option("--testis-volume", type=float, help="Both testes together, mL.")
@_db_option
def patient_add(patient_id: str, age: float | None, birth_date: str | None, weight: float,
                bmi: float | None, ancestry: str, condition: str, testis_volume: float | None,
                db: str | None) -> None:
    """Add a patient."""
    from hpgsim.patients.records import PatientInfo, birth_date_from_age

    if age is not None and birth_date is not None:
        raise InputError("--age", age, "give the age or the birth date, not both",
                         "drop one of them")
    born = (parse_datetime(birth_date, "--birth-date").date() if birth_date else
            birth_date_from_age(age, datetime.now(UTC).date()) if age is not None else None)
    info = PatientInfo(patient_id, born, age is not None, weight, bmi, ancestry, condition,
                       testis_volume)
    with _store(db) as store:
        store.add_patient(info)
    click.echo(f"added {patient_id}")


def _describe(info: PatientInfo, today: date) -> str:
    now = datetime(today.year, today.month, today.day, tzinfo=UTC)
    age = info.age_at(now)
    bits = [f"age {age:.0f}{' (estimated)' if info.birth_date_estimated else ''}"
            if age is not None else "age unknown", f"{info.weight_kg:g} kg", info.condition]
    return f"{info.patient_id}: " + ", ".join(bits)


@patient_group.command("list")
@_db_option
def patient_list(db: str | None) -> None:
    """List patients."""
    with _store(db) as store:
        for info in store.patients():
            click.echo(_describe(info, datetime.now(UTC).date()))


@patient_group.command("show")
@click.argument("patient_id")
@_db_option
@_json_option
def patient_show(patient_id: str, db: str | None, as_json: bool) -> None:
    """A patient's covariates, record counts and latest fit."""
    with _store(db) as store:
        info = store.patient(patient_id)
        labs, doses, fit = store.labs(patient_id), store.doses(patient_id), store.latest_fit(
            patient_id)
    intervals = fit[1]["intervals_90"] if fit else None
    if as_json:
        _echo_json({"patient": info.__dict__, "labs": len(labs), "doses": len(doses),
                    "fit_intervals_90": intervals})
        return
    click.echo(_describe(info, datetime.now(UTC).date()))
    click.echo(f"labs: {len(labs)}, doses: {len(doses)}")
    for name, (lo, mid, hi) in (intervals or {}).items():
        click.echo(f"  {name}: {mid:.3g} (90%: {lo:.3g}-{hi:.3g})")


@click.group("labs")
def labs_group() -> None:
    """Lab results: import, list, export."""


def _read_labs(path: Path, patient_id: str, fmt: str) -> tuple[list[LabRecord], list[str]]:
    from hpgsim.patients.csv_io import read_labs, read_text
    from hpgsim.patients.fhir import read_bundle

    text = read_text(path)
    if fmt == "fhir" or (fmt == "auto" and path.suffix.lower() == ".json"):
        return read_bundle(text, patient_id, str(path))
    return read_labs(text, patient_id, str(path))


@labs_group.command("import")
@click.argument("patient_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "fhir"]), default="auto",
              show_default=True, help="auto: .json is a FHIR Bundle, anything else CSV.")
@click.option("--skip-existing", is_flag=True, help="Skip rows identical to stored ones.")
@_db_option
def labs_import(patient_id: str, file: Path, fmt: str, skip_existing: bool,
                db: str | None) -> None:
    """Import lab results (all or nothing)."""
    records, wheres = _read_labs(file, patient_id, fmt)
    with _store(db) as store:
        n = store.import_labs(patient_id, records, wheres, str(file), skip_existing=skip_existing)
    click.echo(f"imported {n} lab results for {patient_id}")


@labs_group.command("list")
@click.argument("patient_id")
@click.option("--units", default="", metavar="A=UNIT,...",
              help="Display unit per analyte, e.g. T=nmol/L,E2=pmol/L (default: as reported).")
@_db_option
def labs_list(patient_id: str, units: str, db: str | None) -> None:
    """List stored lab results (censored values keep their sign)."""
    choice = parse_unit_choices(units)
    with _store(db) as store:
        records = store.labs(patient_id)
    for r in records:
        unit = choice.get(r.analyte, r.unit)
        f = ANALYTES[r.analyte].factor(unit) / ANALYTES[r.analyte].factor(r.unit)
        ref = ("" if r.ref_low is None and r.ref_high is None else
               f"  [{'' if r.ref_low is None else f'{r.ref_low * f:.4g}'}-"
               f"{'' if r.ref_high is None else f'{r.ref_high * f:.4g}'}]")
        click.echo(f"{format_datetime(r.taken_at)}  {ANALYTES[r.analyte].label:<20} "
                   f"{r.censor}{r.value * f:.4g} {unit}{ref}")


@labs_group.command("export")
@click.argument("patient_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "fhir"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@_db_option
def labs_export(patient_id: str, fmt: str, out: Path | None, db: str | None) -> None:
    """Export lab results as reported (CSV or a FHIR R4 Bundle)."""
    from hpgsim.patients.csv_io import write_labs
    from hpgsim.patients.fhir import write_bundle

    with _store(db) as store:
        records = store.labs(patient_id)
    text = (write_bundle if fmt == "fhir" else write_labs)(records, patient_id)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(records)} results to {out}")


@click.group("doses")
def doses_group() -> None:
    """Dose history: import."""


@doses_group.command("import")
@click.argument("patient_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--start", help="For a protocol file (.yaml): the date of its day 0.")
@click.option("--skip-existing", is_flag=True, help="Skip rows identical to stored ones.")
@_db_option
def doses_import(patient_id: str, file: Path, start: str | None, skip_existing: bool,
                 db: str | None) -> None:
    """Import doses from a CSV file, or a protocol file given with --start."""
    from hpgsim.patients.csv_io import read_doses, read_text
    from hpgsim.patients.records import doses_from_regimen
    from hpgsim.regimen.protocol import load_protocol

    if file.suffix.lower() in (".yaml", ".yml"):
        if start is None:
            raise InputError("--start", None, "a protocol file needs the date of its day 0",
                             "add --start YYYY-MM-DD")
        records = doses_from_regimen(load_protocol(file).regimen,
                                     parse_datetime(start, "--start"))
        wheres = [f"{file} dose {i + 1}" for i in range(len(records))]
    else:
        records, wheres = read_doses(read_text(file), patient_id, str(file))
    with _store(db) as store:
        n = store.import_doses(patient_id, records, wheres, str(file),
                               skip_existing=skip_existing)
    click.echo(f"imported {n} doses for {patient_id}")


def _data(store: Store, patient_id: str) -> PatientData:
    from hpgsim.patients.fit import PatientData

    return PatientData.from_records(store.patient(patient_id), store.labs(patient_id),
                                    store.doses(patient_id))


@click.command("fit")
@click.argument("patient_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for fit.json and the fit figure.")
@click.option("--method", type=click.Choice(["sir", "laplace"]), default="sir",
              show_default=True)
@click.option("--parameters", default="", help="Comma-separated parameters to fit "
              "(default: one per observed analyte).")
@click.option("--plot", "plot_fmt", type=click.Choice(["png", "svg", "none"]), default="png",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_db_option
@_json_option
def fit_command(patient_id: str, out: Path | None, method: str, parameters: str,
                plot_fmt: str, seed: int, db: str | None, as_json: bool) -> None:
    """Fit the patient's parameters to his labs and doses; the fit is stored."""
    from hpgsim.patients.fit import IndividualFit

    names = [n.strip() for n in parameters.split(",") if n.strip()] or None
    with _store(db) as store:
        data = _data(store, patient_id)
        fit = IndividualFit(names, method=method, seed=seed).fit(data).result_
        summary = fit.to_dict()
        fit_id = store.save_fit(patient_id, summary)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fit.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        if plot_fmt != "none":
            from hpgsim.patients.report import write_fit_figure

            write_fit_figure(fit, data, out / f"fit.{plot_fmt}")
    if as_json:
        _echo_json({"fit_id": fit_id, **summary})
        return
    click.echo(f"fit {fit_id} of {patient_id}: {len(fit.times)} labs, {fit.method}, "
               f"{fit.n_runs} model runs, {fit.seconds:.1f} s, ESS {fit.ess:.0f}")
    for name, (lo, mid, hi) in fit.intervals().items():
        click.echo(f"  {name}: {mid:.3g} (90%: {lo:.3g}-{hi:.3g})")
    click.echo(f"  {'day':>9} {'lab':<20} {'observed':>10} {'predicted':>10}  z")
    for t, a, o, c, p, z in zip(fit.times, fit.analytes, fit.observed, fit.censor,
                                fit.predicted, fit.residuals, strict=True):
        click.echo(f"  {t / 24:7.1f} d {ANALYTES[a].label:<20} {c + f'{o:.4g}':>10}"
                   f" {p:10.4g}  {'' if c else f'{z:+.2f}'}")
    for note in fit.notes:
        click.echo(f"note: {note}")


@click.command("plan")
@click.argument("patient_id")
@click.argument("protocols", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--start", help="Protocol start date (default: the day after the last record).")
@click.option("--draws", type=int, default=200, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan.json and the plan figure.")
@click.option("--plot", "plot_fmt", type=click.Choice(["png", "svg", "none"]), default="png",
              show_default=True)
@_db_option
@_json_option
def plan_command(patient_id: str, protocols: tuple[Path, ...], start: str | None, draws: int,
                 seed: int, out: Path | None, plot_fmt: str, db: str | None,
                 as_json: bool) -> None:
    """Forecast candidate protocols (with titration rules) for the fitted patient, ranked."""
    from hpgsim.patients.fit import FitResult
    from hpgsim.patients.forecast import plan
    from hpgsim.patients.titration import load_candidate

    candidates = [load_candidate(p) for p in protocols]
    with _store(db) as store:
        data = _data(store, patient_id)
        latest = store.latest_fit(patient_id)
        if latest is None:
            raise InputError("patient", patient_id, "no fit stored", f"run hpgsim fit {patient_id}")
        fit = FitResult.from_dict(latest[1])
        if fit.t0 != data.t0 or len(fit.times) != len(data.times):
            raise InputError("fit", latest[0], "labs or doses changed since the last fit",
                             f"run hpgsim fit {patient_id} again")
        ranked = plan(fit, data, candidates, n_draws=draws, seed=seed,
                      start=parse_datetime(start, "--start") if start else None)
        results = [f.to_dict() for f in ranked]
        for f, p in zip(ranked, results, strict=True):
            store.save_run(patient_id, f.name, p, latest[0])
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "plan.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        if plot_fmt != "none":
            from hpgsim.patients.report import write_plan_figure

            write_plan_figure(ranked, out / f"plan.{plot_fmt}")
    if as_json:
        _echo_json(results)
        return
    click.echo(f"{'rank':<5}{'protocol':<28}{'P(sperm>=15) 6/12 mo':>22}{'T>=300 (d)':>14}"
               f"{'E2 peak pg/mL':>15}{'next labs':>11}")
    for i, f in enumerate(ranked, 1):
        ps = "/".join("-" if p is None else f"{p:.0%}" for p in (f.p_sperm_6mo, f.p_sperm_12mo))
        t = "-" if f.t_T300_days is None else f"{f.t_T300_days[1]:.0f} ({f.p_T300:.0%})"
        nxt = "-" if f.next_labs_day is None else f"day {f.next_labs_day:.0f}"
        click.echo(f"{i:<5}{f.name[:27]:<28}{ps:>22}{t:>14}{f.e2_peak[1]:>15.0f}{nxt:>11}")
        for rule, share in f.fired.items():
            click.echo(f"     titration: {rule} fired in {share:.0%} of draws")


COMMANDS = (patient_group, labs_group, doses_group, fit_command, plan_command)

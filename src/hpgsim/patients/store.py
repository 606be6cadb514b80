"""The patient store: patients, lab results (long format), dose history, saved protocols, fits
and forecast runs, in any SQLAlchemy database.

Where: ``url`` if given (a SQLAlchemy URL, or a file path meaning SQLite), else
``$HPGSIM_DATABASE_URL``, else SQLite ``patients.sqlite`` in the user's data directory
(platformdirs; ``~/.local/share/hpgsim`` on Linux).

Writes: every public write is one transaction - a batch of labs or doses is validated (plausible
values, dates after birth and not in the future, no duplicate with itself or with what is
stored) and inserted all or nothing. SQLite runs in WAL mode and each transaction starts with
``BEGIN IMMEDIATE``, so two processes importing at once are serialised (the second waits up to
``BUSY_TIMEOUT_S``) and neither loses rows; a unique constraint on (patient, time, analyte)
backs the duplicate check on servers such as PostgreSQL. A process killed mid-import leaves no
trace: the transaction was never committed.

Schema migrations: a one-row ``schema_version`` table and an ordered tuple of migration steps
(``MIGRATIONS[i]`` upgrades version ``i + 1`` to ``i + 2``), applied in one transaction when a
store is opened. A new database is created at the latest version directly. Alembic was not used:
it needs a script directory shipped as package data and a runner invoked at every open, for a
schema of a few tables owned by this one module; the table gives the same guarantees (ordered,
transactional, recorded). Switch to Alembic (stamping the current version as its base) if the
schema starts to change often or servers need downgrades.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from hpgsim.errors import InputError
from hpgsim.patients.labs import LabRecord
from hpgsim.patients.records import DoseRecord, PatientInfo, check_history, check_patient_id

ENV_URL = "HPGSIM_DATABASE_URL"
BUSY_TIMEOUT_S = 60.0  # how long a writer waits for another process's transaction (SQLite)
R = TypeVar("R", LabRecord, DoseRecord)


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class PatientRow(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_date_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    weight_kg: Mapped[float] = mapped_column(Float)
    bmi: Mapped[float | None] = mapped_column(Float)
    ancestry: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(64))
    testis_volume_ml: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ImportRow(Base):
    """One import: what file, when, how many records (provenance of every lab and dose)."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    n_records: Mapped[int] = mapped_column(Integer)


class LabRow(Base):
    __tablename__ = "lab_results"
    __table_args__ = (UniqueConstraint("patient", "taken_at", "analyte"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    analyte: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)  # as reported, in ``unit``
    unit: Mapped[str] = mapped_column(String(32))
    censor: Mapped[str] = mapped_column(String(1))  # "", "<" or ">"
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)
    loinc: Mapped[str | None] = mapped_column(String(16))
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))


class DoseRow(Base):
    __tablename__ = "doses"
    __table_args__ = (UniqueConstraint("patient", "given_at", "drug", "route"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    given_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    drug: Mapped[str] = mapped_column(String(64))
    amount: Mapped[float] = mapped_column(Float)  # in ``unit``
    unit: Mapped[str] = mapped_column(String(8))  # mg or IU
    route: Mapped[str] = mapped_column(String(32))
    formulation: Mapped[str | None] = mapped_column(String(64))
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))


class ProtocolRow(Base):
    __tablename__ = "protocols"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    name: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)  # the protocol file (YAML)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class FitRow(Base):
    __tablename__ = "fits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    result: Mapped[str] = mapped_column(Text)  # JSON (hpgsim.patients.fit.FitResult.to_dict)


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    fit_id: Mapped[int | None] = mapped_column(ForeignKey("fits.id"))
    protocol: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    result: Mapped[str] = mapped_column(Text)  # JSON (forecast summary)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = ()  # [i]: version i+1 -> i+2
LATEST_VERSION = 1 + len(MIGRATIONS)


def default_url() -> str:
    """``$HPGSIM_DATABASE_URL``, else SQLite in the user's data directory."""
    env = os.environ.get(ENV_URL)
    if env:
        return env
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('hpgsim', appauthor=False)) / 'patients.sqlite'}"


def _url(text: str) -> str:
    """A SQLAlchemy URL; text without ``://`` is a SQLite file path."""
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    try:
        make_url(text)
    except ArgumentError:
        raise InputError("database", text, "not a database URL",
                         "give e.g. sqlite:///patients.sqlite or postgresql://host/db") from None
    return text


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # the driver's own BEGIN handling is replaced below
        cur = dbapi.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no lost updates

    return engine


class Store:
    """A connection to the patient database (see the module docstring). Use as a context
    manager or call :meth:`close`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = _url(url) if url else default_url()
        backend = make_url(self.url).get_backend_name()
        try:
            self.engine = (_sqlite_engine(self.url) if backend == "sqlite"
                           else create_engine(self.url))
        except (NoSuchModuleError, ImportError) as err:
            raise InputError("database", self.url, f"no driver for this database ({err})",
                             "install the database's Python driver (e.g. psycopg)") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            if not inspect(conn).has_table(SchemaVersion.__tablename__):
                Base.metadata.create_all(conn)
                conn.execute(insert(SchemaVersion).values(version=LATEST_VERSION))
                return
            version = conn.scalar(select(SchemaVersion.version))
            if version is None or version > LATEST_VERSION:
                raise InputError("database", self.url,
                                 f"schema version {version} is not one this hpgsim knows "
                                 f"(latest {LATEST_VERSION})", "upgrade hpgsim")
            for step in MIGRATIONS[version - 1:]:
                step(conn)
            if version != LATEST_VERSION:
                conn.execute(update(SchemaVersion).values(version=LATEST_VERSION))

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @staticmethod
    def _row(session: Session, patient_id: str) -> PatientRow:
        row = session.scalar(select(PatientRow).where(PatientRow.patient_id == patient_id))
        if row is None:
            raise InputError("patient", patient_id, "no such patient",
                             "add the patient first (hpgsim patient add), or check the id")
        return row

    # --- patients -----------------------------------------------------------------------------

    def add_patient(self, info: PatientInfo) -> None:
        """Store a new patient; an existing id is refused."""
        row = PatientRow(patient_id=info.patient_id, birth_date=info.birth_date,
                         birth_date_estimated=info.birth_date_estimated, weight_kg=info.weight_kg,
                         bmi=info.bmi, ancestry=info.ancestry, condition=info.condition,
                         testis_volume_ml=info.testis_volume_ml, created_at=_now())
        try:
            with self._transaction() as s:
                s.add(row)
        except IntegrityError:
            raise InputError("patient", info.patient_id, "a patient with this id exists",
                             "choose another id, or use the existing patient") from None

    def patient(self, patient_id: str) -> PatientInfo:
        """The stored patient (InputError if unknown)."""
        check_patient_id(patient_id)
        with self._transaction() as s:
            return _info(self._row(s, patient_id))

    def patients(self) -> list[PatientInfo]:
        """Every patient, by id."""
        with self._transaction() as s:
            return [_info(r) for r in s.scalars(select(PatientRow).order_by(PatientRow.patient_id))]

    # --- labs and doses -----------------------------------------------------------------------

    def import_labs(self, patient_id: str, records: Sequence[LabRecord], wheres: Sequence[str],
                    source: str, *, skip_existing: bool = False,
                    now: datetime | None = None) -> int:
        """Validate ``records`` against the patient and what is stored, then insert them all in
        one transaction (see :meth:`_import`). Returns the number inserted."""
        with self._transaction() as s:
            p = self._row(s, patient_id)
            stored = [_lab(r) for r in s.scalars(select(LabRow).where(LabRow.patient == p.id))]
            keep = self._import(s, p, "lab", "analyte", records, wheres,
                                [(r.taken_at, r.analyte) for r in records],
                                [(r.taken_at, r.analyte) for r in stored], set(stored),
                                skip_existing, now, source)
            s.add_all(LabRow(patient=p.id, taken_at=_naive(r.taken_at), analyte=r.analyte,
                             value=r.value, unit=r.unit, censor=r.censor, ref_low=r.ref_low,
                             ref_high=r.ref_high, loinc=r.loinc, import_id=imp)
                      for r, imp in keep)
            self._flush(s, source)
        return len(keep)

    def labs(self, patient_id: str) -> list[LabRecord]:
        """The patient's lab results by time, then analyte."""
        with self._transaction() as s:
            p = self._row(s, patient_id)
            rows = s.scalars(select(LabRow).where(LabRow.patient == p.id)
                             .order_by(LabRow.taken_at, LabRow.analyte))
            return [_lab(r) for r in rows]

    def import_doses(self, patient_id: str, records: Sequence[DoseRecord], wheres: Sequence[str],
                     source: str, *, skip_existing: bool = False,
                     now: datetime | None = None) -> int:
        """Validate and insert doses in one transaction (see :meth:`_import`; a duplicate is the
        same drug and route at the same time). Returns the number inserted."""
        with self._transaction() as s:
            p = self._row(s, patient_id)
            stored = [_dose(r) for r in s.scalars(select(DoseRow).where(DoseRow.patient == p.id))]
            keep = self._import(s, p, "dose", "drug and route", records, wheres,
                                [(d.given_at, d.drug, d.route) for d in records],
                                [(d.given_at, d.drug, d.route) for d in stored], set(stored),
                                skip_existing, now, source)
            s.add_all(DoseRow(patient=p.id, given_at=_naive(d.given_at), drug=d.drug,
                              amount=d.amount, unit=d.unit, route=d.route,
                              formulation=d.formulation, import_id=imp) for d, imp in keep)
            self._flush(s, source)
        return len(keep)

    @staticmethod
    def _import(s: Session, p: PatientRow, what: str, same: str, records: Sequence[R],
                wheres: Sequence[str], keys: Sequence[tuple[Any, ...]],
                stored_keys: Sequence[tuple[Any, ...]],
                known: set[R], skip_existing: bool, now: datetime | None,
                source: str) -> list[tuple[R, int]]:
        """The shared part of an import, inside the caller's transaction: ``skip_existing``
        drops records identical to stored ones (a re-import; a record that differs from a stored
        one with the same key is still refused), :func:`check_history` refuses bad dates and
        duplicates, and an ``imports`` row records the source. Returns (record, import id)."""
        rows = [(r, k, w) for r, k, w in zip(records, keys, wheres, strict=True)
                if not (skip_existing and r in known)]
        check_history([k[0] for _, k, _ in rows], [k for _, k, _ in rows],
                      [w for _, _, w in rows], what=what, same=same, patient=_info(p),
                      now=now or datetime.now(UTC), stored=stored_keys)
        imp = ImportRow(patient=p.id, kind=what, source=source, created_at=_now(),
                        n_records=len(rows))
        s.add(imp)
        s.flush()
        return [(r, imp.id) for r, _, _ in rows]

    @staticmethod
    def _flush(s: Session, source: str) -> None:
        try:
            s.flush()
        except IntegrityError:  # a concurrent writer on a server database got there first
            raise InputError("import", source, "rows were stored concurrently by another import",
                             "run the import again (with --skip-existing)") from None

    def doses(self, patient_id: str) -> list[DoseRecord]:
        """The patient's dose history by time."""
        with self._transaction() as s:
            p = self._row(s, patient_id)
            rows = s.scalars(select(DoseRow).where(DoseRow.patient == p.id)
                             .order_by(DoseRow.given_at, DoseRow.drug))
            return [_dose(r) for r in rows]

    # --- protocols, fits, runs ----------------------------------------------------------------

    def save_protocol(self, name: str, text: str, patient_id: str | None = None) -> int:
        """Keep a protocol file's text (optionally for one patient); returns its id."""
        with self._transaction() as s:
            owner = self._row(s, patient_id).id if patient_id is not None else None
            row = ProtocolRow(patient=owner, name=name, text=text, created_at=_now())
            s.add(row)
            s.flush()
            return row.id

    def save_fit(self, patient_id: str, result: dict[str, Any]) -> int:
        """Keep a fit (a JSON-able dict); returns its id."""
        with self._transaction() as s:
            row = FitRow(patient=self._row(s, patient_id).id, created_at=_now(),
                         result=json.dumps(result))
            s.add(row)
            s.flush()
            return row.id

    def latest_fit(self, patient_id: str) -> tuple[int, dict[str, Any]] | None:
        """The most recent fit of the patient as (id, dict), or None."""
        with self._transaction() as s:
            p = self._row(s, patient_id)
            row = s.scalar(select(FitRow).where(FitRow.patient == p.id)
                           .order_by(FitRow.id.desc()).limit(1))
            return None if row is None else (row.id, json.loads(row.result))

    def save_run(self, patient_id: str, protocol: str, result: dict[str, Any],
                 fit_id: int | None = None) -> int:
        """Keep a forecast run (a JSON-able dict); returns its id."""
        with self._transaction() as s:
            row = RunRow(patient=self._row(s, patient_id).id, fit_id=fit_id, protocol=protocol,
                         created_at=_now(), result=json.dumps(result))
            s.add(row)
            s.flush()
            return row.id


def _info(r: PatientRow) -> PatientInfo:
    return PatientInfo(r.patient_id, r.birth_date, r.birth_date_estimated, r.weight_kg, r.bmi,
                       r.ancestry, r.condition, r.testis_volume_ml)


def _lab(r: LabRow) -> LabRecord:
    return LabRecord(_aware(r.taken_at), r.analyte, r.value, r.unit, r.censor, r.ref_low,
                     r.ref_high, r.loinc)


def _dose(r: DoseRow) -> DoseRecord:
    return DoseRecord(_aware(r.given_at), r.drug, r.amount, r.unit, r.route, r.formulation)

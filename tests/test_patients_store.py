"""The patient store: transactional imports, concurrent writers, a killed importer, schema
versions."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from hpgsim.errors import InputError
from hpgsim.patients import store as store_module
from hpgsim.patients.csv_io import read_labs
from hpgsim.patients.records import PatientInfo
from hpgsim.patients.store import Store


def labs_csv(n: int, start: datetime, analyte: str = "T") -> str:
    rows = [f"{(start + timedelta(days=i)).isoformat()},{analyte},{400 + i},ng/dL"
            for i in range(n)]
    return "date,analyte,value,unit\n" + "\n".join(rows) + "\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    with Store(url) as s:
        s.add_patient(PatientInfo("P-1", date(1990, 1, 1), weight_kg=82))
    return url


def test_patients_and_labs_persist(db: str) -> None:
    with Store(db) as s:
        with pytest.raises(InputError, match="exists"):
            s.add_patient(PatientInfo("P-1"))
        assert [p.patient_id for p in s.patients()] == ["P-1"]
        assert s.patient("P-1").weight_kg == 82
        records, wheres = read_labs(labs_csv(3, datetime(2024, 1, 1, tzinfo=UTC)), "P-1")
        assert s.import_labs("P-1", records, wheres, "a.csv") == 3
    with Store(db) as s:
        assert s.labs("P-1") == records
        with pytest.raises(InputError, match="no such patient"):
            s.labs("P-2")


def test_bad_row_imports_nothing(db: str) -> None:
    text = labs_csv(5, datetime(2024, 1, 1, tzinfo=UTC)) + "2024-03-01,T,-1,ng/dL\n"
    with pytest.raises(InputError) as err:
        read_labs(text, "P-1")
    assert err.value.field == "line 7.value"
    records, wheres = read_labs(labs_csv(5, datetime(2024, 1, 1, tzinfo=UTC)), "P-1")
    bad = [*records[:4], replace(records[4], taken_at=datetime(2099, 1, 1, tzinfo=UTC))]
    with Store(db) as s:
        with pytest.raises(InputError, match="future") as err:
            s.import_labs("P-1", bad, wheres, "b.csv")
        assert err.value.field == "line 6.date"
        assert s.labs("P-1") == []


def test_duplicates_with_stored_rows_and_skip_existing(db: str) -> None:
    records, wheres = read_labs(labs_csv(3, datetime(2024, 1, 1, tzinfo=UTC)), "P-1")
    with Store(db) as s:
        s.import_labs("P-1", records, wheres, "a.csv")
        with pytest.raises(InputError, match=r"duplicate lab.*the database") as err:
            s.import_labs("P-1", records, wheres, "a.csv")
        assert err.value.field == "line 2.date"
        more, more_wheres = read_labs(labs_csv(4, datetime(2024, 1, 1, tzinfo=UTC)), "P-1")
        assert s.import_labs("P-1", more, more_wheres, "a2.csv", skip_existing=True) == 1
        assert len(s.labs("P-1")) == 4


def test_before_birth_is_refused(db: str) -> None:
    records, wheres = read_labs(labs_csv(1, datetime(1985, 1, 1, tzinfo=UTC)), "P-1")
    with Store(db) as s, pytest.raises(InputError, match="before the patient's birth"):
        s.import_labs("P-1", records, wheres, "old.csv")


def _import_script(db: str, path: Path) -> str:
    return textwrap.dedent(f"""
        import sys
        from hpgsim.patients.csv_io import read_labs
        from hpgsim.patients.store import Store
        records, wheres = read_labs(open({str(path)!r}).read(), "P-1")
        with Store({db!r}) as s:
            s.import_labs("P-1", records, wheres, {str(path)!r})
    """)


def test_two_processes_importing_at_once_lose_nothing(db: str, tmp_path: Path) -> None:
    procs = []
    for k, analyte in enumerate(("T", "E2")):
        path = tmp_path / f"{k}.csv"
        text = labs_csv(300, datetime(2020, 1, 1, tzinfo=UTC), analyte)
        path.write_text(text.replace("ng/dL", "pg/mL") if analyte == "E2" else text)
        procs.append(subprocess.Popen([sys.executable, "-c", _import_script(db, path)],
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with Store(db) as s:
        assert len(s.labs("P-1")) == 600


def test_killed_import_leaves_the_database_as_it_was(db: str, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(labs_csv(2000, datetime(2010, 1, 1, tzinfo=UTC)))
    ready = tmp_path / "ready"
    hang = textwrap.dedent(f"""
        import pathlib, time
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        @event.listens_for(Session, "after_flush")
        def stop(session, ctx):
            if len(session.new) > 1000:  # the lab rows are being flushed, not committed
                pathlib.Path({str(ready)!r}).write_text("flushed")
                time.sleep(600)
    """) + _import_script(db, path)
    before = sqlite3.connect(db.removeprefix("sqlite:///")).execute(
        "select count(*) from lab_results").fetchone()[0]
    proc = subprocess.Popen([sys.executable, "-c", hang])
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert proc.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db.removeprefix("sqlite:///"))
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert con.execute("select count(*) from lab_results").fetchone()[0] == before
    assert con.execute("select count(*) from imports").fetchone()[0] == 0
    con.close()
    with Store(db) as s:  # and the store still works
        records, wheres = read_labs(labs_csv(2, datetime(2024, 1, 1, tzinfo=UTC)), "P-1")
        assert s.import_labs("P-1", records, wheres, "after.csv") == 2


def test_schema_migrations_run_once_in_order(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import Connection

    calls: list[int] = []

    def step(conn: Connection) -> None:
        conn.exec_driver_sql("ALTER TABLE patients ADD COLUMN note TEXT")
        calls.append(2)

    monkeypatch.setattr(store_module, "MIGRATIONS", (step,))
    monkeypatch.setattr(store_module, "LATEST_VERSION", 2)
    Store(db).close()
    Store(db).close()
    assert calls == [2]
    con = sqlite3.connect(db.removeprefix("sqlite:///"))
    assert con.execute("select version from schema_version").fetchone()[0] == 2
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    con.close()
    monkeypatch.setattr(store_module, "LATEST_VERSION", 1)
    with pytest.raises(InputError, match="schema version 2"):
        Store(db)


def test_url_from_environment_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPGSIM_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    with Store() as s:
        assert s.url.endswith("env.sqlite")
    with Store(str(tmp_path / "plain.sqlite")) as s:
        assert s.url == f"sqlite:///{tmp_path / 'plain.sqlite'}"
    with pytest.raises(InputError, match="no driver"):
        Store("nosuchdriver+x://")

"""CSV files of lab results and doses (UTF-8, comma-separated, one header row).

Lab columns (order free; ``*`` required):

- ``date`` *: sample time, ISO 8601 (``2024-03-01`` or ``2024-03-01T08:30:00+01:00``); no zone
  means UTC.
- ``analyte`` *: ``total_testosterone`` (``T``), ``free_testosterone`` (``free_T``), ``lh``,
  ``fsh``, ``estradiol`` (``E2``), ``shbg``, ``inhibin_b``, ``sperm_concentration``
  (``sperm``), ...
- ``value`` *: the number as reported; ``<0.5`` below the limit of detection, ``>1500`` above
  the reporting limit.
- ``unit`` *: per row, US or SI: ``ng/dL`` or ``nmol/L``, ``pg/mL`` or ``pmol/L``, ``IU/L`` =
  ``mIU/mL``, ``million/mL`` (UCUM codes such as ``10*6/mL`` accepted).
- ``ref_low``, ``ref_high``: the lab's reference interval, in the row's unit.
- ``loinc``: the LOINC code, checked against analyte and unit (filled in on export where one
  exists).
- ``patient``: if given, must be the patient the file is imported for.

Dose columns: ``date`` *, ``drug`` * (catalog name or alias), ``dose`` * (``150 mg``,
``1500 IU``), ``route`` (default: the drug's usual route), ``formulation``, ``patient``.

Errors name the file line (``line 7.unit``); a file is read whole before anything is stored.
Export writes what was reported (value, unit, censoring), so export then import gives the same
records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from hpgsim.errors import InputError
from hpgsim.patients.labs import (
    LabRecord,
    format_datetime,
    format_value,
    make_lab,
    parse_datetime,
)
from hpgsim.patients.records import DoseRecord, make_dose

LAB_COLUMNS = ("patient", "date", "analyte", "value", "unit", "ref_low", "ref_high", "loinc")
LAB_REQUIRED = ("date", "analyte", "value", "unit")
DOSE_COLUMNS = ("patient", "date", "drug", "dose", "route", "formulation")
DOSE_REQUIRED = ("date", "drug", "dose")


def _rows(text: str, columns: Sequence[str], required: Sequence[str], source: str,
          patient_id: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(``line N``, row) for each data row, after checking the header and the patient column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or ()]
    if not header:
        raise InputError(source, "", "the file is empty",
                         f"start with a header: {','.join(columns)}")
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        bad = unknown[0] if unknown else missing[0]
        raise InputError(f"{source} header", bad,
                         "unknown column" if unknown else "required column missing",
                         f"columns are {', '.join(columns)} ({', '.join(required)} required)")
    reader.fieldnames = header
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row:
            raise InputError(where, row[None], "more cells than header columns",
                             "quote cells that contain commas")
        cells = {k: (v or "").strip() for k, v in row.items()}
        for c in required:
            if not cells[c]:
                raise InputError(f"{where}.{c}", "", "required cell is empty", f"give the {c}")
        if cells.get("patient") and cells["patient"] != patient_id:
            raise InputError(f"{where}.patient", cells["patient"],
                             f"row belongs to another patient than {patient_id}",
                             "import each patient's rows separately")
        yield where, cells


def _number(cells: dict[str, str], key: str, where: str) -> float | None:
    text = cells.get(key, "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{where}.{key}", text, "not a number",
                         "give a number or leave empty") from None


def read_labs(text: str, patient_id: str, source: str = "csv") -> tuple[list[LabRecord], list[str]]:
    """Parse and validate lab rows; returns the records and where each came from."""
    records, wheres = [], []
    for where, c in _rows(text, LAB_COLUMNS, LAB_REQUIRED, source, patient_id):
        records.append(make_lab(
            taken_at=parse_datetime(c["date"], f"{where}.date"), analyte_name=c["analyte"],
            value=c["value"], unit=c["unit"], ref_low=_number(c, "ref_low", where),
            ref_high=_number(c, "ref_high", where), loinc=c.get("loinc") or None, where=where))
        wheres.append(where)
    return records, wheres


def read_doses(text: str, patient_id: str,
               source: str = "csv") -> tuple[list[DoseRecord], list[str]]:
    """Parse and validate dose rows; returns the records and where each came from."""
    records, wheres = [], []
    for where, c in _rows(text, DOSE_COLUMNS, DOSE_REQUIRED, source, patient_id):
        records.append(make_dose(given_at=parse_datetime(c["date"], f"{where}.date"),
                                 drug=c["drug"], dose=c["dose"], route=c.get("route"),
                                 formulation=c.get("formulation"), where=where))
        wheres.append(where)
    return records, wheres


def read_text(path: Path) -> str:
    """A UTF-8 file's text (a BOM is dropped); unreadable files are an InputError."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file", str(path), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("file", str(path), f"cannot read the file ({err})",
                         "give a readable UTF-8 file") from None


def _opt(x: float | None) -> str:
    return "" if x is None else format_value(x, "")


def write_labs(records: Sequence[LabRecord], patient_id: str) -> str:
    """Lab rows as CSV text (values, units and censoring as reported)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(LAB_COLUMNS)
    for r in records:
        w.writerow([patient_id, format_datetime(r.taken_at), r.analyte, r.display_value, r.unit,
                    _opt(r.ref_low), _opt(r.ref_high), r.loinc or ""])
    return out.getvalue()


def write_doses(records: Sequence[DoseRecord], patient_id: str) -> str:
    """Dose rows as CSV text."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(DOSE_COLUMNS)
    for d in records:
        w.writerow([patient_id, format_datetime(d.given_at), d.drug,
                    f"{format_value(d.amount, '')} {d.unit}", d.route, d.formulation or ""])
    return out.getvalue()

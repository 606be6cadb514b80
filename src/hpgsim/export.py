"""Tables of a simulated course: CSV and Parquet, with the unit in every column name.

Columns: ``time_h``, ``time_d``, one column per observable named ``<analyte>_<unit>`` (e.g.
``total_testosterone_ng_dL``, or ``total_testosterone_nmol_L`` when the user picks nmol/L), and
one per drug species ``drug_<species>_<unit>`` (e.g. ``drug_hcg_IU_L``). Values are never written
in an internal unit without that unit in the column name; Parquet also carries each column's unit
in its field metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpgsim.errors import InputError
from hpgsim.result import DISCLAIMER, FloatArray, Result
from hpgsim.units import analyte

CSV_FORMAT = "%.10g"  # 10 significant digits, far finer than any assay


def slug(text: str) -> str:
    """Text as written in a column or file name: ``"ng/dL"`` -> ``"ng_dL"``, ``"µg"`` -> ``"ug"``.
    """
    text = text.replace("µ", "u").replace("μ", "u").replace("%", "pct")
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")


def resolve_units(units: Mapping[str, str] | None) -> dict[str, str]:
    """Validate display-unit choices; keys may be aliases (``T``, ``E2``). Canonical keys out."""
    out: dict[str, str] = {}
    for name, unit in (units or {}).items():
        a = analyte(name, "units")
        a.factor(unit)
        out[a.name] = next(u for u in a.units if u.lower() == unit.lower())
    return out


@dataclass(frozen=True)
class Column:
    """One exported column: name (unit included), unit, LOINC code where it applies, values."""

    name: str
    unit: str
    loinc: str | None
    values: FloatArray


def columns(result: Result, units: Mapping[str, str] | None = None) -> list[Column]:
    """The columns of the table, in order.

    Observables are in ``units`` (analyte or alias -> unit) or else their canonical unit. The
    LOINC code is attached only in the canonical unit, the one the code in ``ANALYTES`` is for.
    """
    chosen = resolve_units(units)
    cols = [Column("time_h", "h", None, result.times), Column("time_d", "d", None, result.days)]
    for name in result.observable_names:
        a = analyte(name)
        unit = chosen.get(name, a.unit)
        cols.append(Column(f"{name}_{slug(unit)}", unit,
                           a.loinc if unit == a.unit else None, result.get(name, unit)))
    for species, values in result.drugs.items():
        unit = result.drug_units[species]
        cols.append(Column(f"drug_{species}_{slug(unit)}", unit, None, values))
    return cols


def to_table(result: Result, units: Mapping[str, str] | None = None) -> dict[str, FloatArray]:
    """The course as named columns (see the module docstring for names and units)."""
    return {c.name: c.values for c in columns(result, units)}


def write_csv(result: Result, path: str | Path, units: Mapping[str, str] | None = None) -> Path:
    """Write the table as CSV (one header row of unit-bearing column names). Returns the path."""
    table = to_table(result, units)
    out = Path(path)
    np.savetxt(out, np.column_stack(list(table.values())), fmt=CSV_FORMAT, delimiter=",",
               header=",".join(table), comments="")
    return out


def pyarrow_modules() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``, imported on first use; an InputError naming the extra
    when pyarrow is missing."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("format", "parquet", "pyarrow is not installed",
                         'install it with python3 -m pip install "hpgsim[parquet]", or write CSV'
                         ) from None
    return pa, pq


def write_parquet(result: Result, path: str | Path, units: Mapping[str, str] | None = None) -> Path:
    """Write the table as Parquet; field metadata holds each column's ``unit`` (and ``loinc``).

    Needs pyarrow (``pip install "hpgsim[parquet]"``). Returns the path.
    """
    pa, pq = pyarrow_modules()
    cols = columns(result, units)
    schema = pa.schema(
        [pa.field(c.name, pa.float64(),
                  metadata={"unit": c.unit} | ({"loinc": c.loinc} if c.loinc else {}))
         for c in cols],
        metadata={"hpgsim.units": json.dumps({c.name: c.unit for c in cols}),
                  "hpgsim.regimen": result.regimen.name,
                  "hpgsim.disclaimer": DISCLAIMER},
    )
    out = Path(path)
    pq.write_table(pa.Table.from_arrays([pa.array(c.values) for c in cols], schema=schema), out)
    return out

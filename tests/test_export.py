"""CSV/Parquet export: unit-bearing column names, unit conversion, round trips."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from hpgsim import InputError, Regimen, Result, Subject
from hpgsim.export import columns, slug, to_table, write_csv, write_parquet
from hpgsim.units import ANALYTES, T_NG_DL_PER_NMOL_L

HOURS = np.array([0.0, 1.0, 24.0, 168.0, 500.5])


def make_result(times: np.ndarray = HOURS, regimen: Regimen | None = None,
                drugs: Mapping[str, tuple[np.ndarray, str]] | None = None,
                warnings: tuple[str, ...] = (), **observables: np.ndarray) -> Result:
    """A hand-made Result: every analyte constant at 10 (canonical unit) unless given."""
    obs = {name: np.full(times.size, 10.0) for name in ANALYTES}
    obs.update({k: np.asarray(v, dtype=float) for k, v in observables.items()})
    drugs = drugs or {}
    return Result(times=np.asarray(times, dtype=float), observables=obs,
                  baseline={k: float(v[0]) for k, v in obs.items()},
                  drugs={k: v for k, (v, _) in drugs.items()},
                  drug_units={k: u for k, (_, u) in drugs.items()},
                  states=np.zeros((1, times.size)), state_names=("x",), subject=Subject(),
                  regimen=regimen or Regimen(lines=()), warnings=warnings)


T = np.array([300.0, 450.0, 600.0, 288.4, 1000.0])  # ng/dL
E2 = np.array([20.0, 25.0, 30.0, 35.0, 40.0])  # pg/mL
HCG = np.array([0.0, 5.0, 12.0, 3.0, 0.5])  # IU/L


@pytest.fixture
def result() -> Result:
    return make_result(total_testosterone=T, estradiol=E2, drugs={"hcg": (HCG, "IU/L")})


def test_slug() -> None:
    assert slug("ng/dL") == "ng_dL"
    assert slug("µg/L") == "ug_L"
    assert slug("million/mL") == "million_mL"


def test_column_names_carry_canonical_units(result: Result) -> None:
    table = to_table(result)
    assert list(table)[:2] == ["time_h", "time_d"]
    assert "total_testosterone_ng_dL" in table
    assert "estradiol_pg_mL" in table
    assert "lh_IU_L" in table
    assert "sperm_concentration_million_mL" in table
    assert "drug_hcg_IU_L" in table
    np.testing.assert_allclose(table["time_d"], HOURS / 24.0)
    np.testing.assert_array_equal(table["total_testosterone_ng_dL"], T)
    # every column but time names its unit: one column per observable and drug
    assert len(table) == 2 + len(ANALYTES) + 1


def test_units_convert_and_rename_columns(result: Result) -> None:
    table = to_table(result, {"T": "nmol/L", "E2": "pmol/L"})
    assert "total_testosterone_ng_dL" not in table
    np.testing.assert_allclose(table["total_testosterone_nmol_L"], T / T_NG_DL_PER_NMOL_L)
    np.testing.assert_allclose(table["total_testosterone_nmol_L"][3], 10.0)
    np.testing.assert_allclose(table["estradiol_pmol_L"], E2 * 3.6713)


def test_bad_unit_names_the_analyte(result: Result) -> None:
    with pytest.raises(InputError, match="estradiol") as err:
        to_table(result, {"E2": "ng/dL"})
    assert "pmol/L" in str(err.value)  # the fix lists the valid units


def test_unknown_analyte_in_units(result: Result) -> None:
    with pytest.raises(InputError, match="unknown analyte"):
        to_table(result, {"cortisol": "ug/dL"})


def test_csv_round_trip_with_converted_units(result: Result, tmp_path: Path) -> None:
    path = write_csv(result, tmp_path / "ts.csv", {"T": "nmol/L"})
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], np.array(rows[1:], dtype=float)
    assert header == list(to_table(result, {"T": "nmol/L"}))
    assert data.shape == (HOURS.size, len(header))
    col = dict(zip(header, data.T, strict=True))
    np.testing.assert_allclose(col["time_h"], HOURS, rtol=1e-9)
    np.testing.assert_allclose(col["total_testosterone_nmol_L"], T / 28.84, rtol=1e-9)
    np.testing.assert_allclose(col["drug_hcg_IU_L"], HCG, rtol=1e-9)


def test_parquet_round_trip_with_unit_metadata(result: Result, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = write_parquet(result, tmp_path / "ts.parquet", {"T": "nmol/L"})
    table = pq.read_table(path)
    np.testing.assert_allclose(table.column("total_testosterone_nmol_L").to_numpy(),
                               T / T_NG_DL_PER_NMOL_L)
    field = table.schema.field("total_testosterone_nmol_L")
    assert field.metadata[b"unit"] == b"nmol/L"
    assert b"loinc" not in field.metadata  # 2986-8 is the mass code; not for nmol/L
    assert table.schema.field("lh_IU_L").metadata == {b"unit": b"IU/L", b"loinc": b"10501-5"}
    assert table.schema.field("drug_hcg_IU_L").metadata[b"unit"] == b"IU/L"
    units = json.loads(table.schema.metadata[b"hpgsim.units"])
    assert units == {c.name: c.unit for c in columns(result, {"T": "nmol/L"})}
    assert b"not medical advice" in table.schema.metadata[b"hpgsim.disclaimer"]

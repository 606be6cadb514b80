"""The ``hpgsim`` command: one-line errors with exit status 2, warnings, files and output."""

from __future__ import annotations

import csv
import json
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hpgsim import DISCLAIMER
from hpgsim.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "post_trt_recovery.yaml"
SHORT = "TC 150 mg q7d x 4w; then observe 4w"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(res: Result, *fragments: str) -> None:
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in res.output
    assert res.stdout == ""


def test_version() -> None:
    res = run("--version")
    assert res.exit_code == 0
    assert version("hpgsim") in res.stdout


def test_missing_protocol_file(tmp_path: Path) -> None:
    assert_one_line_error(run("simulate", str(tmp_path / "nope.yaml")), "file not found",
                          "nope.yaml")


def test_unknown_drug_in_text() -> None:
    assert_one_line_error(run("simulate", "--text", "unobtainium 100 mg q7d x 4w"),
                          "unknown drug", "unobtainium")


def test_unknown_drug_in_protocol(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: bad\nphases:\n  - name: A\n    duration: 4 w\n    drugs:\n"
                    "      - {drug: unobtainium, dose: 100 mg, every: 7 d}\n")
    assert_one_line_error(run("simulate", str(path)), "unknown drug", "unobtainium")


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: [unclosed\n")
    assert_one_line_error(run("simulate", str(path)), "YAML")


def test_bad_unit_names_the_analyte() -> None:
    assert_one_line_error(run("simulate", str(EXAMPLE), "--units", "T=nmol/L,E2=ng/dL"),
                          "estradiol", "ng/dL")


def test_bad_units_syntax() -> None:
    assert_one_line_error(run("simulate", str(EXAMPLE), "--units", "T"), "ANALYTE=UNIT")


def test_unknown_observable() -> None:
    assert_one_line_error(run("simulate", str(EXAMPLE), "--observables", "T,cortisol"),
                          "unknown analyte", "cortisol")


def test_protocol_and_text_exclude_each_other() -> None:
    assert_one_line_error(run("simulate", str(EXAMPLE), "--text", SHORT), "exactly one")
    assert_one_line_error(run("simulate"), "exactly one")


def test_compare_needs_two() -> None:
    assert_one_line_error(run("compare", str(EXAMPLE)), "at least two")


# --- end to end: these simulate ------------------------------------------------------------------

def test_simulate_text_writes_files_in_chosen_units(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run("simulate", "--text", SHORT, "--out", str(out), "--units", "T=nmol/L",
              "--format", "both", "--plot", "svg")
    assert res.exit_code == 0, res.output
    assert DISCLAIMER in res.stdout
    assert "Total T >= 10.4 nmol/L" in res.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {"timeseries.csv", "timeseries.parquet", "summary.txt", "summary.json",
                     "plot.svg"}
    for name in names:
        assert str(out / name) in res.stdout
    with (out / "timeseries.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    assert "total_testosterone_nmol_L" in header
    assert "total_testosterone_ng_dL" not in header
    assert "drug_testosterone_ng_dL" in header
    assert (out / "summary.txt").read_text().rstrip().endswith(DISCLAIMER)
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert summary["units"]["total_testosterone"] == "nmol/L"
    assert summary["schema"] == "hpgsim-summary/1"
    assert "(nmol/L)" in (out / "plot.svg").read_text()


def test_simulate_example_json() -> None:
    res = run("simulate", str(EXAMPLE), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["files"] == []
    summary = data["summary"]
    assert summary["name"] == "Post-TRT recovery"
    assert summary["disclaimer"] == DISCLAIMER
    assert [p["name"] for p in summary["phases"]] == ["TRT", "Recovery", "follow-up"]
    clock = summary["recovery_clock"]
    assert clock["drug"] == "testosterone_cypionate"
    assert {m["analyte"] for m in clock["marks"]} == {"total_testosterone", "lh",
                                                      "sperm_concentration"}


def test_dose_warning_is_printed_and_the_run_goes_on() -> None:
    res = run("simulate", "--text", "TE 1000 mg q7d x 4w")
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: ")]
    assert warnings, res.stderr
    assert "Traceback" not in res.output
    assert DISCLAIMER in res.stdout


def test_compare(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = run("compare", "--text", SHORT, "--text", "TC 100 mg q7d x 4w; then observe 4w",
              "--out", str(out))
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[0]
    assert SHORT in header
    assert "TC 100 mg" in header
    assert "Total T >= 300 ng/dL" in res.stdout
    assert DISCLAIMER in res.stdout
    csvs = sorted(p.name for p in out.glob("*.csv"))
    assert csvs == ["1_TC_150_mg_q7d_x_4w_then_observe_4w.csv",
                    "2_TC_100_mg_q7d_x_4w_then_observe_4w.csv"]
    assert (out / "plot.png").read_bytes().startswith(b"\x89PNG")
    assert len(json.loads((out / "summary.json").read_text())["protocols"]) == 2


@pytest.mark.parametrize("as_json", [False, True])
def test_drugs(as_json: bool) -> None:
    res = run("drugs", *(["--json"] if as_json else []))
    assert res.exit_code == 0, res.output
    if as_json:
        rows = json.loads(res.stdout)
        assert isinstance(rows, list)
        assert len(rows) >= 6
        assert any("testosterone_cypionate" in json.dumps(r) for r in rows)
    else:
        assert "testosterone_cypionate" in res.stdout
        assert "gonadorelin" in res.stdout


def test_params_lists_every_parameter_with_its_source() -> None:
    from hpgsim.physiology import parameter_tables

    out = CliRunner().invoke(main, ["params", "--json"])
    assert out.exit_code == 0
    tables = json.loads(out.output)
    names = {row["name"] for rows in tables.values() for row in rows}
    expected = {name for t in parameter_tables() for name in t}
    assert names == expected
    assert all(row["source"] and row["unit"] for rows in tables.values() for row in rows)

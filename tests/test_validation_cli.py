"""The ``validate`` command: table, JSON, report, filters and exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import hpgsim as hs
from hpgsim.validation.cli import validate_command

TARGETS = {
    "schema": "hpgsim-validation/1",
    "targets": [
        {"id": "BASE-LH", "title": "Baseline LH", "source": "made up", "subject": {},
         "cohort": None, "regimen": [],
         "measure": {"quantity": "lh", "unit": "IU/L", "statistic": "value", "at": "0 d"},
         "expected": {"value": 5.0, "low": 1.0, "high": 10.0}},
        {"id": "BASE-T", "subject": {}, "cohort": None, "regimen": [],
         "measure": {"quantity": "total_testosterone", "unit": "nmol/L", "statistic": "value",
                     "at": "0 d"},
         "expected": {"value": 1.0, "low": 0.5, "high": 2.0}, "notes": "deliberately missed"},
        {"id": "BAD-DRUG", "subject": {}, "cohort": None,
         "regimen": [{"drug": "unobtainium", "dose": "1 mg", "start": "0 d"}],
         "measure": {"quantity": "lh", "unit": "IU/L", "statistic": "value", "at": "1 d"},
         "expected": {"value": 5.0, "low": 1.0, "high": 10.0}},
    ],
}


@pytest.fixture
def targets_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(TARGETS, sort_keys=False), encoding="utf-8")
    return path


def test_table_lists_every_target_and_the_pass_count(targets_file: Path) -> None:
    result = CliRunner().invoke(validate_command, ["--targets", str(targets_file)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "simulated", "expected", "[low,", "high]", "unit", "result"]
    assert lines[1].startswith("BASE-LH")
    assert lines[1].endswith("pass")
    assert lines[2].startswith("BASE-T")
    assert lines[2].endswith("MISS")
    assert lines[3].startswith("BAD-DRUG")
    assert lines[3].endswith("error")
    assert any("BAD-DRUG: regimen[0].drug: unknown drug" in line for line in lines)
    assert lines[-1] == "1 of 3 targets passed (1 with errors)"


def test_json_is_exactly_the_result_object(targets_file: Path) -> None:
    result = CliRunner().invoke(validate_command, ["--targets", str(targets_file), "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert set(out) == {"schema", "results"}
    assert out["schema"] == "hpgsim-validation-result/1"
    assert [r["id"] for r in out["results"]] == ["BASE-LH", "BASE-T", "BAD-DRUG"]
    assert [r["passed"] for r in out["results"]] == [True, False, False]
    base = hs.simulate(hs.Subject(), hs.Regimen((), span=1.0)).baseline
    assert out["results"][0]["simulated"] == pytest.approx(base["lh"])
    assert out["results"][1]["simulated"] == pytest.approx(base["total_testosterone"] / 28.84)


def test_only_and_report(targets_file: Path, tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = CliRunner().invoke(validate_command, ["--targets", str(targets_file), "--only",
                                                  "BASE", "--report", str(report), "--json"])
    assert result.exit_code == 0
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == ["BASE-LH", "BASE-T"]
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "Known misses" in page
    assert "deliberately missed" in page
    assert "made up" in page
    misses = page.split("<h2>Known misses</h2>", 1)[1].split("<h2>", 1)[0]
    assert "BASE-T" in misses
    assert "BASE-LH" not in misses
    assert "No known-miss file applies" in page  # a --targets file without --known-misses


def test_known_misses_file_gives_the_cause(targets_file: Path, tmp_path: Path) -> None:
    known = tmp_path / "known.yaml"
    known.write_text("BASE-T: the made-up target asks for a tenth of the real baseline\n",
                     encoding="utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(validate_command, ["--targets", str(targets_file), "--only",
                                                  "BASE-T", "--known-misses", str(known),
                                                  "--report", str(report)])
    assert result.exit_code == 0, result.output
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "the made-up target asks for a tenth of the real baseline" in page
    assert "0 misses not yet explained" in page


def test_a_malformed_known_misses_file_stops_before_simulating(targets_file: Path,
                                                               tmp_path: Path) -> None:
    known = tmp_path / "known.yaml"
    known.write_text("- BASE-T\n", encoding="utf-8")
    result = CliRunner().invoke(validate_command, ["--targets", str(targets_file),
                                                  "--known-misses", str(known)])
    assert result.exit_code != 0
    assert "must be a mapping of target ids to causes" in result.output
    assert "Fix:" in result.output


def test_an_unreadable_file_is_the_only_non_zero_exit(tmp_path: Path) -> None:
    missing = CliRunner().invoke(validate_command, ["--targets", str(tmp_path / "none.yaml")])
    assert missing.exit_code != 0
    assert "cannot read" in missing.output
    garbled = tmp_path / "garbled.yaml"
    garbled.write_text("targets: [", encoding="utf-8")
    assert CliRunner().invoke(validate_command, ["--targets", str(garbled)]).exit_code != 0

"""The validation report (from hand-made results, no simulation) and known-miss files."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from hpgsim.errors import InputError
from hpgsim.params import overridden
from hpgsim.physiology import testis
from hpgsim.result import DISCLAIMER
from hpgsim.validation.known import bundled_known_misses_path, load_known_misses
from hpgsim.validation.report import family, format_table, render_report, write_report
from hpgsim.validation.runner import TargetResult

KAPPA = testis.PARAMS["kappa"].value  # a tabulated value the page must show

KNOWN_MISSES = """\
# format example: target id -> the model limitation that causes the miss
HAND05-T12: the model has no Leydig-cell desensitisation to chronic hCG
LIU06-REC: recovery of spermatogenesis is one compartment, too fast after long suppression
"""

RESULTS = [
    TargetResult("HAND05-T1", 520.0, 500.0, 400.0, 600.0, "ng/dL", True, None,
                 title="Baseline T", source="Handelsman 2005"),
    TargetResult("HAND05-T12", 900.0, 400.0, 300.0, 500.0, "ng/dL", False, None,
                 title="T at 12 w", source="Handelsman 2005", notes="a note on HAND05-T12"),
    TargetResult("HAND05-LH", None, 2.0, 1.0, 3.0, "IU/L", False, "regimen[0].drug: unknown",
                 title="LH", source="Handelsman 2005"),
    TargetResult("COV05-E2", -40.0, -35.0, -50.0, -20.0, "pg/mL", True, None,
                 source="Covey 2005"),
    TargetResult("COV05-FSH", 10.0, 5.0, 4.0, 6.0, "IU/L", False, None, source="Covey 2005"),
    TargetResult("LIU06-REC", 8.0, 7.0, 5.0, 9.0, "mo", True, None, source="Liu 2006",
                 members=20, failed_members=1),
]


@pytest.fixture
def known_file(tmp_path: Path) -> Path:
    path = tmp_path / "known_misses.yaml"
    path.write_text(KNOWN_MISSES, encoding="utf-8")
    return path


@pytest.fixture
def page(known_file: Path) -> str:
    return render_report(RESULTS, "made-up targets", load_known_misses(known_file))


def test_load_known_misses(known_file: Path) -> None:
    assert load_known_misses(known_file) == {
        "HAND05-T12": "the model has no Leydig-cell desensitisation to chronic hCG",
        "LIU06-REC": "recovery of spermatogenesis is one compartment, too fast after long "
                     "suppression"}


def test_bundled_known_misses_file_loads() -> None:
    assert bundled_known_misses_path().is_file()
    assert isinstance(load_known_misses(), dict)


@pytest.mark.parametrize(("text", "problem"), [
    ("- HAND05-T12\n- LIU06-REC\n", "must be a mapping of target ids to causes"),
    ("HAND05-T12: [a, b]\n", "the cause must be one non-empty string"),
    ("HAND05-T12:\n", "the cause must be one non-empty string"),
    ("2005: a cause\n", "a target id must be text"),
    ("HAND05-T12: [unclosed\n", "not valid YAML"),
])
def test_malformed_known_misses_name_the_fix(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(problem)) as err:
        load_known_misses(path)
    assert str(path) in str(err.value)
    assert "Fix:" in str(err.value)


def test_missing_known_misses_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the known-miss file"):
        load_known_misses(tmp_path / "none.yaml")


def test_family_is_the_id_up_to_the_first_dash() -> None:
    assert family("HAND05-REC-T") == "HAND05"
    assert family("BASELINE") == "BASELINE"


def test_summary_counts_and_regressions(page: str) -> None:
    assert "3 of 6 targets passed (50%)" in page
    assert "1 with errors" in page
    assert "1 known misses" in page
    assert "2 misses not yet explained" in page
    assert "1 listed as known misses now pass" in page
    regressions = page.split("class='regressions'>", 1)[1].split("</div>", 1)[0]
    assert "HAND05-LH" in regressions
    assert "COV05-FSH" in regressions
    assert "HAND05-T12" not in regressions


def test_one_row_per_target_with_interval_status_and_miss_factor(page: str) -> None:
    table = page.split("<h2>Targets</h2>", 1)[1].split("<h2>", 1)[0]
    for r in RESULTS:
        assert table.count(f"<tr id='{r.id}'>") == 1
    row = table.split("<tr id='HAND05-T12'>", 1)[1].split("</tr>", 1)[0]
    assert "Handelsman 2005" in row
    assert "[300, 500]" in row
    assert "class='miss'" in row
    assert "<td>2.25</td>" in row  # miss factor 900 / 400
    assert ">known<" in row
    assert ">now passes<" in table.split("<tr id='LIU06-REC'>", 1)[1].split("</tr>", 1)[0]
    assert "class='error'" in table.split("<tr id='HAND05-LH'>", 1)[1].split("</tr>", 1)[0]
    assert "1 of 21 members failed" in table


def test_known_misses_section_gives_each_cause(page: str) -> None:
    section = page.split("<h2>Known misses</h2>", 1)[1].split("<h2>", 1)[0]
    assert "the model has no Leydig-cell desensitisation to chronic hCG" in section
    assert "a note on HAND05-T12" in section
    unexplained = section.split("<b>COV05-FSH</b>", 1)[1].split("</li>", 1)[0]
    assert "not yet explained" in unexplained
    assert "error: regimen[0].drug: unknown" in section
    now_passing = section.split("now pass", 1)[1]
    assert "LIU06-REC" in now_passing
    assert "HAND05-T1<" not in section  # passed and not listed
    # the largest miss first: the error (inf), HAND05-T12 (x2.25), COV05-FSH (x2)
    assert section.index("HAND05-LH") < section.index("HAND05-T12") < section.index("COV05-FSH")


def test_one_embedded_plot_per_family(page: str) -> None:
    images = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,[A-Za-z0-9+/=]+'>",
                        page)
    assert images == ["HAND05", "COV05", "LIU06"]
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", page)  # no external assets
    assert "<script" not in page


def test_parameter_tables_with_sources_and_disclaimer_once(page: str) -> None:
    params = page.split("<h2>Parameters</h2>", 1)[1]
    assert f"<td>kappa</td><td>{KAPPA:g}</td>" in params
    assert "Tornøe BJCP 2007" in params
    assert "Between-subject variability" in params
    assert "<td>leydig_max</td>" in params
    assert page.count(DISCLAIMER) == 1


def test_listed_ids_without_a_target_are_named() -> None:
    page = render_report(RESULTS[:1], "made-up targets", {"GONE-T": "a cause"})
    assert "Known misses listed for targets not in this run: GONE-T" in page


def test_parameter_table_shows_active_overrides() -> None:
    with overridden({"kappa": 2.5}):
        page = render_report(RESULTS[:1], "made-up targets", {})
    assert f"<td>kappa</td><td>2.5 <small>(tabulated {KAPPA:g})</small></td>" in page


def test_without_a_known_miss_file_every_miss_is_unexplained() -> None:
    page = render_report(RESULTS, "other.yaml", None)
    assert "No known-miss file applies" in page
    assert "3 misses not yet explained" in page  # two misses and the error
    assert "0 known misses" in page


def test_write_report_and_plots_left_out_without_matplotlib(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = write_report(RESULTS, tmp_path / "out", "made-up targets", {})
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "out" / "report.html"
    assert "Plots left out: matplotlib is not installed" in page
    assert "<img" not in page


def test_text_table_marks_misses() -> None:
    lines = format_table(RESULTS).splitlines()
    assert lines[2].startswith("HAND05-T12")
    assert lines[2].endswith("MISS")
    assert lines[3].endswith("error")
    assert lines[-1] == "3 of 6 targets passed (1 with errors)"

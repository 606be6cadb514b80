"""Figures: files of the requested format, unit-labelled axes, overlays, bands, input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpgsim import InputError, Phase, Regimen, RegimenLine, Result
from hpgsim.report.plot import Band, plot_result
from hpgsim.units import parse_dose
from test_export import make_result

pytest.importorskip("matplotlib")

W = 168.0
TIMES = np.linspace(0.0, 20 * W, 200)


def _result(scale: float = 1.0, name: str = "TRT") -> Result:
    line = RegimenLine("testosterone_cypionate", parse_dose("100 mg"), "im", 0.0, W, count=8)
    reg = Regimen((line,), phases=(Phase("on", 0.0, 8 * W),), name=name)
    knots = [0, 8 * W, 20 * W]
    return make_result(TIMES, reg,
                       total_testosterone=scale * np.interp(TIMES, knots, [900, 900, 400]),
                       sperm_concentration=scale * np.interp(TIMES, knots, [50, 0, 20]))


def test_png(tmp_path: Path) -> None:
    path = plot_result(_result(), tmp_path / "plot.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000


def test_svg_labels_units_disclaimer_and_overlay(tmp_path: Path) -> None:
    a, b = _result(1.0, "TRT"), _result(0.8, "TRT low")
    path = plot_result([a, b], tmp_path / "cmp.svg", units={"T": "nmol/L"},
                       bands={"cohort p5-p95": (b, a)})
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "(nmol/L)" in svg
    assert "(ng/dL)" not in svg
    assert "(million/mL)" in svg
    for label in ("TRT low", "cohort p5-p95", "testosterone_cypionate", "time (weeks)"):
        assert label in svg
    assert "not medical advice" in svg


def test_selected_observables_only(tmp_path: Path) -> None:
    svg = plot_result(_result(), tmp_path / "p.svg", observables=["LH", "E2"]).read_text()
    assert "(IU/L)" in svg
    assert "(pg/mL)" in svg
    assert "(ng/dL)" not in svg


def test_band_from_arrays(tmp_path: Path) -> None:
    band = Band(TIMES, {"lh": np.full(TIMES.size, 2.0)}, {"lh": np.full(TIMES.size, 6.0)})
    path = plot_result(_result(), tmp_path / "band.png", observables=["LH"], bands={"p5-p95": band})
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": "plot.pdf"}, "unknown figure format"),
        ({"observables": ["cortisol"]}, "unknown analyte"),
        ({"observables": []}, "no panel to draw"),
        ({"labels": ["a", "b"]}, "2 labels for 1 results"),
        ({"units": {"E2": "nmol/L"}}, "estradiol"),
    ],
)
def test_input_errors(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    path = tmp_path / str(kwargs.pop("path", "plot.png"))
    with pytest.raises(InputError, match=match):
        plot_result(_result(), path, **kwargs)  # type: ignore[arg-type]
    assert not path.exists()


def test_band_grids_must_match() -> None:
    other = make_result(TIMES[:50])
    with pytest.raises(InputError, match="different time grids"):
        Band.from_results(_result(), other)

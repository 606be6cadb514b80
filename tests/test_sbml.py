"""SBML export: a valid L3 document with units and sources, and libRoadRunner reproduces
hpgsim's courses from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

libsbml = pytest.importorskip("libsbml")
pytest.importorskip("sympy")

import hpgsim as hs  # noqa: E402
from hpgsim.interop.sbml import sbml_document  # noqa: E402
from hpgsim.physiology import pituitary  # noqa: E402

# two years: weekly injections and daily oral doses, a switch, then follow-up
TWO_YEARS = hs.parse_regimen(
    "TC 150 mg q7d x 52w + anastrozole 0.5 mg q1d x 52w; "
    "then hCG 1500 IU 2x/w x 26w + clomiphene 25 mg q1d x 26w; then observe 26w")
COMPARED = ("total_testosterone", "lh", "fsh", "estradiol", "sperm_concentration")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _errors(xml: str) -> list[str]:
    doc = libsbml.readSBMLFromString(xml)
    doc.checkConsistency()
    return [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
            if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


def test_export_is_valid_sbml_with_units_sources_and_dose_events() -> None:
    regimen = hs.parse_regimen("TC 150 mg q7d x 4w + anastrozole 0.5 mg q1d x 4w")
    xml = sbml_document(hs.Subject(age_years=45), regimen)
    assert _errors(xml) == []
    model = libsbml.readSBMLFromString(xml).getModel()
    assert (model.getLevel(), model.getVersion()) == (3, 2)
    k_des = model.getParameter("k_des")
    assert model.getUnitDefinition(k_des.getUnits()) is not None  # 1/h
    info = k_des.getAnnotation().getChild(0)
    assert pituitary.PARAMS["k_des"].source in info.getAttrValue("source")
    assert info.getAttrValue("unit") == "1/h"
    assert model.getParameter("obs_total_testosterone") is not None
    assert model.getUnitDefinition(model.getParameter("T_ref").getUnits()) is not None
    events = {model.getEvent(i).getId() for i in range(model.getNumEvents())}
    assert {"dose_testosterone_cypionate_im", "dose_anastrozole_oral"} <= events
    # the dose at t = 0 is an initial amount, the later ones come from the product's event
    depot = [model.getSpecies(i) for i in range(model.getNumSpecies())
             if model.getSpecies(i).getId().startswith("pk_testosterone_cypionate_im")]
    assert sum(s.getInitialAmount() for s in depot) > 0.0
    assert any(e.startswith("guard_") for e in events)


def test_export_command_writes_a_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hpgsim.interop.cli import export_sbml_command

    out = tmp_path / "trt.xml"
    res = CliRunner().invoke(export_sbml_command, [str(EXAMPLES / "trt_alone.yaml"), str(out)])
    assert res.exit_code == 0, res.output
    assert _errors(out.read_text()) == []


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(hs.InputError, match=r"parameters\.nope"):
        sbml_document(None, TWO_YEARS, parameters={"nope": 1.0})


@pytest.mark.slow
def test_roadrunner_reproduces_two_years_of_weekly_and_daily_dosing() -> None:
    roadrunner = pytest.importorskip("roadrunner")
    subject = hs.Subject(age_years=42, weight_kg=92)
    rr = roadrunner.RoadRunner(sbml_document(subject, TWO_YEARS))
    rr.integrator.relative_tolerance = 1e-8
    rr.integrator.absolute_tolerance = 1e-10
    ours = hs.simulate(subject, TWO_YEARS, hs.SimulationOptions(output_step=24.0))
    grid = np.arange(0.0, TWO_YEARS.end + 1e-9, 24.0)
    theirs = rr.simulate(times=grid, selections=["time", *(f"obs_{n}" for n in COMPARED)])
    assert grid[-1] == pytest.approx(104 * 168.0)
    for name in COMPARED:
        ref = np.interp(grid, ours.times, ours.get(name))
        got = np.asarray(theirs[f"obs_{name}"])
        floor = 0.01 * float(np.max(np.abs(ref)))
        err = float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), floor)))
        assert err < 0.01, (name, err)


def test_gnrh_pump_is_switched_by_events() -> None:
    p = hs.load_protocol(EXAMPLES / "gnrh_pump.yaml")
    model = libsbml.readSBMLFromString(sbml_document(p.subject, p.regimen)).getModel()
    rate = model.getParameter("pump_rate").getValue()
    assert rate == pytest.approx(1.0 / 1.5)  # on from t = 0: 10 ug every 90 min
    stops = [model.getEvent(i) for i in range(model.getNumEvents())
             if model.getEvent(i).getId().startswith("pump_")]
    assert len(stops) == 1
    assert libsbml.formulaToL3String(stops[0].getEventAssignment(0).getMath()) == "0"

"""Solver orchestration: accuracy against a tight-tolerance reference, failure reporting."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hpgsim as hs
from hpgsim import simulation
from hpgsim.regimen.model import Regimen, RegimenLine
from hpgsim.units import parse_dose

W = 168.0
D = 24.0
REGIMEN = Regimen((
    RegimenLine("testosterone_cypionate", parse_dose("150 mg"), "im", every=W, end=26 * W),
    RegimenLine("anastrozole", parse_dose("0.5 mg"), "oral", every=3.5 * D, end=26 * W),
    RegimenLine("hcg", parse_dose("1500 IU"), "sc", start=26 * W, every=3.5 * D, end=42 * W),
    RegimenLine("clomiphene", parse_dose("25 mg"), "oral", start=26 * W, every=2 * D, end=42 * W),
), span=60 * W)


def test_default_tolerance_matches_tight_reference_solve() -> None:
    opts = dict(output_step=6.0)
    fast = hs.simulate(hs.Subject(), REGIMEN, hs.SimulationOptions(**opts))  # type: ignore[arg-type]
    ref = hs.simulate(hs.Subject(), REGIMEN,
                      hs.SimulationOptions(rtol=1e-10, atol=1e-13, **opts))  # type: ignore[arg-type]
    np.testing.assert_array_equal(fast.times, ref.times)
    for name in fast.observable_names:
        a, b = fast.get(name), ref.get(name)
        scale = max(float(np.max(np.abs(b))), 1e-12)
        assert float(np.max(np.abs(a - b))) / scale < 5e-3, name


def test_output_grid_contains_dose_times_and_end() -> None:
    r = hs.simulate(hs.Subject(), REGIMEN, hs.SimulationOptions(output_step=24.0))
    assert r.times[0] == 0.0
    assert r.times[-1] == pytest.approx(60 * W)
    assert np.all(np.diff(r.times) > 0.0)
    assert np.isin([b.time for b in REGIMEN.boluses()], r.times).all()


def test_solver_failure_is_reported_not_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    real = simulation.odeint

    def failing(*args: Any, **kwargs: Any) -> Any:
        sol, info = real(*args, **kwargs)
        info["message"] = "Excess work done on this call."
        return sol, info

    monkeypatch.setattr(simulation, "odeint", failing)
    with pytest.raises(hs.SolverError, match="solver failed between"):
        hs.simulate(hs.Subject(), REGIMEN, hs.SimulationOptions(engine="scipy"))


@pytest.mark.parametrize(("field", "kwargs"), [
    ("options.output_step", {"output_step": 0.0}),
    ("options.rtol", {"rtol": 0.5}),
])
def test_bad_options_name_the_field(field: str, kwargs: dict[str, float]) -> None:
    with pytest.raises(hs.InputError, match=field):
        hs.SimulationOptions(**kwargs)


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(hs.InputError, match=r"parameters\.no_such"):
        hs.simulate(hs.Subject(), REGIMEN, parameters={"no_such": 1.0})


def test_parameter_override_changes_the_course() -> None:
    short = Regimen((), span=48.0)
    r = hs.simulate(hs.Subject(), short, parameters={"T_ref": 450.0})
    assert r.baseline["total_testosterone"] == pytest.approx(450.0)

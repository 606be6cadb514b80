"""A chunk's courses with the prior shared between arms equal whole-regimen solves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpgsim.engine.batch import simulate_batch
from hpgsim.population import simulate, trial_from_dict
from hpgsim.population.run import arm_grid, chunk_parameters
from hpgsim.simulation import SimulationOptions

TRIAL: dict[str, Any] = {
    "arms": [{"name": "stop", "text": "observe 6w"},
             {"name": "hcg", "text": "hCG 1500 IU sc 2x/w x 3w; then observe 3w"}],
    "cohort": {"size": 3, "seed": 5, "chunk_size": 3,
               "subject": {"age_years": {"mean": 45, "sd": 10, "min": 20, "max": 70}},
               "prior_suppression": {"agent": "testosterone_cypionate", "dose": "150 mg",
                                     "route": "im", "duration": "6 w"}},
    "endpoints": [{"name": "t", "observable": "total_testosterone", "threshold": 300}],
}


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference relative to b, floored at 1 % of b's largest value."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 0.01 * np.max(np.abs(b)))))


@pytest.mark.parametrize("engine", ["numba", "scipy"])
def test_shared_prior_matches_whole_regimen(engine: str, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    pytest.importorskip("numba", reason="the compiled engine needs the fast extra")
    spec = trial_from_dict(TRIAL)
    params = chunk_parameters(spec, 0)
    grids = [arm_grid(spec, a) for a in range(len(spec.arms))]
    if engine == "scipy":
        monkeypatch.setattr(simulate, "resolve_engine", lambda _: "scipy")
    courses = list(simulate.arm_courses(spec, params, grids))
    for (_, regimen), grid, arm in zip(spec.arms, grids, courses, strict=True):
        assert arm.ok.all()
        whole = simulate_batch(params, regimen, SimulationOptions(output_step=24.0),
                               spec.observables)
        for name, values in arm.values.items():
            ref = simulate.regrid(whole.times - spec.offset, whole.observables[name], grid)
            assert _relative(values, ref) < 1e-4, name
    assert courses[0].values["lh"][:, 0] == pytest.approx(courses[1].values["lh"][:, 0])

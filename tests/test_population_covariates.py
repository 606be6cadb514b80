"""Direction of each covariate effect on suppression and recovery, in small virtual trials.

Each comparison runs the same virtual men (same seed and size, so the same parameter
multipliers) twice, changing one covariate or the prior suppression, and checks the direction
the literature reports (docs/trials.md, "Covariate effects", gives each source):
longer and higher-dose suppression, older age, smaller testes and primary testicular
dysfunction slow or cap recovery; Asian ancestry deepens suppression on testosterone. Where the
model disagrees with the literature the test is a strict xfail stating what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpgsim.population import run_trial, trial_from_dict
from hpgsim.population.run import ArmSummary
from hpgsim.population.stats import median_time

pytestmark = pytest.mark.slow
SIZE = 12
WEEK = 168.0


def _trial(tmp: Path, name: str, subject: dict[str, Any] | None = None,
           prior: dict[str, Any] | None = None, follow_up: str = "104w") -> ArmSummary:
    """One arm (observation only) after a prior suppression, for ``SIZE`` men."""
    data = {
        "arms": [{"name": "stop", "text": f"observe {follow_up}"}],
        "cohort": {"size": SIZE, "seed": 11, "chunk_size": SIZE,
                   "subject": {"age_years": 35, **(subject or {})},
                   "prior_suppression": {"agent": "testosterone_cypionate", "dose": "150 mg",
                                         "route": "im", "every": "7 d", "duration": "52 w",
                                         **(prior or {})}},
        "endpoints": [{"name": "sperm_15", "observable": "sperm_concentration",
                       "threshold": 15}],
        "outputs": {"output_step": "1 d", "plots": False, "parquet": False, "report_at": []},
    }
    return run_trial(trial_from_dict(data), tmp / name).arms[0]


def _median_weeks(arm: ArmSummary) -> float:
    """KM median time to sperm >= 15 million/mL (weeks); inf if not reached."""
    m = median_time(arm.times["sperm_15"], arm.events["sperm_15"]) / WEEK
    return float("inf") if np.isnan(m) else m


def _sperm(arm: ArmSummary, weeks: float) -> float:
    """Median sperm concentration (million/mL) at ``weeks`` after the arm start."""
    i = int(np.argmin(np.abs(arm.grid - weeks * WEEK)))
    return float(arm.bands["sperm_concentration"][1, i])


def test_longer_suppression_slows_recovery(tmp_path: Path) -> None:
    one = _trial(tmp_path, "1y")
    five = _trial(tmp_path, "5y", prior={"duration": "260 w"})
    assert _median_weeks(five) > _median_weeks(one)


def test_higher_dose_suppression_slows_recovery(tmp_path: Path) -> None:
    low = _trial(tmp_path, "low", prior={"dose": "100 mg"})
    high = _trial(tmp_path, "high", prior={"dose": "200 mg"})
    assert _median_weeks(high) > _median_weeks(low)


def test_older_age_slows_recovery(tmp_path: Path) -> None:
    young = _trial(tmp_path, "25", subject={"age_years": 25})
    old = _trial(tmp_path, "55", subject={"age_years": 55})
    assert _median_weeks(old) > _median_weeks(young)


def test_smaller_testes_lower_sperm_and_slow_recovery(tmp_path: Path) -> None:
    normal = _trial(tmp_path, "36", subject={"testis_volume_ml": 36})
    small = _trial(tmp_path, "15", subject={"testis_volume_ml": 15})
    assert _sperm(small, 100) < 0.6 * _sperm(normal, 100)
    assert _median_weeks(small) > _median_weeks(normal)


def test_primary_testicular_dysfunction_caps_recovery(tmp_path: Path) -> None:
    healthy = _trial(tmp_path, "healthy")
    ptd = _trial(tmp_path, "ptd", subject={"condition": "primary_testicular_dysfunction"})
    assert np.count_nonzero(ptd.events["sperm_15"]) < np.count_nonzero(healthy.events["sperm_15"])
    assert _sperm(ptd, 100) < 0.5 * _sperm(healthy, 100)


def test_asian_ancestry_deepens_suppression(tmp_path: Path) -> None:
    other = _trial(tmp_path, "non_asian", follow_up="4w")
    asian = _trial(tmp_path, "asian", subject={"ancestry": "asian"}, follow_up="4w")
    assert _sperm(asian, 0) < 0.7 * _sperm(other, 0)


@pytest.mark.xfail(strict=True, reason=(
    "reversed in the model: Asian men recover sperm later (K_ITT x 1.5 keeps germ-cell support "
    "lower on the way back too), whereas Liu et al., Lancet 2006;367:1412 found Asian origin "
    "among the predictors of faster recovery"))
def test_asian_ancestry_does_not_slow_recovery(tmp_path: Path) -> None:
    other = _trial(tmp_path, "non_asian")
    asian = _trial(tmp_path, "asian", subject={"ancestry": "asian"})
    assert _median_weeks(asian) <= _median_weeks(other)

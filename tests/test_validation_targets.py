"""The bundled public targets, every one, at full cohort size.

A target passes, or it is a known miss: listed with its cause in ``data/known_misses.yaml`` and
marked xfail. Not strict: several known misses sit within 1% of their interval, where the last
digits of a compiled solve on another CPU could flip them; a known miss that passes shows as
XPASS here and as "now passes" in the report. The whole set runs once (~3-4 min, 2 cores).
"""

from __future__ import annotations

import pytest

from hpgsim.validation.known import load_known_misses
from hpgsim.validation.runner import TargetResult, run_targets
from hpgsim.validation.schema import load_targets

TARGETS = load_targets()
KNOWN = load_known_misses()
IDS = [e.id for e in TARGETS.entries]


@pytest.fixture(scope="module")
def results() -> dict[str, TargetResult]:
    return {r.id: r for r in run_targets(TARGETS)}


def test_the_known_miss_list_names_only_bundled_targets() -> None:
    assert set(KNOWN) <= set(IDS)


@pytest.mark.slow
@pytest.mark.parametrize("target_id", [
    pytest.param(i, marks=pytest.mark.xfail(reason=KNOWN[i])) if i in KNOWN else i
    for i in IDS])
def test_bundled_target(target_id: str, results: dict[str, TargetResult]) -> None:
    r = results[target_id]
    assert r.error is None, r.error
    assert r.passed, f"simulated {r.simulated:.4g} outside [{r.low:.4g}, {r.high:.4g}] {r.unit}"


@pytest.mark.slow
def test_pass_rate_and_no_miss_beyond_twofold(results: dict[str, TargetResult]) -> None:
    """The calibration's floor: every target within 2x of its interval unless a known miss."""
    far = [r.id for r in results.values()
           if r.id not in KNOWN and (r.error is not None or r.miss_factor > 2.0)]
    assert far == []

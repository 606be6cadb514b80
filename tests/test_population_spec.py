"""Trial-file validation errors of hpgsim.population.spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpgsim.errors import InputError
from hpgsim.population import load_trial, trial_from_dict

EXAMPLE = Path(__file__).parents[1] / "examples" / "trials" / "recovery.yaml"


def _trial(**cohort: Any) -> dict[str, Any]:
    return {"arms": [{"name": "stop", "text": "observe 4w"}],
            "cohort": {"size": 4, **cohort},
            "endpoints": [{"name": "t", "observable": "T", "threshold": 300}]}


def test_example_loads_with_prior_suppression() -> None:
    spec = load_trial(EXAMPLE)
    assert [name for name, _ in spec.arms] == ["stop", "hcg_clomiphene"]
    assert spec.offset == 52 * 168.0
    assert all(r.end == 104 * 168.0 for _, r in spec.arms)


def test_malformed_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("arms: [\n  cohort: {", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_trial(bad)


def test_unknown_key_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cohort\.colour"):
        trial_from_dict(_trial(colour=1))
    with pytest.raises(InputError, match="file not found"):
        load_trial(tmp_path / "none.yaml")


@pytest.mark.parametrize("arm", [{"name": "a"}, {"name": "a", "text": ""},
                                 {"name": "a", "inline": {"regimen": []}}])
def test_empty_arm(arm: dict[str, Any]) -> None:
    data = _trial()
    data["arms"] = [arm]
    with pytest.raises(InputError, match=r"arms\[0\]"):
        trial_from_dict(data)


def test_no_arms() -> None:
    data = _trial()
    data["arms"] = []
    with pytest.raises(InputError, match="at least one arm"):
        trial_from_dict(data)


@pytest.mark.parametrize("cohort", [{"size": 0}, {"size": 11, "max_size": 10},
                                    {"size": 2_000_000}])
def test_cohort_size_out_of_range(cohort: dict[str, int]) -> None:
    with pytest.raises(InputError, match=r"cohort\.size"):
        trial_from_dict(_trial(**cohort))


def test_unknown_observable() -> None:
    data = _trial()
    data["endpoints"][0]["observable"] = "cortisol"
    with pytest.raises(InputError, match="endpoints"):
        trial_from_dict(data)


def test_endpoint_time_outside_follow_up() -> None:
    data = _trial()
    data["endpoints"][0]["after"] = "5 w"
    with pytest.raises(InputError, match=r"endpoints\[0\]\.after"):
        trial_from_dict(data)

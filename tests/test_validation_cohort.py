"""Virtual cohorts: covariate sampling, parameter variability, cohort targets end to end."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from hpgsim.errors import InputError
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.subjects import Subject
from hpgsim.validation import VARIABILITY, Target, load_targets, sample_parameters, sample_subjects
from hpgsim.validation.cohort import member_parameters
from hpgsim.validation.runner import run_targets

AGE = {"mean": 33.0, "sd": 6.0, "min": 21, "max": 45}
SPEC = {"age_years": AGE, "ancestry": {"asian": 0.35, "non_asian": 0.65}, "weight_kg": 90}


def test_subjects_are_reproducible_by_seed_and_prefix_stable() -> None:
    a = sample_subjects(SPEC, 200, seed=7)
    assert a == sample_subjects(SPEC, 200, seed=7)
    assert a != sample_subjects(SPEC, 200, seed=8)
    assert sample_subjects(SPEC, 50, seed=7) == a[:50]  # a smaller cohort is its first members


def test_truncated_normal_and_mix() -> None:
    subjects = sample_subjects(SPEC, 4000, seed=1)
    ages = np.array([s.age_years for s in subjects])
    assert ages.min() >= 21
    assert ages.max() <= 45
    assert ages.mean() == pytest.approx(33.0, abs=0.3)
    assert ages.std() == pytest.approx(5.28, abs=0.2)  # N(33, 6) cut at +-2 sd: sd 0.88 x 6
    share = Counter(s.ancestry for s in subjects)["asian"] / len(subjects)
    assert share == pytest.approx(0.35, abs=0.03)
    assert {s.weight_kg for s in subjects} == {90}


@pytest.mark.parametrize(("spec", "message"), [
    ({"ancestry": {"asian": 0.5, "non_asian": 0.6}}, "sum to 1"),
    ({"age_years": {"mean": 30}}, "needs a mean and an sd"),
    ({"age_years": {"mean": 30, "sd": 5, "max": 20}}, "outside [min, max]"),
    ({"age_years": {"mean": 30, "sd": 5, "median": 3}}, "unknown distribution key"),
    ({"ancestry": {"martian": 1.0}}, "unknown ancestry"),
])
def test_bad_subject_specs(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sample_subjects(spec, 10, seed=0)


def test_parameter_multipliers_are_log_normal_with_the_tabled_cv() -> None:
    draws = sample_parameters(20000, seed=3)
    assert draws == sample_parameters(20000, seed=3)
    assert sample_parameters(10, seed=3) == draws[:10]
    for name, p in VARIABILITY.items():
        m = np.array([d[name] for d in draws])
        assert np.median(m) == pytest.approx(1.0, abs=0.03), name
        assert np.std(np.log(m)) == pytest.approx(math.sqrt(math.log1p(p.value**2)), rel=0.03)


def test_variability_table_names_model_parameters() -> None:
    known = subject_parameters(Subject())
    for p in VARIABILITY.values():
        assert p.name in known
        assert p.unit
        assert p.description
        assert p.source


def test_member_parameters_multiply_the_subjects_own_values() -> None:
    old = Subject(age_years=70.0)
    params = member_parameters(old, {"leydig_max": 2.0})
    assert params == {"leydig_max": pytest.approx(2.0 * subject_parameters(old)["leydig_max"])}


def _cohort_target(target_id: str, size: int) -> Target:
    target = next(e for e in load_targets().entries if e.id == target_id)
    assert isinstance(target, Target)
    assert target.cohort is not None
    return target.model_copy(update={"cohort": target.cohort.model_copy(update={"size": size})})


def test_baseline_cohort_fraction_median_and_mean() -> None:
    ids = ["TRAVISON17-MED", "TRAVISON17-P5", "BHASIN11-TTMEAN"]
    results = run_targets([_cohort_target(i, 12) for i in ids], workers=1)
    for r in results:
        assert r.error is None, r.error
        assert r.members == 12
        assert r.simulated is not None
    frac = results[1].simulated
    assert frac is not None
    assert 0.0 <= frac <= 1.0
    assert frac * 12 == pytest.approx(round(frac * 12))


@pytest.mark.slow
def test_pool_and_in_process_give_the_same_cohort_result() -> None:
    targets = [_cohort_target("GRUNEWALD13-MED", 24), _cohort_target("YEAP07-TT", 24)]
    serial = run_targets(targets, workers=1)
    pooled = run_targets(targets, workers=2)
    assert [r.simulated for r in serial] == [r.simulated for r in pooled]


@pytest.mark.slow
def test_cohort_time_to_median_and_fraction_ever() -> None:
    ids = ["WHO90-AZOO6M", "WHO90-TTAZOO"]
    results = run_targets([_cohort_target(i, 10) for i in ids], workers=1)
    frac, mean = results
    assert frac.error is None
    assert frac.simulated is not None
    assert 0.0 <= frac.simulated <= 1.0
    assert frac.members == 10
    assert (mean.error is None) != (mean.simulated is None)  # a mean, or no subject crossed

"""Failures during a trial: a worker that dies is retried without losing finished chunks; bad
trial files, backends and schedulers are one clear InputError each."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpgsim.errors import HpgsimError, InputError
from hpgsim.population import run_trial, trial_from_dict
from hpgsim.population.backends import DaskCluster, LocalProcesses, make_backend
from hpgsim.population.tables import endpoint_rows

TRIAL: dict[str, Any] = {
    "arms": [{"name": "stop", "text": "observe 8w"}],
    "cohort": {"size": 6, "seed": 3, "chunk_size": 2,
               "prior_suppression": {"agent": "testosterone_cypionate", "dose": "150 mg",
                                     "route": "im", "duration": "8 w"}},
    "endpoints": [{"name": "t_300", "observable": "total_testosterone", "threshold": 300,
                   "after": "2 w"}],
    "outputs": {"output_step": "1 d", "plots": False, "parquet": False, "report_at": ["4 w"]},
}


def die_once(marker: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)``, except that the first call for chunk 1 kills its process."""
    if args[-1] == 1 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return fn(*args)


def raise_once(marker: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)``, except that the first call for chunk 1 raises."""
    if args[-1] == 1 and not os.path.exists(marker):
        Path(marker).touch()
        raise RuntimeError("worker lost")
    return fn(*args)


class Faulty:
    """A backend that runs every task through ``wrapper`` on ``inner``."""

    def __init__(self, inner: Any, wrapper: Callable[..., Any], marker: Path) -> None:
        self.inner, self.wrapper, self.marker = inner, wrapper, str(marker)
        self.calls = 0

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]],
            keys: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        self.calls += 1
        return self.inner.map(self.wrapper, [(self.marker, fn, *t) for t in tasks], keys)


def test_dead_worker_chunk_is_retried_and_finished_chunks_kept(tmp_path: Path) -> None:
    spec = trial_from_dict(TRIAL)
    backend = Faulty(LocalProcesses(2), die_once, tmp_path / "died")
    summary = run_trial(spec, tmp_path / "out", backend)
    assert (tmp_path / "died").exists()
    assert backend.calls == 2
    assert summary.computed == 3
    assert endpoint_rows(summary) == endpoint_rows(run_trial(spec, tmp_path / "ref"))


def test_raising_worker_is_retried_in_process(tmp_path: Path) -> None:
    from hpgsim.population.backends import InProcess

    spec = trial_from_dict(TRIAL)
    backend = Faulty(InProcess(), raise_once, tmp_path / "raised")
    summary = run_trial(spec, tmp_path / "out", backend)
    assert backend.calls == 2  # chunk 0 saved before chunk 1 failed; only 1 and 2 resubmitted
    assert summary.arms[0].n_ok == 6


def test_persistent_failure_is_reported_after_retries(tmp_path: Path) -> None:
    from hpgsim.population.backends import InProcess

    spec = trial_from_dict(TRIAL)

    def always(marker: str, fn: Callable[..., Any], *args: Any) -> Any:
        if args[-1] == 2:
            raise RuntimeError("broken node")
        return fn(*args)

    with pytest.raises(HpgsimError, match=r"1 chunk\(s\) failed 2 times.*rerun to resume"):
        run_trial(spec, tmp_path / "out", Faulty(InProcess(), always, tmp_path / "m"),
                  retries=1)
    assert sorted(p.name for p in (tmp_path / "out" / "chunks").glob("*.npz")) == [
        "chunk0.npz", "chunk1.npz"]


def test_resume_refuses_chunks_of_another_trial(tmp_path: Path) -> None:
    run_trial(trial_from_dict(TRIAL | {"cohort": TRIAL["cohort"] | {"size": 2}}), tmp_path)
    other = TRIAL | {"cohort": TRIAL["cohort"] | {"size": 2, "seed": 4}}
    with pytest.raises(InputError, match=r"--out.*different trial"):
        run_trial(trial_from_dict(other), tmp_path)
    same = TRIAL | {"cohort": TRIAL["cohort"] | {"size": 2},
                    "outputs": TRIAL["outputs"] | {"plots": True}}  # outputs only: resumes
    assert run_trial(trial_from_dict(same), tmp_path).computed == 0


def test_unreachable_scheduler_and_bad_workers() -> None:
    pytest.importorskip("distributed", reason="dask.distributed is not installed (optional)")
    with pytest.raises(InputError, match=r"--scheduler.*cannot reach the scheduler"):
        DaskCluster("tcp://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(InputError, match="--workers"):
        make_backend(0, None)


def test_bad_solver_tolerance_names_the_field() -> None:
    with pytest.raises(InputError, match=r"solver\.rtol"):
        trial_from_dict(TRIAL | {"solver": {"rtol": 0.5}})
    with pytest.raises(InputError, match=r"solver\.atol"):
        trial_from_dict(TRIAL | {"solver": {"atol": -1.0}})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(min_value=-10**7, max_value=10**7),
       cap=st.integers(min_value=-5, max_value=10**6))
def test_cohort_size_is_checked_against_the_cap(size: int, cap: int) -> None:
    data = TRIAL | {"cohort": TRIAL["cohort"] | {"size": size, "max_size": cap}}
    if cap >= 1 and 1 <= size <= cap:
        assert trial_from_dict(data).cohort.size == size
    else:
        with pytest.raises(InputError, match=r"cohort\.(size|max_size)"):
            trial_from_dict(data)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(["arms", "cohort", "endpoints", "outputs", "solver", "name"]),
       value=JSON)
def test_malformed_sections_are_input_errors(key: str, value: Any) -> None:
    fix = "accepted"
    try:
        trial_from_dict(TRIAL | {key: value})
    except InputError as err:  # any other exception fails the test
        fix = err.fix
    assert fix

"""Chunked trial runs with streaming aggregation.

A trial is chunks of the cohort, each run in every arm. Chunk ``c`` holds the same subjects in
every arm: covariates and parameter multipliers drawn with seed ``cohort.seed * 1_000_003 + c``
(so results depend on the seed and the chunk size, never on the backend or the order chunks
finish in). A chunk is one unit of work (``run_chunk``: the prior suppression solved once, then
every arm, see ``simulate``); its summary - per arm, histograms of every observable on the arm
grid (``stats``) and per-subject endpoint times and flags (9 bytes per subject and endpoint) -
is saved as ``chunks/chunk<c>.npz`` under the output directory as soon as it arrives, and a
rerun skips the chunks already there (resume; ``chunks/trial.json`` records what they
depend on, and chunks of a different trial are refused). A chunk whose worker fails (an exception, a
dead process) is retried up to ``retries`` times; chunks that finished are never lost.
With ``outputs.trajectories`` every subject's course is written as
``trajectories/arm<a>_chunk<c>.parquet`` before its chunk is saved.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hpgsim.errors import HpgsimError, InputError
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.population.backends import Backend, InProcess
from hpgsim.population.simulate import ArmCourses, arm_courses, regrid
from hpgsim.population.spec import TrialSpec, trial_from_dict
from hpgsim.population.stats import first_reached, histogram, quantiles
from hpgsim.validation.cohort import member_parameters, sample_parameters, sample_subjects

FloatArray = NDArray[np.float64]
ChunkResult = dict[str, NDArray[np.generic]]
SEED_STRIDE = 1_000_003
RETRIES = 2
TRAJECTORY_PREFIX = "traj/"


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of a cohort seeded ``seed``."""
    return seed * SEED_STRIDE + chunk


def arm_grid(spec: TrialSpec, arm: int) -> FloatArray:
    """Output times (h from the arm start) of arm ``arm``."""
    span = spec.arms[arm][1].end - spec.offset
    return np.arange(0.0, span + 1e-9, spec.output_step)


def n_chunks(spec: TrialSpec) -> int:
    """Number of chunks of the cohort."""
    return -(-spec.cohort.size // spec.cohort.chunk_size)


def chunk_parameters(spec: TrialSpec, chunk: int) -> list[dict[str, float]]:
    """Full parameter sets of the subjects of chunk ``chunk``: each subject's own parameters
    (covariates) times its log-normal multipliers (``validation.cohort``)."""
    c = spec.cohort
    size = min(c.chunk_size, c.size - chunk * c.chunk_size)
    seed = chunk_seed(c.seed, chunk)
    subjects = sample_subjects(c.subject, size, seed, "cohort.subject")
    return [subject_parameters(s) | member_parameters(s, m)  # own values are cached per man
            for s, m in zip(subjects, sample_parameters(size, seed), strict=True)]


def _summarise(spec: TrialSpec, grid: FloatArray, courses: ArmCourses,
               first_subject: int) -> ChunkResult:
    """Counts, histograms, endpoint times/flags (and trajectories if asked) of one arm."""
    ok = courses.ok
    n_ok = np.count_nonzero(ok)
    part: ChunkResult = {"n_ok": np.array([n_ok]), "n_failed": np.array([len(ok) - n_ok]),
                         "steps": np.array([int(courses.steps[ok].sum())])}
    values = {k: v[ok] for k, v in courses.values.items()}
    for k, v in values.items():
        part[f"hist/{k}"] = histogram(v)
        if spec.outputs.trajectories:
            part[f"{TRAJECTORY_PREFIX}{k}"] = v.astype(np.float32)
    if spec.outputs.trajectories:
        part[f"{TRAJECTORY_PREFIX}subject"] = first_subject + np.flatnonzero(ok)
    for e in spec.endpoints:
        x = values[e.observable]
        if e.kind == "time_to":
            window = grid >= e.after
            part[f"time/{e.name}"], part[f"event/{e.name}"] = first_reached(
                grid[window], x[:, window], e.threshold, e.direction == "above")
        else:
            at = regrid(grid, x, np.array([e.at]))[:, 0]
            beyond = at > e.threshold if e.direction == "above" else at < e.threshold
            part[f"beyond/{e.name}"] = np.array([np.count_nonzero(beyond)])
    return part


def run_chunk(data: dict[str, object], base_dir: str, chunk: int) -> ChunkResult:
    """Simulate chunk ``chunk`` in every arm and summarise it (the unit of work of a backend;
    takes the raw trial mapping so that it pickles cheaply). Keys ``arm<a>/<kind>/<name>``."""
    spec = trial_from_dict(data, base_dir)
    grids = [arm_grid(spec, a) for a in range(len(spec.arms))]
    out: ChunkResult = {}
    courses = arm_courses(spec, chunk_parameters(spec, chunk), grids)
    for a, arm in enumerate(courses):
        part = _summarise(spec, grids[a], arm, chunk * spec.cohort.chunk_size)
        out |= {f"arm{a}/{k}": v for k, v in part.items()}
    return out


@dataclass
class ArmSummary:
    """Merged results of one arm: grid (h from arm start), quantile bands per observable
    (3, times: 5 %, 50 %, 95 %), endpoint times and events, ``fraction_at`` counts, subjects
    solved and failed, solver steps taken (prior included)."""

    name: str
    grid: FloatArray
    bands: dict[str, FloatArray]
    times: dict[str, FloatArray]
    events: dict[str, NDArray[np.bool_]]
    beyond: dict[str, int]
    n_ok: int
    n_failed: int
    steps: int = 0


@dataclass
class TrialSummary:
    """Per-arm summaries, and how many chunks this run computed (the rest were resumed)."""

    spec: TrialSpec
    arms: list[ArmSummary]
    computed: int


def _chunk_path(out: Path, chunk: int) -> Path:
    return out / "chunks" / f"chunk{chunk}.npz"


def _merge(spec: TrialSpec, out: Path, arm: int) -> ArmSummary:
    """Read the chunk files one at a time and merge the results of ``arm``."""
    hist: dict[str, NDArray[np.int64]] = {}
    times: dict[str, list[FloatArray]] = {}
    events: dict[str, list[NDArray[np.bool_]]] = {}
    beyond: dict[str, int] = {}
    counts = {"n_ok": 0, "n_failed": 0, "steps": 0}
    prefix = f"arm{arm}/"
    for chunk in range(n_chunks(spec)):
        with np.load(_chunk_path(out, chunk)) as f:
            for key in f.files:
                if not key.startswith(prefix):
                    continue
                kind, _, name = key.removeprefix(prefix).partition("/")
                if kind in counts:
                    counts[kind] += int(f[key][0])
                elif kind == "hist":
                    hist[name] = hist[name] + f[key] if name in hist else f[key]
                elif kind == "time":
                    times.setdefault(name, []).append(f[key])
                elif kind == "event":
                    events.setdefault(name, []).append(f[key])
                elif kind == "beyond":
                    beyond[name] = beyond.get(name, 0) + int(f[key][0])
    return ArmSummary(spec.arms[arm][0], arm_grid(spec, arm),
                      {k: quantiles(v) for k, v in hist.items()},
                      {k: np.concatenate(v) for k, v in times.items()},
                      {k: np.concatenate(v) for k, v in events.items()}, beyond,
                      counts["n_ok"], counts["n_failed"], counts["steps"])


def _save(spec: TrialSpec, out: Path, chunk: int, result: ChunkResult) -> None:
    """Write the chunk's trajectories (if any), then its summary, atomically."""
    if spec.outputs.trajectories:
        from hpgsim.population.tables import write_trajectories

        for a in range(len(spec.arms)):
            prefix = f"arm{a}/{TRAJECTORY_PREFIX}"
            write_trajectories(out / "trajectories" / f"arm{a}_chunk{chunk}.parquet",
                               arm_grid(spec, a), {k.removeprefix(prefix): v
                                                   for k, v in result.items()
                                                   if k.startswith(prefix)})
    path = _chunk_path(out, chunk)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **{k: v for k, v in result.items()  # type: ignore[arg-type]
                                if TRAJECTORY_PREFIX not in k})
    os.replace(tmp, path)


def _check_same_trial(spec: TrialSpec, out: Path) -> None:
    """Record what the chunks depend on in ``chunks/trial.json``; refuse to resume chunks of
    another trial (other arms, cohort, endpoints, solver or output step)."""
    key = {k: spec.data.get(k) for k in ("arms", "cohort", "endpoints", "solver")}
    key["output_step"] = spec.output_step
    text = json.dumps(key, sort_keys=True, default=str)
    path = out / "chunks" / "trial.json"
    if path.exists() and path.read_text(encoding="utf-8") != text:
        raise InputError("--out", str(out), "holds chunks of a different trial (arms, cohort, "
                         "endpoints, solver or output step changed)",
                         "give a new --out directory, or delete its chunks/ folder")
    path.write_text(text, encoding="utf-8")


def run_trial(spec: TrialSpec, out_dir: str | Path, backend: Backend | None = None,
              progress: Callable[[int, int], None] | None = None,
              retries: int = RETRIES) -> TrialSummary:
    """Run every chunk not yet saved under ``out_dir`` on ``backend`` (default in-process),
    then merge. ``progress(done, total)`` is called as chunks finish. When a chunk fails (its
    worker raised or died), the chunks not yet saved are resubmitted, up to ``retries`` times;
    then the failure is raised as an ``HpgsimError`` (finished chunks stay saved: rerun to
    resume)."""
    out = Path(out_dir)
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    _check_same_trial(spec, out)
    total = n_chunks(spec)
    todo = [c for c in range(total) if not _chunk_path(out, c).exists()]
    computed = len(todo)
    done = total - len(todo)
    run = backend or InProcess()
    for attempt in range(retries + 1):
        try:
            for c, result in run.map(run_chunk, [(spec.data, spec.base_dir, c) for c in todo],
                                     todo):
                _save(spec, out, c, result)
                done += 1
                if progress is not None:
                    progress(done, total)
            break
        except HpgsimError:
            raise
        except Exception as err:  # a worker raised or died: resubmit what is not saved
            todo = [c for c in todo if not _chunk_path(out, c).exists()]
            if attempt == retries:
                raise HpgsimError(
                    f"{len(todo)} chunk(s) failed {retries + 1} times, last: {err!r}; the "
                    f"finished chunks are saved in {out / 'chunks'}: rerun to resume") from err
    return TrialSummary(spec, [_merge(spec, out, a) for a in range(len(spec.arms))], computed)

"""Throughput and memory of virtual-population trials, against a plain scipy loop in the same run.

    python benchmarks/trials.py               # N = 1,000 and 10,000 (about 3-5 minutes on 2 cores)
    python benchmarks/trials.py --large       # also N = 100,000 (add about 10-20 minutes)
    python benchmarks/trials.py --sizes 200   # any sizes, e.g. a smoke test

The trial is ``benchmarks/trial_1m.yaml`` at size N: one arm, each man simulated for 2 years
(a 52-week testosterone-cypionate prior, then 52 weeks without drugs), rtol 1e-4 / atol 1e-7.
Each size runs in a fresh process (``hpgsim.population.run_trial``, in-process backend, numba
on every core, the engine compiled beforehand), so that its peak resident memory
(``ru_maxrss``, MB) is its own. Throughput is subject-years per second of wall time:
N x 2 / seconds.

- **Baseline**: a plain Python loop of ``hpgsim.simulate(..., engine="scipy")`` (default
  tolerances, the whole 2-year regimen) over the first ``BASELINE_N`` subjects of the same
  cohort; its cost per subject does not depend on N, so it is timed on those few and reported
  as throughput (the extrapolation to every N), on one core as one Python process uses.
- **Tolerance**: at N = ``ACCURACY_N`` the trial also runs with the default tolerances
  (rtol 1e-6 / atol 1e-9); printed: both throughputs, the largest per-subject difference in
  endpoint times (days) and event flags, and the largest relative difference in the bands.

Absolute figures on a shared 2-core machine vary by 1.5x or more between runs; compare ratios.
Writes ``benchmarks/trial_results.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

TRIAL = Path(__file__).resolve().parent / "trial_1m.yaml"
RESULTS = Path(__file__).resolve().parent / "trial_results.json"
BASELINE_N = 2
ACCURACY_N = 1000
MEMORY_TARGET_MB = 4096.0  # issue #5: 1,000,000 men x 2 years in under 4 GB
DEFAULT_SOLVER = {"rtol": 1e-6, "atol": 1e-9}
HOURS_PER_YEAR = 8766.0


def trial_data(size: int, solver: dict[str, float] | None = None) -> dict[str, Any]:
    """The benchmark trial at ``size`` subjects (chunks of at most 4,000), no plots."""
    data: dict[str, Any] = yaml.safe_load(TRIAL.read_text(encoding="utf-8"))
    data["cohort"] |= {"size": size, "chunk_size": min(size, 4000)}
    data["outputs"] |= {"plots": False, "parquet": False}
    if solver is not None:
        data["solver"] = solver
    return data


def one(size: int, solver: dict[str, float] | None, keep: str | None) -> dict[str, Any]:
    """Run one size in this process; wall time, throughput, peak memory, per-arm results."""
    from hpgsim.population import run_trial, trial_from_dict
    from hpgsim.population.run import arm_grid, chunk_parameters
    from hpgsim.population.simulate import arm_courses

    spec = trial_from_dict(trial_data(size, solver), TRIAL.parent)
    grids = [arm_grid(spec, a) for a in range(len(spec.arms))]
    list(arm_courses(spec, chunk_parameters(spec, 0)[:2], grids))  # compile / load the engine
    years = spec.arms[0][1].end / HOURS_PER_YEAR
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = run_trial(spec, keep or tmp)
        seconds = time.perf_counter() - start
    arm = summary.arms[0]
    out: dict[str, Any] = {
        "size": size, "seconds": seconds, "subject_years_per_s": size * years / seconds,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "failed": arm.n_failed, "steps_per_subject": arm.steps / max(arm.n_ok, 1)}
    if keep:
        out["times"] = {k: v.tolist() for k, v in arm.times.items()}
        out["events"] = {k: v.tolist() for k, v in arm.events.items()}
        out["bands"] = {k: v.tolist() for k, v in arm.bands.items()}
    return out


def baseline(n: int) -> float:
    """Subject-years per second of a plain loop of scipy solves over ``n`` subjects."""
    import hpgsim as hs
    from hpgsim.population import trial_from_dict
    from hpgsim.population.run import chunk_parameters

    spec = trial_from_dict(trial_data(n), TRIAL.parent)
    regimen = spec.arms[0][1]
    options = hs.SimulationOptions(output_step=24.0, engine="scipy")
    start = time.perf_counter()
    for p in chunk_parameters(spec, 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hs.simulate(hs.Subject(), regimen, options, parameters=p)
    return n * regimen.end / HOURS_PER_YEAR / (time.perf_counter() - start)


def in_subprocess(size: int, solver: dict[str, float] | None = None,
                  keep: str | None = None) -> dict[str, Any]:
    """``one`` in a fresh Python process (its own peak memory)."""
    args = [sys.executable, __file__, "--one", str(size)]
    if solver is not None:
        args += ["--solver", json.dumps(solver)]
    if keep is not None:
        args += ["--keep", keep]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def accuracy(loose: dict[str, Any], tight: dict[str, Any]) -> dict[str, float]:
    """Largest differences of the loose-tolerance run from the default-tolerance run."""
    out: dict[str, float] = {}
    for k, t_tight in tight["times"].items():
        e_tight, e_loose = np.array(tight["events"][k]), np.array(loose["events"][k])
        both = e_tight & e_loose
        diff = np.abs(np.array(loose["times"][k]) - np.array(t_tight))[both] / 24.0
        out[f"{k}_max_days"] = float(diff.max()) if diff.size else 0.0
        out[f"{k}_flags_differing"] = int(np.count_nonzero(e_tight != e_loose))
    for k, b_tight in tight["bands"].items():
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(np.array(loose["bands"][k]) / np.array(b_tight) - 1.0)
        out[f"band_{k}_max_rel"] = float(np.nanmax(rel))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also N = 100,000")
    parser.add_argument("--sizes", type=int, nargs="*", help="sizes instead of the default")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--solver", help=argparse.SUPPRESS)
    parser.add_argument("--keep", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        solver = json.loads(args.solver) if args.solver else None
        print(json.dumps(one(args.one, solver, args.keep)))
        return
    sizes = args.sizes or [1000, 10000] + ([100000] if args.large else [])
    base = baseline(BASELINE_N)
    print(f"baseline: plain scipy loop, {base:.3f} subject-years/s "
          f"(timed on {BASELINE_N} subjects, extrapolated to every N)")
    results: dict[str, Any] = {"baseline_subject_years_per_s": base, "sizes": {}}
    for size in sizes:
        r = in_subprocess(size)
        ratio = r["subject_years_per_s"] / base
        results["sizes"][str(size)] = r | {"ratio_over_baseline": ratio}
        print(f"N={size}: {r['seconds']:.1f} s, {r['subject_years_per_s']:.0f} subject-years/s, "
              f"peak {r['peak_memory_mb']:.0f} MB, {r['failed']} failed, "
              f"{r['steps_per_subject']:.0f} steps/subject; {ratio:.0f}x the baseline; memory "
              f"target < {MEMORY_TARGET_MB:.0f} MB "
              f"{'met' if r['peak_memory_mb'] < MEMORY_TARGET_MB else 'MISSED'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        loose = in_subprocess(ACCURACY_N, keep=str(Path(tmp) / "loose"))
        tight = in_subprocess(ACCURACY_N, DEFAULT_SOLVER, keep=str(Path(tmp) / "tight"))
    acc = accuracy(loose, tight)
    speedup = loose["subject_years_per_s"] / tight["subject_years_per_s"]
    results["tolerance"] = {"loose_subject_years_per_s": loose["subject_years_per_s"],
                            "default_subject_years_per_s": tight["subject_years_per_s"],
                            "speedup": speedup, **acc}
    print(f"N={ACCURACY_N}, rtol 1e-4 vs 1e-6: {loose['subject_years_per_s']:.0f} vs "
          f"{tight['subject_years_per_s']:.0f} subject-years/s ({speedup:.2f}x); "
          + ", ".join(f"{k} {v:.3g}" for k, v in acc.items()))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

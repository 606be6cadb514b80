"""Speed of hpgsim against libRoadRunner and scipy, each measured against its baseline in one run.

    python benchmarks/run.py             # full run: about 5-10 minutes on 2 cores
    python benchmarks/run.py --quick     # small cohorts, for a smoke test (writes nothing)

Needs the ``fast`` and ``sbml`` extras and libRoadRunner (``pip install -e ".[all,dev]"``).
Prints every figure and ratio, and writes ``benchmarks/results.json`` (keys below) so successive
versions can be compared. Absolute times on shared 2-core machines vary by about 1.5x between
runs: compare the ratios, which are measured side by side.

Protocol (``PROTOCOL``): two years with weekly injections and daily oral doses - testosterone
cypionate 150 mg weekly + anastrozole 0.5 mg daily for 52 weeks, then hCG 1500 IU twice weekly +
clomiphene 25 mg daily for 26 weeks, then 26 weeks without drugs; a 35-year-old man; daily
output. Tolerances rtol 1e-6, atol 1e-9 for every solver.

- ``single_run_ms``: ``hpgsim.simulate`` (compiled engine, whole call: regimen expansion, PK,
  steady state, solve, observables), median of warm runs. ``roadrunner_single_run_ms``:
  libRoadRunner (CVODE) simulating the SBML that ``hpgsim export-sbml`` writes for the same
  protocol and subject, on the same output times, median of runs after ``resetAll``. The two
  (and hpgsim with hourly output) run in alternation, 7 rounds. Both are also compared with a
  tight scipy reference (rtol 1e-9) to show they are equally accurate.
- ``first_call_s``: a fresh Python process: ``import hpgsim`` plus the first ``simulate``, with
  the engine cache on disk (the normal case). ``cold_first_call_s``: the same with an empty
  cache (trace, code generation and numba compilation; once per model version).
- ``cohort_1000_subjects_per_s``, ``cohort_10000_subjects_per_s``: ``simulate_batch`` over a
  virtual cohort (ages 20-70, weights 60-120 kg, log-normal variability on five parameters),
  keeping five observables. ``roadrunner_cohort_subjects_per_s``: a Python loop of libRoadRunner
  runs over the first subjects of the same cohort (parameters, derived constants and steady state
  set from hpgsim, untimed); ``scipy_cohort_subjects_per_s``: a loop of plain scipy solves
  (``engine="scipy"``). Both loops cost the same per subject at any N, so they are measured on
  a few subjects (``ROADRUNNER_N``, ``SCIPY_N``) and reported as throughput: that is the
  extrapolation to 1,000 and 10,000. hpgsim uses every core (numba ``prange``); the loops use
  one, as a single Python process does.
- ``peak_memory_mb``: peak resident memory of this process (``ru_maxrss``), reached during the
  10,000-subject cohort; it includes libRoadRunner, numba and the cohort's output arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import hpgsim as hs
from hpgsim.engine import simulate_batch
from hpgsim.engine.link import load
from hpgsim.engine.run import parameter_vector
from hpgsim.interop.sbml import sbml_document
from hpgsim.physiology.model import STATE_NAMES
from hpgsim.simulation import drug_free_state

PROTOCOL = ("TC 150 mg q7d x 52w + anastrozole 0.5 mg q1d x 52w; "
            "then hCG 1500 IU 2x/w x 26w + clomiphene 25 mg q1d x 26w; then observe 26w")
SUBJECT = hs.Subject(age_years=35)
RTOL, ATOL = 1e-6, 1e-9
OPTIONS = hs.SimulationOptions(output_step=24.0, rtol=RTOL, atol=ATOL)
KEPT = ("total_testosterone", "lh", "fsh", "estradiol", "sperm_concentration")
VARIABILITY = {"leydig_max": 0.2, "lh_scale": 0.2, "shbg_scale": 0.2, "K_ITT": 0.25,
               "germ_max": 0.15}  # log-normal SD of each multiplier
ROADRUNNER_N, SCIPY_N = 20, 3
RESULTS = Path(__file__).resolve().parent / "results.json"


def interleaved_medians(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median wall time (s) of each function, run in alternation so that a change in the
    machine's load affects all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for key, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def cohort(n: int, seed: int = 1) -> list[tuple[hs.Subject, dict[str, float]]]:
    """A virtual cohort: covariates plus log-normal parameter multipliers."""
    rng = np.random.default_rng(seed)
    from hpgsim.physiology.covariates import subject_parameters

    base = subject_parameters(hs.Subject())
    out = []
    for age, weight in zip(rng.uniform(20, 70, n), rng.uniform(60, 120, n), strict=True):
        overrides = {k: base[k] * float(np.exp(rng.normal(0.0, sd)))
                     for k, sd in VARIABILITY.items()}
        out.append((hs.Subject(age_years=float(age), weight_kg=float(weight)), overrides))
    return out


def max_relative_error(values: np.ndarray, ref: np.ndarray) -> float:
    """As the accuracy test: relative to the reference, floored at 1% of its maximum."""
    floor = 0.01 * float(np.max(np.abs(ref)))
    return float(np.max(np.abs(values - ref) / np.maximum(np.abs(ref), floor)))


def first_call(cache: str | None) -> float:
    """Seconds from ``import hpgsim`` to the first result in a fresh process."""
    code = ("import time; t = time.perf_counter(); import hpgsim as hs; "
            f"hs.simulate(hs.Subject(age_years=35), hs.parse_regimen({PROTOCOL!r}), "
            "hs.SimulationOptions(output_step=24.0)); print(time.perf_counter() - t)")
    env = dict(os.environ)
    if cache is not None:
        env["HPGSIM_CACHE_DIR"] = cache
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


class RoadRunnerModel:
    """libRoadRunner on the exported SBML; subjects switched by setting current values."""

    def __init__(self, regimen: hs.Regimen) -> None:
        import roadrunner

        t = time.perf_counter()
        xml = sbml_document(SUBJECT, regimen)
        self.export_s = time.perf_counter() - t
        t = time.perf_counter()
        self.rr = roadrunner.RoadRunner(xml)
        self.load_s = time.perf_counter() - t
        self.rr.integrator.relative_tolerance = RTOL
        self.rr.integrator.absolute_tolerance = ATOL
        self.rr.integrator.maximum_num_steps = 10**6
        self.ids = list(self.rr.model.getGlobalParameterIds())
        self.engine = load()

    def run(self, grid: np.ndarray) -> Any:
        self.rr.resetAll()
        return self.rr.simulate(times=grid, selections=["time", *(f"obs_{k}" for k in KEPT)])

    def subject_values(self, params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of parameters, derived constants and initial state of a subject."""
        p = parameter_vector(params, self.engine.PARAMETER_NAMES)
        q = np.empty(self.engine.N_DERIVED)
        self.engine.derived(p, q)
        values = dict(zip(self.engine.PARAMETER_NAMES, p, strict=True))
        values.update({f"derived_{i}": v for i, v in enumerate(q)})
        values.update(zip(STATE_NAMES, drug_free_state(params), strict=True))
        index = {k: i for i, k in enumerate(self.ids)}
        idx = np.array([index[k] for k in values], dtype=np.int32)
        return idx, np.array(list(values.values()))

    def run_subject(self, idx: np.ndarray, values: np.ndarray, grid: np.ndarray) -> Any:
        self.rr.resetAll()
        self.rr.model.setGlobalParameterValues(idx, values)
        return self.rr.simulate(times=grid, selections=["time", *(f"obs_{k}" for k in KEPT)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small cohorts; writes nothing")
    args = parser.parse_args()
    sizes = (50, 200) if args.quick else (1000, 10_000)
    warnings.simplefilter("ignore")
    regimen = hs.parse_regimen(PROTOCOL)
    out: dict[str, Any] = {"protocol": PROTOCOL, "rtol": RTOL, "atol": ATOL,
                           "cpu_count": os.cpu_count()}

    def say(text: str) -> None:
        print(text, flush=True)

    say(f"protocol: {PROTOCOL} ({regimen.end / 168:.0f} weeks), subject {SUBJECT}")
    load()
    hs.simulate(SUBJECT, regimen, OPTIONS)  # warm-up (compiles the engine on a cold cache)

    # --- single run -------------------------------------------------------------------------
    ours = hs.simulate(SUBJECT, regimen, OPTIONS)
    grid = ours.times
    rrm = RoadRunnerModel(regimen)
    rr_res = rrm.run(grid)
    hourly = hs.SimulationOptions(output_step=1.0, rtol=RTOL, atol=ATOL)
    medians = interleaved_medians({
        "single_run_ms": lambda: hs.simulate(SUBJECT, regimen, OPTIONS),
        "single_run_hourly_output_ms": lambda: hs.simulate(SUBJECT, regimen, hourly),
        "roadrunner_single_run_ms": lambda: rrm.run(grid),
    }, rounds=7)
    out.update({k: 1e3 * v for k, v in medians.items()})
    out["roadrunner_load_s"] = rrm.load_s
    out["sbml_export_s"] = rrm.export_s
    t = time.perf_counter()
    ref = hs.simulate(SUBJECT, regimen, hs.SimulationOptions(output_step=24.0, engine="scipy",
                                                             rtol=1e-9, atol=1e-12))
    out["scipy_single_run_ms"] = 1e3 * (time.perf_counter() - t)
    out["hpgsim_max_rel_error"] = max(max_relative_error(ours.get(k), ref.get(k)) for k in KEPT)
    out["roadrunner_max_rel_error"] = max(
        max_relative_error(np.asarray(rr_res[f"obs_{k}"]), ref.get(k)) for k in KEPT)
    say(f"single run: hpgsim {out['single_run_ms']:.1f} ms (hourly output "
        f"{out['single_run_hourly_output_ms']:.1f} ms), libRoadRunner "
        f"{out['roadrunner_single_run_ms']:.1f} ms (+ {rrm.load_s:.2f} s to load the SBML): "
        f"{out['roadrunner_single_run_ms'] / out['single_run_ms']:.1f}x")
    say(f"  error vs scipy rtol 1e-9: hpgsim {out['hpgsim_max_rel_error']:.1e}, libRoadRunner "
        f"{out['roadrunner_max_rel_error']:.1e}")

    # --- first call in a fresh process -------------------------------------------------------
    out["first_call_s"] = min(first_call(None) for _ in range(3))
    if not args.quick:
        with tempfile.TemporaryDirectory() as empty:
            out["cold_first_call_s"] = first_call(empty)
    say(f"first call in a fresh process: {out['first_call_s']:.2f} s with the disk cache"
        + (f", {out['cold_first_call_s']:.1f} s with an empty one" if "cold_first_call_s" in out
           else ""))

    # --- cohorts ------------------------------------------------------------------------------
    everyone = cohort(sizes[-1])
    for n in sizes:
        t = time.perf_counter()
        batch = simulate_batch(everyone[:n], regimen, OPTIONS, observables=KEPT)
        dt = time.perf_counter() - t
        out[f"cohort_{n}_subjects_per_s"] = n / dt
        out[f"cohort_{n}_failed"] = int((~batch.ok).sum())
        out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        say(f"cohort N={n}: hpgsim {dt:.1f} s = {n / dt:.0f} subjects/s "
            f"({out[f'cohort_{n}_failed']} failed), peak memory {out['peak_memory_mb']:.0f} MB")
    if args.quick:
        out["cohort_10000_subjects_per_s"] = out[f"cohort_{sizes[-1]}_subjects_per_s"]

    params = [dict(zip(batch.parameter_names, row, strict=True))
              for row in batch.parameters[:ROADRUNNER_N]]
    prepared = [rrm.subject_values(p) for p in params]
    t = time.perf_counter()
    runs = [rrm.run_subject(idx, values, grid) for idx, values in prepared]
    rr_rate = ROADRUNNER_N / (time.perf_counter() - t)
    out["roadrunner_cohort_subjects_per_s"] = rr_rate
    out["roadrunner_cohort_max_rel_error_vs_hpgsim"] = max(
        max_relative_error(np.asarray(r[f"obs_{k}"]), batch.observables[k][i])
        for i, r in enumerate(runs) for k in KEPT)
    scipy_opts = hs.SimulationOptions(output_step=24.0, rtol=RTOL, atol=ATOL, engine="scipy")
    t = time.perf_counter()
    for p in params[:SCIPY_N]:
        hs.simulate(hs.Subject(), regimen, scipy_opts, parameters=p)
    out["scipy_cohort_subjects_per_s"] = SCIPY_N / (time.perf_counter() - t)
    hp = out["cohort_10000_subjects_per_s"]
    for label, key, n in (("libRoadRunner loop", "roadrunner_cohort_subjects_per_s", ROADRUNNER_N),
                          ("scipy loop", "scipy_cohort_subjects_per_s", SCIPY_N)):
        rate = out[key]
        say(f"{label}: {rate:.2f} subjects/s (measured on {n} subjects; 10,000 would take "
            f"{10_000 / rate / 3600:.1f} h) -> hpgsim at N={sizes[-1]} is {hp / rate:.0f}x")
    say(f"  libRoadRunner cohort vs hpgsim batch: max error "
        f"{out['roadrunner_cohort_max_rel_error_vs_hpgsim']:.1e}")
    out["ratio_single_run_roadrunner_over_hpgsim"] = (out["roadrunner_single_run_ms"]
                                                      / out["single_run_ms"])
    out["ratio_cohort_hpgsim_over_roadrunner"] = hp / rr_rate
    out["ratio_cohort_hpgsim_over_scipy"] = hp / out["scipy_cohort_subjects_per_s"]
    text = json.dumps(out, indent=2)
    print(text)
    if not args.quick:
        RESULTS.write_text(text + "\n")
        say(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""Cohort bands: the 5th, 50th and 95th percentile of each analyte across virtual men.

The members are the requested subject with between-subject variability
(:func:`hpgsim.validation.cohort.sample_parameters`, reproducible by seed), simulated by
:func:`hpgsim.engine.simulate_batch` in chunks so that a background job can report progress
and be cancelled between chunks. Members whose solve fails are left out and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from threading import Lock

import numpy as np

from hpgsim.engine import simulate_batch
from hpgsim.regimen.model import Regimen
from hpgsim.simulation import SimulationOptions
from hpgsim.subjects import Subject
from hpgsim.units import analyte
from hpgsim.validation.cohort import member_parameters, sample_parameters
from hpgsim.web.models import Band, CohortOut
from hpgsim.web.service import rounded

QUANTILES = (5.0, 50.0, 95.0)
Report = Callable[[float, str], None]


def cohort_bands(subject: Subject, regimen: Regimen, *, label: str, size: int, seed: int,
                 observables: Sequence[str], step_h: float, chunk: int, lock: Lock,
                 report: Report) -> CohortOut:
    """Bands of ``observables`` over ``size`` members; ``lock`` is held per chunk and
    ``report(fraction, message)`` is called after each (it may raise to cancel)."""
    started = time.perf_counter()
    names = [analyte(n, "observables").name for n in observables]
    members = [(subject, member_parameters(subject, m)) for m in sample_parameters(size, seed)]
    options = SimulationOptions(output_step=step_h)
    parts: list[dict[str, np.ndarray]] = []
    oks: list[np.ndarray] = []
    times = np.zeros(0)
    engine = ""
    report(0.0, f"0 of {size} simulated")
    for first in range(0, size, chunk):
        with lock:
            batch = simulate_batch(members[first:first + chunk], regimen, options, names)
        times, engine = batch.times, batch.engine
        parts.append(batch.observables)
        oks.append(batch.ok)
        done = min(first + chunk, size)
        report(done / size, f"{done} of {size} simulated")
    ok = np.concatenate(oks)
    bands = {}
    for name in names:
        values = np.concatenate([p[name] for p in parts])[ok]
        if values.shape[0] == 0:
            q = np.full((len(QUANTILES), len(times)), np.nan)
        else:
            q = np.percentile(values, QUANTILES, axis=0)
        bands[name] = Band(p5=rounded(q[0]), p50=rounded(q[1]), p95=rounded(q[2]))
    return CohortOut(label=label, size=size, seed=seed, failed=int(size - ok.sum()),
                     times_h=np.round(times, 4).tolist(), bands=bands, engine=engine,
                     elapsed_s=round(time.perf_counter() - started, 3))

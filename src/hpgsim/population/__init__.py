"""Virtual-population trials: arms x a sampled cohort, run in chunks, aggregated as they finish.

    from hpgsim.population import load_trial, run_trial
    summary = run_trial(load_trial("examples/trials/recovery.yaml"), "runs/trial")

See ``spec`` for the trial file, ``simulate`` for a chunk's courses (shared prior), ``run``
for the chunked runs, retries and streaming aggregation, ``stats`` for the statistics,
``backends`` for where chunks run, ``tables`` for CSV/Parquet and ``report`` for the plots and
the HTML page; docs/trials.md for the whole.
"""

from hpgsim.population.run import TrialSummary, run_trial
from hpgsim.population.spec import TrialSpec, load_trial, trial_from_dict

__all__ = ["TrialSpec", "TrialSummary", "load_trial", "run_trial", "trial_from_dict"]

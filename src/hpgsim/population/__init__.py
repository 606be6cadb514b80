"""Virtual-population trials: arms x a sampled cohort, run in chunks, aggregated as they finish.

    from hpgsim.population import load_trial, run_trial
    summary = run_trial(load_trial("examples/trials/recovery.yaml"), "runs/trial")

See ``spec`` for the trial file, ``run`` for the chunked runs and streaming aggregation,
``backends`` for where chunks run and ``report`` for the CSV tables and PNG plots.
"""

from hpgsim.population.run import TrialSummary, run_trial
from hpgsim.population.spec import TrialSpec, load_trial, trial_from_dict

__all__ = ["TrialSpec", "TrialSummary", "load_trial", "run_trial", "trial_from_dict"]

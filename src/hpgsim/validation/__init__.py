"""Validation against published outcomes: target files (``hpgsim-validation/1``), their
statistics, virtual cohorts and the runner behind ``hpgsim validate``.

    from hpgsim.validation import load_targets, run_targets, results_json
    results = run_targets(load_targets(), cohort_size=50)
    print(sum(r.passed for r in results), "of", len(results), "passed")
"""

from hpgsim.validation.cohort import VARIABILITY, sample_parameters, sample_subjects
from hpgsim.validation.runner import (
    Plan,
    TargetResult,
    compile_plan,
    dumps,
    results_json,
    run_target,
    run_targets,
)
from hpgsim.validation.schema import (
    InvalidTarget,
    Measure,
    Target,
    TargetFile,
    TargetFileError,
    bundled_targets_path,
    load_targets,
    parse_targets,
)

__all__ = [
    "VARIABILITY",
    "InvalidTarget",
    "Measure",
    "Plan",
    "Target",
    "TargetFile",
    "TargetFileError",
    "TargetResult",
    "bundled_targets_path",
    "compile_plan",
    "dumps",
    "load_targets",
    "parse_targets",
    "results_json",
    "run_target",
    "run_targets",
    "sample_parameters",
    "sample_subjects",
]

"""Validation against published outcomes: target files (``hpgsim-validation/1``), their
statistics, virtual cohorts, the runner behind ``hpgsim validate``, known misses and the
report.

    from hpgsim.validation import load_targets, run_targets, results_json
    results = run_targets(load_targets(), cohort_size=50)
    print(sum(r.passed for r in results), "of", len(results), "passed")
"""

from hpgsim.validation.cohort import VARIABILITY, sample_parameters, sample_subjects
from hpgsim.validation.known import bundled_known_misses_path, load_known_misses
from hpgsim.validation.report import write_report
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
    "bundled_known_misses_path",
    "bundled_targets_path",
    "compile_plan",
    "dumps",
    "load_known_misses",
    "load_targets",
    "parse_targets",
    "results_json",
    "run_target",
    "run_targets",
    "sample_parameters",
    "sample_subjects",
    "write_report",
]

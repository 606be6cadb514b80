"""Virtual cohorts: subjects drawn around a subject description, and parameter variability.

``sample_subjects`` turns a schema subject (``validation/SCHEMA.md``, "Cohorts") into Subjects:
a number or a word is the same for everyone; ``{mean, sd, min, max}`` is a normal distribution
truncated to ``[min, max]`` (either bound optional); a mapping of categories to weights (summing
to 1) is a categorical mix. ``sample_parameters`` draws one log-normal multiplier (median 1) per
parameter of ``VARIABILITY`` for each subject; it multiplies the subject's own value of that
parameter (after covariates).

Both are reproducible by seed and draw from separate streams (``numpy.random.default_rng([seed,
stream])``) one row per subject (one uniform per distributed key, in sorted key order; one
standard normal per parameter), so that the first ``n`` subjects of a cohort of size ``N >= n``
are the same whatever ``N``, and a constant key draws nothing.

The coefficients of variation below are provisional ([I]): chosen to be of the order of the
published spreads they name, not yet calibrated against the cohort targets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from hpgsim.errors import InputError
from hpgsim.params import Param, ParamTable
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.subjects import Subject

SUBJECT_STREAM = 0
PARAMETER_STREAM = 1
_WEIGHT_SLACK = 1e-6  # mix weights may sum to 1 within this
FloatArray = NDArray[np.float64]

VARIABILITY = ParamTable("Between-subject variability (log-normal multipliers, median 1)", [
    Param("leydig_max", 0.8, "CV", "Leydig capacity: spread of baseline total T",
          "[I] healthy men 19-39 y: 5th-95th percentile 303-852 ng/dL, a log-SD ~0.31 "
          "(Bhasin JCEM 2018 [P]); Lmax BSV 52% in Tornøe BJCP 2007 [C]"
          "; calibrated (docs/calibration.md, block between-subject variability; was 0.30)"),
    Param("fT_setpoint", 0.40, "CV",
          "hypothalamic sex-steroid set point: spread of T at a given Leydig capacity",
          "[I] feedback compensates Leydig differences, so the spread of total T (log-SD ~0.31, "
          "Bhasin JCEM 2018 [P]) needs set-point variation; Keenan Endocrinology 2006 [P] "
          "feedback-sensitivity differences between men. T follows the set point with an "
          "elasticity ~0.6 in the model; CV 0.4 gives T 5th-95th 277-726 ng/dL in men "
          "19-39 y (Travison JCEM 2017 [P]: 303-852; was 333-610 with CV 0.20 on free-T "
          "sensing only)"),
    Param("shbg_scale", 0.35, "CV", "SHBG level",
          "[I] laboratory interval 10-57 nmol/L read as a 95% range (log-SD ~0.44)"),
    Param("sperm_scale", 0.75, "CV", "sperm output of a fully supported testis",
          "[I] WHO 2010 reference men: 5th percentile 15 vs median 73 million/mL (Cooper 2010 "
          "[P]); part of that spread is left to the other parameters (the T set point adds ITT "
          "spread); was 0.80 before the set-point CV rose to 0.4"),
    Param("inhb_scale", 0.56, "CV", "inhibin B per unit of Sertoli function",
          "[I] inhibin B 10th-90th percentile 54.5-247 pg/mL (Grunewald 2013, targets file)"
          "; calibrated (docs/calibration.md, block between-subject variability; was 0.35)"),
    Param("K_ITT", 0.8, "CV", "ITT needed for germ-cell support: depth of suppression on T",
          "[I] 65% (not all) azoospermic at 6 mo of TE 200 mg/wk (WHO Task Force 1990 [P])"
          "; calibrated (docs/calibration.md, block between-subject variability; was 0.30)"),
    Param("apoptosis_factor", 0.30, "CV", "germ-cell loss rate without support", "[I]"),
    Param("K_E_FSH", 0.20, "CV", "direct E2 inhibition of FSH: feedback gain", "[I]"),
    Param("t_half_sert_up", 0.40, "CV", "germ-cell capacity recovery half-time",
          "[I] spread of recovery after hormonal contraception: 67% at 6 mo, 90% at 12 mo to "
          "20 million/mL (Liu Lancet 2006 [P])"),
], namespace="cv.")


def _check_names() -> None:
    known = subject_parameters(Subject())
    unknown = [name for name in VARIABILITY if name not in known]
    if unknown:
        raise ValueError(f"VARIABILITY names unknown model parameters: {unknown}")


_check_names()


def _number(spec: Mapping[str, Any], key: str, field: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{field}.{key}", value, "not a number", "give a finite number")
    return float(value)


def _truncated_normal(spec: Mapping[str, Any], u: FloatArray, field: str) -> list[float]:
    """Normal ``{mean, sd, min, max}`` truncated to ``[min, max]``, by inversion of uniforms."""
    extra = set(spec) - {"mean", "sd", "min", "max"}
    if extra:
        raise InputError(f"{field}.{sorted(extra)[0]}", spec, "unknown distribution key",
                         "write {mean, sd, min, max} (min and max optional)")
    mean = _number(spec, "mean", field)
    sd = _number(spec, "sd", field)
    if mean is None or sd is None or sd < 0.0:
        raise InputError(field, spec, "a distribution needs a mean and an sd >= 0",
                         "write e.g. {mean: 30, sd: 6, min: 18, max: 50}")
    lo = _number(spec, "min", field)
    hi = _number(spec, "max", field)
    lo, hi = -math.inf if lo is None else lo, math.inf if hi is None else hi
    if not lo <= mean <= hi:
        raise InputError(field, spec, "the mean is outside [min, max]", "check min and max")
    if sd == 0.0:
        return [mean] * len(u)
    a, b = ndtr((lo - mean) / sd), ndtr((hi - mean) / sd)
    return [float(v) for v in np.clip(mean + sd * ndtri(a + (b - a) * u), lo, hi)]


def _categorical(spec: Mapping[str, Any], u: FloatArray, field: str) -> list[Any]:
    """A mix ``{category: weight}``: category i where u falls in the i-th share of [0, 1)."""
    categories = list(spec)
    weights = np.array([_number(spec, k, field) for k in spec], dtype=float)
    if np.any(weights < 0.0) or abs(float(weights.sum()) - 1.0) > _WEIGHT_SLACK:
        raise InputError(field, dict(spec), "mix weights must be >= 0 and sum to 1",
                         "write e.g. {asian: 0.35, non_asian: 0.65}")
    edges = np.cumsum(weights) / weights.sum()
    picks = np.minimum(np.searchsorted(edges, u, side="right"), len(categories) - 1)
    return [categories[i] for i in picks]


def sample_subjects(subject_spec: Mapping[str, Any], size: int, seed: int,
                    field: str = "subject") -> list[Subject]:
    """``size`` subjects drawn from ``subject_spec`` (schema keys; distributions and mixes)."""
    if size < 1:
        raise InputError("cohort.size", size, "a cohort needs at least one subject",
                         "give size >= 1")
    drawn = sorted(k for k, v in subject_spec.items() if isinstance(v, Mapping))
    u = np.random.default_rng([seed, SUBJECT_STREAM]).uniform(size=(size, len(drawn)))
    columns: dict[str, list[Any]] = {k: [v] * size for k, v in subject_spec.items()
                                     if k not in drawn}
    for j, key in enumerate(drawn):
        spec = subject_spec[key]
        draw = _truncated_normal if "mean" in spec else _categorical
        columns[key] = draw(spec, u[:, j], f"{field}.{key}")
    return [Subject.from_dict({k: col[i] for k, col in columns.items()}, field)
            for i in range(size)]


def sample_parameters(size: int, seed: int) -> list[dict[str, float]]:
    """``size`` sets of log-normal parameter multipliers (median 1, CV of ``VARIABILITY``)."""
    z = np.random.default_rng([seed, PARAMETER_STREAM]).standard_normal((size, len(VARIABILITY)))
    sigma = np.array([math.sqrt(math.log1p(cv**2)) for cv in VARIABILITY.values_dict().values()])
    multipliers = np.exp(z * sigma)
    return [{name: float(row[j]) for j, name in enumerate(VARIABILITY)} for row in multipliers]


def member_parameters(subject: Subject, multipliers: Mapping[str, float]) -> dict[str, float]:
    """Parameter overrides for one cohort member: its own values times ``multipliers``."""
    own = subject_parameters(subject)
    return {name: own[name] * m for name, m in multipliers.items()}

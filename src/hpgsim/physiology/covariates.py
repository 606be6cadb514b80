"""From a Subject's covariates to model parameters.

Each effect is a multiplier on a reference-man parameter, with its source. The typical man
(30 y, 80 kg, non-Asian, healthy, no baseline labs) gets every multiplier equal to 1.
"""

from __future__ import annotations

from functools import lru_cache

from hpgsim.params import Param, ParamTable, overrides_key
from hpgsim.physiology.individualize import individualize
from hpgsim.physiology.model import default_parameters
from hpgsim.subjects import Subject

PARAMS = ParamTable("Covariate effects", [
    Param("leydig_age_slope", 0.00524, "1/y", "relative loss of Leydig capacity per year over 30 (gain below 30)",
          "[I] total T -0.8 to -1.6%/y with partial LH compensation (MMAS, Feldman JCEM 2002 [P])"
          "; calibrated (docs/calibration.md, block age; was 0.010)"),
    Param("gnrh_age_slope", 0.00625, "1/y", "relative loss of GnRH pulse mass per year over 30",
          "[I] aging lowers the efficacy of GnRH->LH, LH->T and T feedback (Keenan Endocrinology 2006 [P]); normative T 15.4 nmol/L at 19, 13.0 at 40 (Kelsey 2014 [P])"
          "; calibrated (docs/calibration.md, block age; was 0.010)"),
    Param("ptd_leydig_max", 0.0781, "1", "Leydig capacity in primary testicular dysfunction",
          "[I] primary hypogonadism: high LH (~15 IU/L) with low T (~270 ng/dL, 9 nmol/L); "
          "Klinefelter men in Zhang 1998 [P] had T < 10 nmol/L"
          "; calibrated (docs/calibration.md, block leydig response; was 0.2)"),
    Param("ptd_germ_max", 0.3, "1", "germ-cell capacity in primary testicular dysfunction", "[I]"),
])

SCALE_NAMES = ("aromatase_scale", "lh_scale", "fsh_scale", "leydig_max", "shbg_scale",
               "germ_max", "sperm_scale", "inhb_scale", "testis_volume_scale")


def subject_parameters(subject: Subject, base: dict[str, float] | None = None) -> dict[str, float]:
    """Model parameters for ``subject``: tabulated values with covariate multipliers applied,
    individualised to its baseline labs. With the default ``base`` the result is cached per
    subject (individualisation costs a small fit), and a fresh copy is returned each time."""
    if base is None:
        return dict(_default_subject_parameters(subject, overrides_key()))
    return _subject_parameters(subject, base)


@lru_cache(maxsize=4096)
def _default_subject_parameters(subject: Subject, _overrides: object) -> dict[str, float]:
    return _subject_parameters(subject, default_parameters())


def _subject_parameters(subject: Subject, base: dict[str, float]) -> dict[str, float]:
    p = dict(base)
    for name in SCALE_NAMES:
        p.setdefault(name, 1.0)
    c = PARAMS.values_dict()
    age_over = subject.age_years - 30.0
    w = subject.weight_kg / 80.0
    p["leydig_max"] *= min(max(1.0 - c["leydig_age_slope"] * age_over, 0.2), 1.3)
    p["m_endo"] *= min(max(1.0 - c["gnrh_age_slope"] * age_over, 0.2), 1.3)
    p["shbg_scale"] *= (1.0 + p["shbg_age_slope"] * age_over) * w ** p["shbg_weight_exponent"]
    p["aromatase_scale"] *= w ** p["aromatase_weight_exponent"]
    if subject.ancestry == "asian":
        p["K_ITT"] *= p["K_ITT_asian_factor"]
    if subject.testis_volume_ml is not None:
        ratio = subject.testis_volume_ml / p["testis_volume_ref"]
        p["sperm_scale"] *= ratio
        p["testis_volume_scale"] *= ratio
    if subject.condition == "gnrh_deficient":
        p["m_endo"] = p["m_endo_gnrh_deficient"]
        p["maturity_floor"] = p["maturity_floor_gnrh_deficient"]
    elif subject.condition == "primary_testicular_dysfunction":
        p["leydig_max"] *= c["ptd_leydig_max"]
        p["germ_max"] *= c["ptd_germ_max"]
    labs = subject.baseline_labs
    return individualize(p, labs) if labs else p

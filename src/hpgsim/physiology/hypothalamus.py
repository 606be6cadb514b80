"""Hypothalamus: mean-field GnRH drive = pulse frequency x pulse mass.

Free T slows pulse frequency; E2 (at the estrogen receptor, blockable by SERMs) slows frequency
and lowers pulse mass (Pitteloud JCEM 2008; Spijkstra tamoxifen study). No individual pulses are
simulated; a GnRH pump adds its own pulses in the same units (normal-pulse equivalents).
"""

from __future__ import annotations

from typing import Any

from hpgsim.params import Param, ParamTable

PARAMS = ParamTable("Hypothalamus (mean-field GnRH pulse generator)", [
    Param("f_max", 13.3 / 12.0, "pulses/h", "pulse frequency without sex-steroid feedback",
          "ketoconazole-treated normal men 13.3 pulses/12 h (Pitteloud JCEM 2008;93:784) [P]"),
    Param("fT_ref", 0.531, "1", "fraction of f_max left by free T at reference",
          "[I] T add-back halves frequency (13.3 -> 6.7/12 h, Pitteloud 2008 [P]); TE 50 mg/wk halves LH (Matsumoto 1990 [P])"
          "; calibrated (docs/calibration.md, block androgen feedback; was 0.5)"),
    Param("n_fT", 5, "1", "Hill exponent of free-T inhibition of frequency", "[I]"
          "; calibrated (docs/calibration.md, block androgen feedback; was 3.0)"),
    Param("fE_ref", 0.95, "1", "fraction of f_max left by E2 at reference",
          "[I] E2 add-back cut frequency ~25% (11.4 -> 8.6/12 h, Pitteloud 2008 [P])"
          "; calibrated (docs/calibration.md, block estrogen feedback; was 0.82)"),
    Param("n_fE", 2.0, "1", "Hill exponent of E2 inhibition of frequency", "[I]"),
    Param("mE_ref", 0.3, "1", "fraction of maximal pulse mass left by E2 at reference",
          "[I] with fE_ref and the pituitary E2 term, full ER block raises LH ~2.8x "
          "(clomiphene 100 mg/d x 7 d: 24-h LH +180%, physiology.md 2.8 [P])"
          "; calibrated (docs/calibration.md, block estrogen feedback; was 0.51)"),
    Param("fT_setpoint", 1.0, "1",
          "hypothalamic sex-steroid (free T and E2) feedback threshold relative to the reference man",
          "normalisation; the set point differs between men (between-subject CV in "
          "validation/cohort.py VARIABILITY)"),
    Param("m_endo", 1.0, "normal pulses", "endogenous pulse mass at reference", "normalisation"),
    Param("m_endo_gnrh_deficient", 0.02, "normal pulses", "residual pulse mass in congenital GnRH deficiency",
          "[I] IHH men have absent or apulsatile LH (Liu Fertil Steril 1988 [P])"),
])


def ref_ratio(fraction_left: Any, n: Any) -> Any:
    """(x_ref/K) such that 1/(1+(x_ref/K)^n) equals ``fraction_left`` (floats or symbols)."""
    return (1.0 / fraction_left - 1.0) ** (1.0 / n)

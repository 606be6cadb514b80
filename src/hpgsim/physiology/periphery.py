"""Periphery: serum T from Leydig output plus drugs, SHBG/albumin binding, aromatase -> E2.

Serum T and E2 clear in about an hour, so they are algebraic (quasi-steady) functions of their
production; only SHBG, which turns over in days, is a state. Free T by Vermeulen's mass-action
equation (Vermeulen JCEM 1999).
"""

from __future__ import annotations

import math
from typing import Any

from hpgsim.params import Param, ParamTable
from hpgsim.units import T_NG_DL_PER_NMOL_L

PARAMS = ParamTable("Periphery (binding, aromatase, SHBG)", [
    Param("K_shbg", 1.0e9, "L/mol", "SHBG-T association constant", "Vermeulen JCEM 1999 [P]"),
    Param("K_alb", 3.6e4, "L/mol", "albumin-T association constant", "Vermeulen JCEM 1999 [P]"),
    Param("albumin_mw", 69000.0, "g/mol", "albumin molar mass", "Vermeulen JCEM 1999 [P]"),
    Param("E2_testis_share", 0.2, "1", "share of reference E2 secreted by the testis",
          "<=20% testicular, ~80% peripheral aromatisation (drugs.md 7) [S]"),
    Param("shbg_T_exponent", 0.2, "1", "SHBG target ~ (total T / reference)^-exponent",
          "[I] supraphysiological androgens lower SHBG; SHBG recovers slowly after AAS (physiology.md 2.7 [P])"),
    Param("t_half_shbg", 5.0 * 24.0, "h", "SHBG turnover half-time", "[I] no human value read"),
    Param("shbg_age_slope", 0.008, "1/y", "relative SHBG rise per year of age over 30",
          "[I] cross-sectional 30 -> 42 nmol/L from ~30 to 80 y (Yeap 2007 [P]); MMAS longitudinal +1.3%/y (Feldman JCEM 2002 [P])"),
    Param("shbg_weight_exponent", -0.8, "1", "SHBG ~ (weight/80 kg)^exponent", "[I] SHBG lower in obesity"),
    Param("aromatase_weight_exponent", 0.5, "1", "aromatase ~ (weight/80 kg)^exponent",
          "[I] adipose aromatisation rises with weight"),
])


def free_testosterone_nmol(tt_nmol: Any, shbg_nmol: Any, albumin_g_l: float,
                           k_shbg: float, k_alb: float, albumin_mw: float) -> Any:
    """Free T (nmol/L) from total T and SHBG (nmol/L) by Vermeulen's quadratic (arrays allowed).

    TT = FT*(1 + Ka*Alb) + SHBG*K*FT/(1 + K*FT), solved for FT in mol/L.
    """
    tt = tt_nmol * 1e-9
    shbg = shbg_nmol * 1e-9
    n = 1.0 + k_alb * albumin_g_l / albumin_mw
    a = n * k_shbg
    b = n + k_shbg * (shbg - tt)
    return 2.0 * tt / (b + (b * b + 4.0 * a * tt) ** 0.5) * 1e9


def nmol_from_ng_dl(x: Any) -> Any:
    return x / T_NG_DL_PER_NMOL_L


LN2 = math.log(2.0)

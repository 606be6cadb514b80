"""The reference man: the labs a typical healthy 30-year-old holds at steady state.

The physiology is *normalised* to this man: every production term is scaled so that, with no
drug and default covariates, the steady state reproduces these values exactly, and feedback
thresholds are expressed relative to them. Calibration then moves dimensionless shape
parameters, never the unit bookkeeping.
"""

from hpgsim.params import Param, ParamTable

REFERENCE = ParamTable("Reference man (typical 30-year-old, no drug)", [
    Param("T_ref", 480.0, "ng/dL", "serum total testosterone",
          "[I] 16.6 nmol/L: between the harmonized median of men 19-39 y, 531 ng/dL (Travison JCEM 2017 [P]) and the normative 15.4 nmol/L at 19 / 13.0 at 40 (Kelsey PLoS One 2014 [P])"),
    Param("LH_ref", 5.0, "IU/L", "serum LH", "Tornøe BJCP 2007 LH0 4.76 IU/L [C]; controls 5.2 IU/L (AAS study, physiology.md 2.7) [P]"),
    Param("FSH_ref", 3.9, "IU/L", "serum FSH",
          "[I] fertile men mean 3.5 IU/L (vasectomy candidates) [P]; controls 4.9 IU/L (physiology.md 2.7 [P]); "
          "3.9 keeps the mean of a healthy cohort (Northeast US 2.1-4.9 [P]) inside its interval once men "
          "with FSH above the reference desensitise (t_half_fsh_tolerance); was 4.0"),
    Param("E2_ref", 25.0, "pg/mL", "serum estradiol", "men 10-57 pg/mL, mean ~25 (drugs.md 7) [S]; Leder JCEM 2004 26-27 pg/mL [P]"),
    Param("SHBG_ref", 30.0, "nmol/L", "serum SHBG",
          "[I] young men ~30 nmol/L, rising to ~42 nmol/L at 70-89 y (Yeap JCEM 2007 [P]) with shbg_age_slope"),
    Param("InhB_ref", 140.0, "pg/mL", "serum inhibin B",
          "[I] normozoospermic men median 130.5 pg/mL (Grunewald 2013 [P]); healthy men ~170 (Kelsey 2016 [P]); fertile 255 (Fertil Steril 2000 [P]); "
          "140 puts the cohort mean (Northeast US 132, 95% CI 114-155 [P]) and the share above Grunewald's 90th percentile inside their intervals; was 150"),
    Param("sperm_ref", 64.0, "million/mL", "sperm concentration", "WHO 2010 reference population median 73 (Cooper 2010) [P]; unselected men ~64 [I]"),
    Param("ITT_ref", 1174.0, "nmol/L", "intratesticular testosterone", "Coviello JCEM 2005: 1174 nmol/L, ~100x serum [P]"),
    Param("albumin", 43.0, "g/L", "serum albumin", "Vermeulen JCEM 1999 calculator default [P]"),
    Param("testis_volume_ref", 36.0, "mL", "both testes together", "[I] 2 x 18 mL, typical adult orchidometer volume"),
    Param("semen_volume", 3.0, "mL", "ejaculate volume", "WHO 2010 median ~3-3.7 mL (Cooper 2010) [P]; 3.0 chosen [I]"),
    Param("pulse_interval_ref", 95.0 / 60.0, "h", "endogenous GnRH/LH pulse interval",
          "LH pulses every 95 +/- 11 min in men (Veldhuis JCEM 1987;65:929) [P]"),
])

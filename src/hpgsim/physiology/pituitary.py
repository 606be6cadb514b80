"""Pituitary gonadotropes: GnRH receptor (desensitisation, down-regulation), LH and FSH pools.

Receptor occupancy is mean-field: endogenous and pump pulses occupy it for a short duty cycle;
an agonist in plasma (gonadorelin bolus, leuprolide depot) occupies it continuously. Sustained
occupancy desensitises (hours) and down-regulates (days) the receptor, which is what separates
pulsatile from continuous GnRH (Heinze AJP 1998; Romero JPET 2012). LH and FSH are synthesised
into pools and released by the GnRH signal (Tornøe BJCP 2007 pool structure).
"""

from __future__ import annotations

import math

from hpgsim.params import Param, ParamTable

PARAMS = ParamTable("Pituitary (GnRH receptor, LH and FSH)", [
    Param("tau_pulse", 10.0 / 60.0, "h", "receptor occupancy time per GnRH pulse (duty-cycle width)",
          "[I] portal GnRH pulses last minutes; GnRH t1/2 2.6-5.2 min (LHRH PK in men [P])"),
    Param("theta50_des", 0.6, "1", "time-averaged occupancy giving half-maximal desensitisation",
          "[I] physiological duty cycle (~0.1) must not desensitise; continuous agonist must; "
          "the fast pulses of a man without T feedback (duty ~0.25) must not either, so that LH "
          "rises 3-5x in primary hypogonadism (0.4 capped it at ~1.5x)"),
    Param("n_des", 6.0, "1", "steepness of desensitisation vs occupancy", "[I]"),
    Param("w_continuous", 1.0, "1", "gonadotrope signal per unit of continuous occupancy, relative to pulsed occupancy",
          "[I] 100 ug IV GnRH: LH peak ~3x basal at 20-30 min (Bang EJE 2017 [P])"),
    Param("k_des", 0.007, "1/h", "maximal receptor desensitisation rate (t1/2 ~4 d under continuous agonist)",
          "[I] depot agonist: T flare ~2x peaking day 1-3, back below baseline ~day 6 (LEUPRO targets [P])"),
    Param("k_res", 0.00035, "1/h", "receptor resensitisation rate", "[I] k_des/20: ~95% desensitised under continuous agonist"),
    Param("k_rsyn", 0.0007, "1/h", "receptor resynthesis rate",
          "[I] down-regulation as reduced receptor synthesis (Romero JPET 2012 [P])"),
    Param("k_down", 0.0063, "1/h", "maximal receptor down-regulation rate",
          "[I] depot agonist: castrate T in ~3 weeks (Bouchot 1998: 22 d [P]); daily agonist blunts LH in week 2 [P]"),
    Param("pE_ref", 0.64, "1", "fraction of gonadotrope responsiveness left by E2 at reference",
          "[I] E2 lowered LH amplitude 14.7 -> 12 IU/L in GnRH-deficient men (Pitteloud 2008 [P])"
          "; calibrated (docs/calibration.md, block estrogen feedback; was 0.85)"),
    Param("k_rel_LH", math.log(2.0) / 48.0, "1/h", "LH pool turnover (release) rate at reference signal",
          "[I] pool t1/2 2 d; Tornøe BJCP 2007 fitted 0.00241/h (12 d) to agonist data [C], too slow "
          "for LH suppressed by day 4 of TE (Gårevik 2014 [P])"),
    Param("t_half_LH", 1.3, "h", "serum LH half-life", "Tornøe BJCP 2007 degarelix study [C]; 30-78 min to 136 min elsewhere [P]"),
    Param("capG_floor", 0.35, "1", "gonadotrope capacity kept without any GnRH drive",
          "[I] GnRH-deficient men still release LH to a first GnRH bolus (50 ug IV: LH 8.3 IU/L, physiology.md 2.10 [P])"),
    Param("K_capG", 0.3, "1", "GnRH signal giving half of the gonadotrope capacity target (relative)", "[I]"),
    Param("t_half_capG_down", 14.0 * 24.0, "h", "gonadotrope capacity loss half-time without GnRH",
          "[I] LH stays suppressed weeks after AAS; recovery LH 10.7 months in long-term users (physiology.md 2.7 [P])"),
    Param("t_half_capG_up", 21.0 * 24.0, "h", "gonadotrope capacity recovery half-time (no damage)", "[I]"),
    Param("a_FSH", 1.2, "1", "exponent of the GnRH signal on FSH (FSH less GnRH-dependent than LH)",
          "[I] FSH falls less and slower than LH after GnRH antagonists (Pavlou JCEM 1989 [P])"
          "; calibrated (docs/calibration.md, block androgen feedback; was 0.7)"),
    Param("c_freq_FSH", 0.195, "1", "strength of FSH preference for slow pulse frequency",
          "[I] form (1+c)/(1+c*(f/f_ref)^2) after GynCycle 1/(1+(freq/f)^5) (Röblitz 2013 [C])"
          "; calibrated (docs/calibration.md, block androgen feedback; was 0.5)"),
    Param("K_inh", 1.0, "1", "inhibin B (relative) halving FSH synthesis drive", "[I]"),
    Param("n_inh", 1.5, "1", "Hill exponent of inhibin B on FSH", "[I]"),
    Param("K_E_FSH", 1.26, "1", "E2 at the ER (relative) for direct pituitary inhibition of FSH",
          "[I] FSH, like LH and T, is inversely related to serum E2 when E2 is clamped during "
          "letrozole (Raven JCEM 2006 [P]); FSH rises on SERMs and aromatase inhibitors and falls "
          "to ~3% on TE 200 mg/wk (Coviello JCEM 2005 [P])"
          "; calibrated (docs/calibration.md, block androgen feedback; was 1.0)"),
    Param("n_E_FSH", 3.12, "1", "Hill exponent of E2 on FSH synthesis", "[I] calibrated (calibration/plan.yaml)"
          "; calibrated (docs/calibration.md, block androgen feedback; was 3.0)"),
    Param("fsh_constitutive", 0.04, "1",
          "share of reference FSH secreted as it is made (constitutive route), without GnRH pulses",
          "[I] basal FSH 2.8 IU/L in GnRH-deficient men rose only to 13.6 after 43 GnRH doses "
          "(physiology.md 2.10 [P]); FSH falls less than LH after GnRH antagonists (Pavlou JCEM "
          "1989 [P]); at most ~0.04 so that TE 100 mg/wk still suppresses FSH > 80% (Amory/"
          "Matsumoto J Androl 2001 [P])"),
    Param("k_rel_FSH", math.log(2.0) / 72.0, "1/h", "FSH pool turnover rate", "[I] no human value found"),
    Param("t_half_FSH", 3.5, "h", "serum FSH effective half-life", "[I] 3-4 h suggested (drugs.md 7) [S]"),
])

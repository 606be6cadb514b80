"""Testis: Leydig cells (T production), intratesticular T, Sertoli support, spermatogenesis.

Leydig T production follows Tornøe's LH -> T Emax link, modulated by fast LH-receptor
desensitisation (hCG data), steroidogenic enzyme induction (days) and a slow trophic capacity
(Leydig mass, weeks-months). Spermatogenesis is a germ-cell transit chain driven by ITT and FSH,
then an epididymal reserve. A suppression-damage integrator slows every recovery after long,
deep suppression (Liu Lancet 2006: longer treatment, slower recovery). Long exposure to serum T
far above physiological (anabolic-steroid doses) leaves a lasting androgen injury that lowers
the attainable Leydig capacity and the hypothalamic free-T set point, repaired over years.
A testis-maturity state (1 in adult men) stands for pubertal Sertoli maturation: in congenital
GnRH deficiency it starts near 0 and must be induced by ITT and FSH over months before germ
cells complete meiosis.
"""

from __future__ import annotations

import math

from hpgsim.params import Param, ParamTable

DAY = 24.0

PARAMS = ParamTable("Testis (Leydig, Sertoli, spermatogenesis)", [
    Param("Lmax", 77.5, "1", "maximal LH stimulation of T production", "Tornøe BJCP 2007 [C]"),
    Param("L50", 5.18, "IU/L", "LH (or LH-equivalent) for half-maximal stimulation", "Tornøe BJCP 2007 [C]"),
    Param("kappa", 1.02, "1", "Hill exponent of LH on T production", "Tornøe BJCP 2007 [C]"
          "; calibrated (docs/calibration.md, block leydig response; was 1.9)"),
    Param("hcg_Dmax", 40.0, "IU/L LH", "maximal Leydig drive by hCG, in serum-LH equivalents",
          "[I] hCG 125/250/500 IU EOD on TE 200 mg/wk keeps ITT at 75/93/126% of baseline, a "
          "1.7x response to a 4x dose (Coviello JCEM 2005 [P]), yet hCG 6000 IU doubles T "
          "(x2.4 at 72-96 h, physiology.md 2.9 [P]; hCG test T +110%, Bang EJE 2017 [P], "
          "drugs.md 2): a shallow occupancy curve (hcg_n) with a high ceiling; no "
          "LH-equivalence factor found (drugs.md 2)"
          "; calibrated (docs/calibration.md, block leydig response; was 10.0, then 6.25 with "
          "a hyperbolic occupancy that capped hCG 6000 IU at T x1.4)"),
    Param("hcg_EC50", 240.0, "IU/L", "serum hCG giving half of hcg_Dmax", "[I] as hcg_Dmax"
          "; calibrated (docs/calibration.md, block leydig response; was 3.0, then 1.88)"),
    Param("hcg_n", 0.5, "1", "Hill exponent of the hCG occupancy (drive) curve",
          "[I] < 1: graded drive over a 40-fold serum hCG range (3 IU/L on hCG 125 IU EOD to "
          "~130 IU/L after 6000 IU IM), as both the Coviello 2005 ITT doses and the 6000-IU "
          "doubling of T require; LH/hCG receptors bind with negative cooperativity (Urizar "
          "EMBO J 2005 [S], not checked against the paper)"),
    Param("K_DL", 30.0, "IU/L", "LH-equivalent drive for half-maximal Leydig desensitisation",
          "[I] hCG 6000 IU: a second dose at 24 h adds nothing (physiology.md 2.9 [P])"),
    Param("k_dL", 0.008, "1/h", "maximal Leydig desensitisation rate by LH(-equivalent) drive", "[I]"
          "; refitted with k_dL_hcg and t_half_rL (block leydig response; was 0.03)"),
    Param("k_dL_hcg", 0.006, "1/h", "Leydig desensitisation rate per unit hCG occupancy",
          "[I] sustained hCG occupancy down-regulates the LH/hCG receptor more than pulsatile "
          "LH (hCG clears ~10x more slowly, drugs.md 2): after hCG 6000 IU T is back to "
          "baseline by 144 h while hCG is still measurable (physiology.md 2.9 [P]); on hCG "
          "2000 IU twice weekly T stays mid-normal in HH men (Mao AJA 2017 [P])"),
    Param("t_half_rL", 150.0, "h", "Leydig resensitisation half-time",
          "[I] desensitisation outlasts the 6000-IU T peak (baseline by 144 h, physiology.md "
          "2.9 [P]); refitted with k_dL_hcg (block leydig response; was 36, from 'responses "
          "intact with hCG every 5 d' [P], which 150 h only partly keeps)"),
    Param("K_lesion", 19.0, "IU/L LH", "hCG drive halving steroidogenesis (acute lesion)",
          "[I] hCG 6000 IU: T x1.6 at 4 h then a plateau before the second peak at 72-96 h "
          "(physiology.md 2.9 [P]): an early, reversible steroidogenic block at very high hCG "
          "occupancy (17,20-lyase, estradiol-mediated: Forest & Saez JCEM 1979 [S], not "
          "checked); only hCG doses of thousands of IU reach it"),
    Param("n_lesion", 5.0, "1", "steepness of the acute steroidogenic lesion", "[I] as K_lesion"),
    Param("K_E", 15.6, "IU/L", "LH-equivalent for half-maximal steroidogenic enzyme induction",
          "[I] hCG 6000 IU: T x1.6 at 4 h then x2.4 at 72-96 h (physiology.md 2.9 [P])"
          "; calibrated (docs/calibration.md, block leydig response; was 8.0)"),
    Param("t_half_E", 14.0, "h", "enzyme induction/decay half-time",
          "[I] second T peak at 72-96 h after hCG, back to baseline by 144 h [P]"
          "; refitted with the hCG lesion (block leydig response; was 24)"),
    Param("K_ML", 0.3, "IU/L", "LH-equivalent for half-maximal Leydig trophic support", "[I]"
          "; calibrated (docs/calibration.md, block leydig response; was 1.0)"),
    Param("t_half_ML_down", 30.0 * DAY, "h", "Leydig capacity atrophy half-time without LH", "[I]"),
    Param("t_half_ML_up", 45.0 * DAY, "h", "Leydig capacity recovery half-time (no damage)",
          "[I] LH recovers before T after AAS (physiology.md 2.7 [P])"),
    Param("t_half_T_out", 2.0, "h", "lag of serum T behind the Leydig drive",
          "[I] hCG 6000 IU: T x1.6 within 4 h (physiology.md 2.9 [P]); Tornøe effective T t1/2 7.7 h [C]"),
    Param("adrenal_T_fraction", 0.03, "1", "LH-independent (adrenal) share of reference serum T",
          "[I] castrate T < 50 ng/dL; Tornøe LH-independent share 2-3% [C]"),
    Param("itt_partition", 1.5, "1", "ITT per unit serum T (nmol/L) entering the testis from blood",
          "[I] TE 200 mg/wk: ITT 72 nmol/L with LH at 5% (Coviello JCEM 2005 [P])"),
    Param("K_ITT", 0.15, "1", "ITT (relative) for half-maximal germ-cell support",
          "[I] hCG keeping ITT at 75% preserves spermatogenesis; ITT -94% abolishes it (Coviello 2005 [P])"),
    Param("n_ITT", 4.0, "1", "steepness of ITT support",
          "[I] threshold-like: complete spermatogenesis kept despite an 80% fall in "
          "seminiferous-tubule T, lost steeply below (rat: Zirkin Endocrinology 1989 [P]); in "
          "men ITT at 75% keeps spermatogenesis and ITT -94% abolishes it (Coviello JCEM 2005 "
          "[P]); sperm ~50% of placebo on TE 50 mg/wk (Matsumoto JCEM 1990 [P]) yet 65% "
          "azoospermic on 200 mg/wk (WHO Task Force Lancet 1990 [P]); was 3.0 (0.29 of baseline "
          "at 50 mg/wk, 53% azoospermic at 200 mg/wk)"),
    Param("K_ITT_asian_factor", 1.5, "1", "K_ITT multiplier in men of East-Asian ancestry",
          "[I] Asian men suppress faster and more completely on T (Liu Lancet 2006 [P])"),
    Param("K_FSH_S", 0.2, "1", "FSH (relative) for half-maximal FSH support of spermatogenesis",
          "[I] no human dose-response; half-maximal at ~1 IU/L. Lowered with n_ITT 3 -> 4 so that "
          "TE 50 mg/wk keeps sperm at ~0.4 of baseline (Matsumoto JCEM 1990 [P]: ~0.5) while "
          "azoospermia on 200 mg/wk stays near 65% (WHO Task Force Lancet 1990 [P]); FSH with "
          "LH suppressed restores sperm only partly (hFSH in T-suppressed men: ~1/3 of control, "
          "Matsumoto J Clin Invest 1983 [P]); was 0.3"),
    Param("t_half_fsh_tolerance", 9.0 * 30.4 * DAY, "h",
          "half-time of Sertoli FSH-receptor desensitisation to FSH above normal",
          "[I] FSH receptors desensitise under sustained FSH (homologous desensitisation [S]); "
          "after long suppression sperm plateaus at or below baseline (85%: Handelsman Hum "
          "Reprod 2005 [P]) though FSH stays ~1.2x for a year, while half of men pass their "
          "baseline within 6.7 months (WHO Lancet 1990 [P]): 9 months meets both (6 months: no "
          "median return to baseline; 12 months: 1.005x at a year after 900 mg/wk, Smit 2021)"),
    Param("phi_FSH", 0.35, "1", "share of germ-cell support that needs no FSH",
          "[I] T alone sustains reduced spermatogenesis; FSH alone partial (JCEM 1973 [P])"),
    Param("n_chain", 8.0, "stages", "germ-cell transit stages", "[I]"),
    Param("n_chain_apoptotic", 5.0, "stages", "leading stages that die without ITT/FSH support",
          "[I] structural: the later stages (elongating spermatids, ~n/8 of the 64-d transit "
          "each) complete once formed, so sperm output falls after a delay"),
    Param("t_spermatogenesis", 64.0 * DAY, "h", "germ-cell transit time, spermatogonium to sperm",
          "64-74 d (physiology.md 2.7) [S]"),
    Param("support_max", 1.5, "1", "germ-cell support above which spermatogenic entry rises no further",
          "[I] Sertoli-cell number bounds the germ cells a testis carries (Sharpe, Reproduction "
          "2003 [S]); 1.0 would keep every man at or below his baseline after suppression "
          "(recovery plateau ~85%: Handelsman Hum Reprod 2005 [P]) but then no man returns to "
          "baseline, against a median 6.7 months (WHO Task Force Lancet 1990 [P])"),
    Param("apoptosis_factor", 1.0, "1", "germ-cell loss rate / transit rate when support is absent",
          "[I] suppression half-time 5.5 w, T10 6.8 w (Handelsman Hum Reprod 2005 [P])"
          "; calibrated with 5 of 8 stages apoptotic (docs/calibration.md, block "
          "spermatogenesis kinetics; was 0.45 with all 8)"),
    Param("t_half_epi", 5.0 * DAY, "h", "epididymal reserve flush half-time",
          "Garrett Hum Reprod 2005: 5-d half-life after a 15-18 d lag [P]"),
    Param("sertoli_loss", 0.371, "1", "share of germ-cell capacity lost under complete suppression without damage (-> 1 as damage accumulates)",
          "[I] recovery after 3 y of suppression slower than after 6 mo (Liu Lancet 2006 [P]); recovery to 20 M/mL 13.6 w after 70 w TE (Handelsman 2005 [P])"
          "; calibrated (docs/calibration.md, block spermatogenesis kinetics; was 0.8)"),
    Param("t_half_sert_down", 90.0 * DAY, "h", "germ-cell capacity loss half-time under suppression", "[I]"),
    Param("t_half_sert_up", 300.0, "h", "germ-cell capacity recovery half-time (no damage)",
          "[I] recovery t50 10.5 w, 13.6 w to 20 M/mL (Handelsman 2005 [P]); 3.4 mo median (Liu 2006 [P])"
          "; calibrated (docs/calibration.md, block spermatogenesis kinetics; was 60.0 * DAY); "
          "at the lower bound of the search"),
    Param("inhB_germ_share", 0.195, "1", "share of inhibin B that depends on late germ cells",
          "[I] inhibin B fell only to 75% under T+progestin suppression (Matthiesson Hum Reprod 2003 [P])"
          "; calibrated (docs/calibration.md, block spermatogenesis kinetics; was 0.5)"),
    Param("t_half_damage_in", 180.0 * DAY, "h", "time of full suppression accumulating one damage unit",
          "[I] longer AAS or TRT -> slower recovery (physiology.md 2.7 [P]; Liu 2006 [P])"),
    Param("t_half_damage_out", 2.0 * 365.0 * DAY, "h", "damage repair half-time", "[I]"),
    Param("T_injury", 3.0, "1", "serum total T (x T_ref) above which androgen injures Leydig cells "
          "and resets the hypothalamus",
          "[I] TRT (TE 100-150 mg/wk, mean T 1.6-2.4x baseline in the model) and contraceptive "
          "TE 200 mg/wk (3.2x) are followed by recovery (Liu Lancet 2006 [P]); AAS doses "
          "(500-900 mg/wk, 8-14x) leave lasting low T (Rasmussen PLoS One 2016 [P]; Kanayama "
          "Addiction 2015 [P])"),
    Param("t_half_injury_in", 40.0 * 7.0 * DAY, "h",
          "half-time of androgen-injury accrual while serum T is far above T_injury",
          "[I] former AAS users 2.5 y after stopping: median T 14.4 vs 18.8 nmol/L, 27% < 12.1 "
          "(Rasmussen PLoS One 2016 [P]); a 13-w 900 mg/wk cycle: T back to baseline at 3 mo "
          "(Smit Hum Reprod 2021 [P])"),
    Param("t_half_injury_out", 6.0 * 365.0 * DAY, "h", "androgen-injury repair half-time",
          "[I] deficit still present a mean 2.5 (1.7-3.7) y after AAS cessation (Rasmussen PLoS "
          "One 2016 [P]); past users after a median 300 d: T 21.5 vs 29.8 nmol/L in non-users, "
          "not significant (Shankara-Narayana JCEM 2020 [P])"),
    Param("injury_central_share", 0.5, "1",
          "fractional fall of the free-T set point per unit androgen injury",
          "[I] past AAS users: T 21.5 vs 29.8 nmol/L with LH 5.5 vs 5.2 IU/L in non-users "
          "(Shankara-Narayana JCEM 2020 [P]); Rasmussen 2016 [P] found gonadotropins suppressed "
          "only in current users. Low T without high LH is partly central; in the model a Leydig "
          "loss alone raises LH ~2x for a 15% fall of T"),
    Param("t_half_maturation", 6.0 * 30.4 * DAY, "h",
          "testis (Sertoli) maturation half-time at reference ITT and FSH",
          "[I] congenital HH: median time to first sperm 6 months on pulsatile GnRH (normal FSH) "
          "and 18 months on hCG/hMG (low FSH), Mao Asian J Androl 2017 [P]; pulsatile GnRH gives "
          "1.3-3.2x the FSH of hCG/hMG (Liu JCEM 1988 [P])"),
    Param("t_half_maturity_loss", 2.0 * 365.0 * DAY, "h",
          "relaxation half-time of testis maturity to its floor without gonadotropins",
          "[I] slow; keeps the drug-free state unique"),
    Param("n_maturity", 4.0, "1", "exponent of testis maturity on germ-cell entry into meiosis",
          "[I] spermatogenesis needs mature Sertoli cells: first sperm appear only after months "
          "of treatment in congenital HH (Mao 2017 [P]; Liu JCEM 1988 [P])"),
    Param("n_maturity_FSH", 1.5, "1", "exponent of FSH (relative) on the testis maturation rate",
          "[I] FSH drives pubertal Sertoli maturation: pulsatile GnRH (1.3-3.2x the FSH of "
          "hCG/hMG, Liu JCEM 1988 [P]) gives first sperm 3x sooner (6 vs 18 months, Mao 2017 [P])"),
    Param("maturity_floor", 1.0, "1", "testis maturity kept without gonadotropins",
          "[I] Sertoli maturation at puberty is terminal: adult men keep it under suppression"),
    Param("maturity_floor_gnrh_deficient", 0.0, "1",
          "testis maturity kept without gonadotropins in congenital GnRH deficiency",
          "[I] prepubertal testes (< 4 mL) without pubertal maturation (Liu JCEM 1988 [P])"),
    Param("tubule_volume_share", 0.7, "1", "share of testis volume that scales with germ-cell content",
          "[I] seminiferous tubules are most of testis volume"),
])

LN2 = math.log(2.0)

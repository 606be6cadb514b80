"""Drug actions on the axis: ER blockade (SERMs), aromatase inhibition, GnRH-receptor agonism
and antagonism, LH-receptor drive (hCG, hMG) and the mean-field gonadorelin pump.

Concentrations come from the PK layer (``hpgsim.drugs``) by species name; each effect here is
an Emax function of them. Several agents of one class combine by competitive occupancy.
"""

from hpgsim.params import Param, ParamTable

PARAMS = ParamTable("Pharmacodynamics", [
    Param("serm_Imax", 1.0, "1", "maximal ER blockade by SERMs (hypothalamus and pituitary)",
          "[I] competitive antagonists without intrinsic activity at the hypothalamic ER: blockade "
          "equals occupancy (enclomiphene, the trans isomer, is the pure antagonist: Wiehle "
          "Fertil Steril 2014 [P]); was 0.95, which left clomiphene 50 mg EOD 1% short of "
          "Taylor 2010's T (TAYLOR10-CC50)"),
    Param("IC50_enclomiphene", 0.2, "ng/mL", "enclomiphene for half-maximal ER blockade",
          "[I] CC 25 mg/d (ENC 2.2 ng/mL) raises LH ~50% and T x2.4 in hypogonadal men (Helo BJU Int 2017 [P])"
          "; calibrated (docs/calibration.md, block estrogen feedback; was 1.5)"),
    Param("IC50_zuclomiphene", 200.0, "ng/mL", "zuclomiphene for half-maximal ER blockade",
          "[I] zuclomiphene is a weak antagonist with estrogenic action; it accumulates to ~44 ng/mL (Helo 2017 [P])"),
    Param("IC50_tamoxifen", 120.0, "ng/mL", "tamoxifen (parent) for half-maximal ER blockade",
          "[I] 20 mg/d raises LH 1.7 -> 4.1 IU/L (drugs.md 5 [P]); endoxifen 30-100x more potent [L]"),
    Param("IC50_endoxifen", 3.0, "ng/mL", "endoxifen for half-maximal ER blockade", "[I] 30-100x tamoxifen potency [L]"),
    Param("AI_Imax_anastrozole", 0.55, "1", "maximal aromatase inhibition by anastrozole",
          "[I] men 1 mg/d: E2 -35% with T +67% (Leder JCEM 2004 [P]); ~50% (Mauras 2000 [P]); part of male E2 escapes (non-aromatase-inhibited sources, LH-driven T rise)"),
    Param("IC50_anastrozole", 0.5, "ng/mL", "anastrozole for half-maximal aromatase inhibition",
          "[I] E2 effect already maximal at ~8 ng/mL (1 mg twice weekly = daily, Leder 2004 [P])"),
    Param("AI_Imax_letrozole", 0.98, "1", "maximal aromatase inhibition by letrozole",
          "[I] 2.5 mg/d: E2 -46% young, -62% elderly men (drugs.md 6.2 [P])"
          "; calibrated (docs/calibration.md, block estrogen feedback; was 0.9)"),
    Param("IC50_letrozole", 0.5, "ng/mL", "letrozole for half-maximal aromatase inhibition", "[I]"),
    Param("KD_gonadorelin", 0.1, "ng/mL", "plasma gonadorelin for half GnRH-receptor occupancy",
          "[I] 10 ug SC (Cmax ~0.1 ng/mL) gives a near-maximal LH response (Hurley JCEM 1987 [P])"),
    Param("KD_leuprolide", 0.05, "ng/mL", "plasma leuprolide for half GnRH-receptor occupancy",
          "[I] triptorelin 0.061 ng/mL keeps 95% castrate (Romero JPET 2012 [P])"),
    Param("Imax_degarelix", 0.942, "1", "maximal GnRH-receptor block by degarelix", "Tornøe BJCP 2007 [C]"),
    Param("IC50_degarelix", 1.49, "ng/mL", "degarelix for half-maximal block", "Tornøe BJCP 2007 [C]"),
    Param("gamma_degarelix", 1.97, "1", "Hill exponent of degarelix", "Tornøe BJCP 2007 [C]"),
    Param("pump_Emax", 1.0, "normal pulses", "maximal pulse mass of an exogenous GnRH pulse",
          "[I] congenital HH on 10 ug SC every 90 min: T 8.3 nmol/L vs 16.2 on hCG/hMG (Mao Asian J "
          "Androl 2017 [P]); T lower on pulsatile GnRH than on hCG/hMG (Liu JCEM 1988 [P]); LH "
          "60 min after a pump pulse 4.3 IU/L in CHH responders (Arch Endocrinol Metab, scielo aem [P]); was 2.0"),
    Param("pump_D50", 6.0, "ug", "bioavailable gonadorelin per pulse giving half of pump_Emax",
          "[I] 5-20 ug every 90-120 min (143-714 ng/kg q2h SC) normalises T in IHH (Liu Fertil Steril 1988 [P])"),
])

"""The feedback loop as the page draws it: the model's internal signals over a course, and
where each drug class acts.

The signals are recomputed from the raw states of a :class:`~hpgsim.result.Result` with
:meth:`hpgsim.physiology.model.Physiology.signals`, under the same drug levels the solver saw.
Relative signals are 1 for the typical man at rest (the model's normalisation); blockades and
occupancies are fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.pk import build_exposure
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.model import IDX, NO_DRUG, DrugLevels, Physiology
from hpgsim.result import Result

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Signal:
    """A signal of the loop: where it lives and what its number means."""

    name: str
    label: str
    organ: str  # hypothalamus | pituitary | testes | periphery
    unit: str  # "x typical" (relative), "fraction" or a clinical unit
    description: str


SIGNALS = (
    Signal("pulse_frequency", "GnRH pulse frequency", "hypothalamus", "x typical",
           "pulses per hour; slowed by free T and by E2 at the estrogen receptor"),
    Signal("pulse_mass", "GnRH per pulse", "hypothalamus", "x typical",
           "GnRH released per pulse; lowered by E2"),
    Signal("er_block", "Estrogen receptor blocked", "hypothalamus", "fraction",
           "share of E2 feedback blocked by SERMs"),
    Signal("gnrh_signal", "GnRH signal", "pituitary", "x typical",
           "GnRH delivered (pulses x mass, pump, agonist) times responsive receptors"),
    Signal("receptor_available", "Responsive GnRH receptors", "pituitary", "x typical",
           "receptors present and not desensitised; continuous agonist exposure lowers it"),
    Signal("agonist_occupancy", "Agonist receptor occupancy", "pituitary", "fraction",
           "GnRH receptors held by a continuously present agonist"),
    Signal("leydig_drive", "Leydig drive (LH + hCG)", "testes", "IU/L",
           "LH plus hCG in LH equivalents"),
    Signal("t_production", "Testicular T production", "testes", "x typical",
           "Leydig T secretion"),
    Signal("germ_support", "Germ-cell support", "testes", "x typical",
           "support of spermatogenesis by intratesticular T and FSH"),
    Signal("aromatase_inhibition", "Aromatase inhibited", "periphery", "fraction",
           "share of T to E2 conversion blocked by aromatase inhibitors"),
)


@dataclass(frozen=True)
class DrugSite:
    """Where a drug class acts in the loop, and how."""

    organ: str
    action: str


DRUG_SITES: dict[str, DrugSite] = {
    "androgen": DrugSite("periphery", "adds serum T (not intratesticular T); its feedback "
                         "slows GnRH and lowers LH and FSH"),
    "lh_receptor_agonist": DrugSite("testes", "acts like LH on Leydig cells: T production and "
                                    "intratesticular T"),
    "fsh_receptor_agonist": DrugSite("testes", "acts like FSH on Sertoli cells: supports "
                                     "spermatogenesis and inhibin B"),
    "gonadotropin": DrugSite("testes", "LH and FSH activity on Leydig and Sertoli cells"),
    "gnrh_agonist": DrugSite("pituitary", "GnRH receptor agonist: pulses stimulate LH and FSH; "
                             "continuous exposure desensitises the receptor"),
    "gnrh_antagonist": DrugSite("pituitary", "blocks the GnRH receptor: LH and FSH fall at once"),
    "serm": DrugSite("hypothalamus", "blocks E2 at the estrogen receptor: faster GnRH pulses, "
                     "more LH and FSH"),
    "aromatase_inhibitor": DrugSite("periphery", "blocks aromatase: less T converted to E2, "
                                    "weaker E2 feedback"),
}


def _named(model: Physiology, s: Mapping[str, Any], y: Any) -> dict[str, Any]:
    """The SIGNALS from the model's signal dict ``s`` at state(s) ``y``."""
    receptors = y[IDX["receptor_total"]] * (1.0 - y[IDX["receptor_desensitised"]])
    return {
        "pulse_frequency": s["f"] / model.f_ref,
        "pulse_mass": s["mass"] / model.p["m_endo"],
        "er_block": s["er_block"],
        "gnrh_signal": s["S"],
        "receptor_available": receptors / (model.R_T0 * (1.0 - model.D_R0)),
        "agonist_occupancy": s["theta_c"],
        "leydig_drive": s["drive"],
        "t_production": s["r_T"],
        "germ_support": s["support"],
        "aromatase_inhibition": s["ai"],
    }


def loop_signals(result: Result, overrides: Mapping[str, float] | None = None
                 ) -> tuple[dict[str, FloatArray], dict[str, float]]:
    """The SIGNALS over ``result`` (at its output times) and at the subject's drug-free start;
    ``overrides``: the parameter overrides the course was simulated with."""
    model = Physiology(subject_parameters(result.subject) | dict(overrides or {}))
    exposure = build_exposure(result.regimen.boluses(), result.regimen.pumps(),
                              float(result.times[-1]))
    seg = exposure.segment_of(result.times)
    levels = DrugLevels(result.drugs, exposure.pump_rate[seg], exposure.pump_dose[seg])
    ones = np.ones_like(result.times)
    course = {k: np.asarray(v, dtype=float) * ones
              for k, v in _named(model, model.signals(result.states, levels),
                                 result.states).items()}
    y0 = result.states[:, 0]
    start = {k: float(v) for k, v in _named(model, model.signals(y0, NO_DRUG), y0).items()}
    return course, start

"""Individualise the model to a man's baseline labs.

Each baseline lab moves the one parameter that most directly sets it (a multiplier on the
reference-man value), solved jointly so that the drug-free steady state reproduces the labs:

| lab | parameter | why |
|---|---|---|
| total T | ``leydig_max`` (Leydig capacity) | T production per unit LH |
| LH | ``m_endo`` (GnRH pulse mass) | central drive; low T with low LH is then central |
| FSH | ``fsh_scale`` | FSH secretion per unit GnRH signal |
| E2 | ``aromatase_scale`` | peripheral aromatisation |
| sperm concentration | ``sperm_scale`` | spermatogenic output (linear, exact) |

A total T without an LH is read with the LH of a typical man of the same covariates: most men
with low T have normal or low LH (EMAS: secondary 11.8%, primary 2.0% of men 40-79 y; Tajar,
JCEM 2010 [P]), so a low T moves central drive and Leydig capacity together instead of making
every such man a primary (high-LH) hypogonadal one. Where that pairing cannot be reproduced,
T alone moves Leydig capacity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import least_squares

from hpgsim.errors import InputError
from hpgsim.physiology.model import NO_DRUG, Physiology
from hpgsim.physiology.steady import steady_state

LAB_PARAMETER = {
    "total_testosterone": "leydig_max",
    "lh": "m_endo",
    "fsh": "fsh_scale",
    "estradiol": "aromatase_scale",
}
MAX_LOG_MULTIPLIER = 5.0  # e^5 ~ 150x: beyond this the lab is not explained by this model


def individualize(params: Mapping[str, float], labs: Mapping[str, float]) -> dict[str, float]:
    """Parameters whose drug-free steady state reproduces ``labs`` (canonical units)."""
    if "total_testosterone" in labs and "lh" not in labs:
        model = Physiology(params)
        typical_lh = float(model.observables(steady_state(model), NO_DRUG)["lh"])
        try:
            return _individualize(params, {**labs, "lh": typical_lh})
        except InputError:
            pass
    return _individualize(params, labs)


def _individualize(params: Mapping[str, float], labs: Mapping[str, float]) -> dict[str, float]:
    p = dict(params)
    names = [lab for lab in LAB_PARAMETER if lab in labs]
    if names:
        base = np.array([p[LAB_PARAMETER[lab]] for lab in names])
        target = np.log([labs[lab] for lab in names])
        guess: list[np.ndarray] = []

        def residual(logm: np.ndarray) -> np.ndarray:
            trial = dict(p)
            for lab, value in zip(names, base * np.exp(logm), strict=True):
                trial[LAB_PARAMETER[lab]] = float(value)
            model = Physiology(trial)
            y = steady_state(model, guess[-1] if guess else None)
            guess.append(y)
            obs = model.observables(y, NO_DRUG)
            return np.log([max(float(obs[lab]), 1e-12) for lab in names]) - target

        fit = least_squares(residual, np.zeros(len(names)), xtol=1e-10, ftol=1e-10,
                            bounds=(-MAX_LOG_MULTIPLIER, MAX_LOG_MULTIPLIER))
        worst = int(np.argmax(np.abs(fit.fun)))
        if abs(fit.fun[worst]) > 0.01:
            lab = names[worst]
            raise InputError(f"subject.{lab}", labs[lab],
                             "the model cannot reproduce this baseline together with the others",
                             "check the value and its unit, or leave it out")
        for lab, value in zip(names, base * np.exp(fit.x), strict=True):
            p[LAB_PARAMETER[lab]] = float(value)
    if "sperm_concentration" in labs:
        model = Physiology(p)
        sperm = float(model.observables(steady_state(model), NO_DRUG)["sperm_concentration"])
        if sperm <= 0.0:
            raise InputError("subject.sperm_concentration_million_per_ml",
                             labs["sperm_concentration"],
                             "this subject makes no sperm at baseline in the model",
                             "leave the sperm baseline out for this condition")
        p["sperm_scale"] *= labs["sperm_concentration"] / sperm
    return p

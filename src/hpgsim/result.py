"""The outcome of one simulation: times, observables in clinical units, drug levels, status."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hpgsim.regimen.model import Regimen
from hpgsim.subjects import Subject
from hpgsim.units import ANALYTES, HOURS_PER, analyte

FloatArray = NDArray[np.float64]
DISCLAIMER = ("hpgsim is a research and education tool, not medical advice: predictions come from "
              "a model with known limitations and must not guide treatment.")


@dataclass(frozen=True)
class Result:
    """A simulated course.

    ``times`` in hours from time 0 (first dose). ``observables[name]`` in the canonical unit of
    ``hpgsim.units.ANALYTES[name]``; ``baseline[name]`` is the steady-state value before time 0.
    ``drugs[species]`` are drug concentrations in ``drug_units[species]``.
    ``states``/``state_names``: the raw ODE state, for diagnostics and tests.
    """

    times: FloatArray
    observables: dict[str, FloatArray]
    baseline: dict[str, float]
    drugs: dict[str, FloatArray]
    drug_units: dict[str, str]
    states: FloatArray
    state_names: tuple[str, ...]
    subject: Subject
    regimen: Regimen
    warnings: tuple[str, ...] = field(default=())

    @property
    def days(self) -> FloatArray:
        return self.times / HOURS_PER["d"]

    def get(self, name: str, unit: str | None = None) -> FloatArray:
        """An observable (alias allowed: ``T``, ``E2``...) or ``drug_concentration:<species>``."""
        if name.startswith("drug_concentration:"):
            species = name.split(":", 1)[1]
            if species in self.drugs:
                return self.drugs[species]
            return np.zeros_like(self.times)
        a = analyte(name)
        values = self.observables[a.name]
        return values if unit is None else values * a.factor(unit)

    def at(self, name: str, t_hours: float, unit: str | None = None) -> float:
        """Linear interpolation of an observable at ``t_hours`` (baseline before time 0)."""
        if t_hours < 0.0 and not name.startswith("drug_concentration:"):
            a = analyte(name)
            return self.baseline[a.name] * (a.factor(unit) if unit else 1.0)
        return float(np.interp(t_hours, self.times, self.get(name, unit)))

    @property
    def observable_names(self) -> tuple[str, ...]:
        return tuple(n for n in ANALYTES if n in self.observables)

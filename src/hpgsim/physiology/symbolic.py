"""The physiology traced into sympy expressions: the one source for code generation and SBML.

``Physiology`` is written once against :mod:`hpgsim.physiology.mathops`; running it on sympy
symbols instead of numbers records every equation as an expression tree, so the compiled engine
(:mod:`hpgsim.engine`) and the SBML export (:mod:`hpgsim.interop.sbml`) never hold a second,
hand-written copy of the model.

Every model parameter is traced as a symbol (the names of ``subject_parameters(Subject())``,
in that order), so generated code takes the whole parameter vector as input and any parameter
may vary between subjects. The structural constant ``n_chain`` (number of germ-cell stages) sets
the state layout and is read from its table, so overriding it changes the transit rate but not
the number of stages, exactly as in the numpy model. Time is in hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from hpgsim.physiology.covariates import subject_parameters
from hpgsim.physiology.mathops import sympy_ops
from hpgsim.physiology.model import DRUG_INPUTS, STATE_NAMES, DrugLevels, Physiology
from hpgsim.subjects import Subject

PUMP_RATE = "pump_rate"  # GnRH pump pulses per hour (mean field)
PUMP_DOSE = "pump_dose"  # bioavailable gonadorelin per pump pulse, ug
DRUG_PREFIX = "C_"  # drug concentration symbols: C_<species>, in the catalog's unit


def parameter_names() -> tuple[str, ...]:
    """Every model parameter, in the order of the parameter vector of the compiled engine."""
    return tuple(subject_parameters(Subject()))


@dataclass(frozen=True)
class SymbolicModel:
    """The traced model.

    ``rhs[i]`` is d(state i)/dt in 1/h times the state's unit, a function of ``states``,
    ``params``, ``drugs`` (concentrations in :data:`DRUG_INPUTS` order), ``pump_rate`` and
    ``pump_dose``; ``observables[name]`` is the observable in its canonical unit
    (``hpgsim.units.ANALYTES``). Symbols are named after the state, parameter and drug species
    (drugs with the prefix ``C_``); the names are disjoint.
    """

    parameter_names: tuple[str, ...]
    params: tuple[Any, ...]
    states: tuple[Any, ...]
    drugs: tuple[Any, ...]
    pump_rate: Any
    pump_dose: Any
    rhs: tuple[Any, ...]
    observables: dict[str, Any]


@cache
def trace() -> SymbolicModel:
    """Trace the right-hand side and observables (about 1 s; cached for the process)."""
    import sympy as sp

    names = parameter_names()
    params = tuple(sp.Symbol(n) for n in names)
    states = tuple(sp.Symbol(n) for n in STATE_NAMES)
    drugs = tuple(sp.Symbol(DRUG_PREFIX + n) for n in DRUG_INPUTS)
    pump_rate, pump_dose = sp.Symbol(PUMP_RATE), sp.Symbol(PUMP_DOSE)
    every = [s.name for s in (*params, *states, *drugs, pump_rate, pump_dose)]
    if len(set(every)) != len(every):
        clash = sorted({n for n in every if every.count(n) > 1})
        raise ValueError(f"model symbol names collide: {clash}; rename the state or parameter")
    model = Physiology(dict(zip(names, params, strict=True)), ops=sympy_ops())
    levels = DrugLevels(dict(zip(DRUG_INPUTS, drugs, strict=True)), pump_rate, pump_dose)
    rhs = tuple(sp.sympify(e) for e in model.rhs(list(states), levels))
    obs = {k: sp.sympify(v) for k, v in model.observables(list(states), levels).items()}
    return SymbolicModel(names, params, states, drugs, pump_rate, pump_dose, rhs, obs)

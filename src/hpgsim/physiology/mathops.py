"""The few non-arithmetic operations the model uses, for numpy values or sympy symbols.

The right-hand side is written once against this namespace, so it can run on floats and
arrays (numpy) or be traced into symbolic expressions (sympy) for code generation and SBML
export without a second hand-written copy of the equations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MathOps:
    """where(cond, a, b), minimum, maximum, power, log, under one name per backend."""

    name: str
    where: Callable[[Any, Any, Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    power: Callable[[Any, Any], Any]
    log: Callable[[Any], Any]


NUMPY = MathOps("numpy", np.where, np.minimum, np.maximum, np.power, np.log)


def sympy_ops() -> MathOps:
    """The sympy backend (sympy imported lazily: it is only needed for export and codegen)."""
    import sympy as sp

    return MathOps("sympy", lambda c, a, b: sp.Piecewise((a, c), (b, True)), sp.Min, sp.Max,
                   sp.Pow, sp.log)

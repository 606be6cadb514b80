"""Interface of the generated model source (hpgsim.engine.codegen), for type checkers only.

The compiled engine module is the generated model followed by ``kernels.py``; the kernels call
these names. Arrays are 1-d float64; ``y`` in STATE_NAMES order, ``p`` in PARAMETER_NAMES order,
``q`` the derived constants, ``c`` drug concentrations in DRUG_INPUTS order (catalog units).
"""

import numpy as np
from numpy.typing import NDArray

N_STATES: int
N_PARAMS: int
N_DERIVED: int
N_DRUGS: int
N_OBSERVABLES: int
STATE_NAMES: tuple[str, ...]
PARAMETER_NAMES: tuple[str, ...]
OBSERVABLE_NAMES: tuple[str, ...]

def derived(p: NDArray[np.float64], q: NDArray[np.float64]) -> None: ...
def rhs(y: NDArray[np.float64], p: NDArray[np.float64], q: NDArray[np.float64],
        c: NDArray[np.float64], pump_rate: float, pump_dose: float,
        dy: NDArray[np.float64]) -> None: ...
def observables(y: NDArray[np.float64], p: NDArray[np.float64], q: NDArray[np.float64],
                c: NDArray[np.float64], pump_rate: float, pump_dose: float,
                out: NDArray[np.float64]) -> None: ...
def prange(n: int) -> range: ...

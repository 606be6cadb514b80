"""hpgsim: a simulator of the male hypothalamic-pituitary-gonadal axis.

Research and education tool, not medical advice.

    import hpgsim as hs
    r = hs.simulate(hs.Subject(age_years=35), hs.parse_regimen("TC 150 mg q7d x 52w"))
"""

from hpgsim.engine import BatchResult, simulate_batch
from hpgsim.errors import DoseWarning, HpgsimError, InputError, SolverError
from hpgsim.regimen import load_protocol, parse_regimen
from hpgsim.regimen.model import Phase, Regimen, RegimenLine
from hpgsim.result import DISCLAIMER, Result
from hpgsim.simulation import SimulationOptions, simulate
from hpgsim.subjects import Subject

__all__ = [
    "DISCLAIMER",
    "BatchResult",
    "DoseWarning",
    "HpgsimError",
    "InputError",
    "Phase",
    "Regimen",
    "RegimenLine",
    "Result",
    "SimulationOptions",
    "SolverError",
    "Subject",
    "load_protocol",
    "parse_regimen",
    "simulate",
    "simulate_batch",
]

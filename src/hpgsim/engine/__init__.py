"""The compiled simulation engine: generated model kernels, numba, batches of subjects.

- :func:`simulate_batch` / :class:`BatchResult`: many subjects on one regimen in one call.
- ``SimulationOptions(engine="numba")`` runs :func:`hpgsim.simulate` on the same kernels.

Modules: ``codegen`` (Python source of the model from its sympy trace), ``kernels`` (the
Dormand-Prince integrator, drug input, steady state; a template linked after the generated
model), ``link`` (build, disk cache and load of the compiled module), ``run`` (arrays in and
out), ``batch`` (cohorts). numba and sympy are optional (the ``fast`` extra); without them every
entry point falls back to scipy.
"""

from hpgsim.engine.batch import BatchResult, simulate_batch
from hpgsim.engine.link import numba_available

__all__ = ["BatchResult", "numba_available", "simulate_batch"]

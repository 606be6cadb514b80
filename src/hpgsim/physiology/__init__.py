"""The HPG-axis physiology: parameter tables by organ, the ODE, covariates, steady state."""

from __future__ import annotations

from hpgsim.params import ParamTable


def parameter_tables() -> tuple[ParamTable, ...]:
    """Every physiology parameter table (reference man, organs, drug actions, covariates)."""
    from hpgsim.physiology import covariates
    from hpgsim.physiology.model import ALL_TABLES

    return (*ALL_TABLES, covariates.PARAMS)


def parameters_markdown() -> str:
    """All parameter tables as Markdown (value, unit, description, source)."""
    return "\n\n".join(t.to_markdown() for t in parameter_tables())

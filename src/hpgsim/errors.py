"""Errors and warnings that hpgsim raises for bad input or failed solves.

Every error names the offending field, the bad value and how to fix it, so that the CLI can
print one line and a population run can record the reason per subject.
"""

from __future__ import annotations


class HpgsimError(Exception):
    """Base class of all hpgsim errors."""


class InputError(HpgsimError, ValueError):
    """A user-supplied value is invalid.

    Attributes:
        field: dotted path of the offending field (e.g. ``phases[1].drugs[0].dose``).
        value: the value as given.
        fix: what the user should do instead.
    """

    def __init__(self, field: str, value: object, problem: str, fix: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        super().__init__(f"{field}: {problem} (got {value!r}). Fix: {fix}")

    def at(self, prefix: str) -> InputError:
        """Return the same error with ``prefix`` prepended to its field path."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return InputError(field, self.value, self.problem, self.fix)


class SolverError(HpgsimError, RuntimeError):
    """The ODE solver failed; the trajectory is not trustworthy and is not returned."""


class DoseWarning(UserWarning):
    """A dose far above clinical use (e.g. anabolic-steroid regimens); simulated anyway."""

"""Parameters that carry their unit, meaning and source.

Source tags follow ``../shared/domain``: [L] label/SmPC, [P] primary paper (abstract read),
[S] secondary source, [C] code/model file read, [I] our own inference or calibration choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

_OVERRIDES: dict[str, float] = {}  # qualified name -> value, set only through ``overridden``


@dataclass(frozen=True)
class Param:
    """One model constant: value, unit, description, and where the value comes from."""

    name: str
    value: float
    unit: str
    description: str
    source: str


class ParamTable(Mapping[str, Param]):
    """An immutable, ordered table of parameters for one organ or drug."""

    def __init__(self, title: str, params: Iterable[Param], namespace: str = "") -> None:
        self.title = title
        self.namespace = namespace  # prefix of this table's names in ``overridden``
        self._params: dict[str, Param] = {}
        for p in params:
            if p.name in self._params:
                raise ValueError(f"duplicate parameter {p.name!r} in table {title!r}")
            self._params[p.name] = p

    def __getitem__(self, key: str) -> Param:
        return self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def values_dict(self) -> dict[str, float]:
        """Name -> value, with any active ``overridden`` values in place of the tabulated ones."""
        return {k: _OVERRIDES.get(self.namespace + k, p.value) for k, p in self._params.items()}

    def to_markdown(self) -> str:
        rows = [f"### {self.title}", "", "| name | value | unit | description | source |",
                "|---|---|---|---|---|"]
        rows += [f"| {p.name} | {p.value:g} | {p.unit} | {p.description} | {p.source} |"
                 for p in self._params.values()]
        return "\n".join(rows)


@contextmanager
def overridden(values: Mapping[str, float]) -> Iterator[None]:
    """Replace tabulated values inside the ``with`` block (calibration, sensitivity analysis).

    Names are qualified by their table's ``namespace`` (e.g. ``cv.leydig_max`` for a
    between-subject CV). Every ``values_dict`` of this process, and of processes forked inside
    the block, sees the new values; ``overrides_key`` changes with them, so caches keyed on it
    stay right.
    """
    saved = dict(_OVERRIDES)
    _OVERRIDES.update(values)
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def overrides_key() -> tuple[tuple[str, float], ...]:
    """The active overrides, hashable (for caches of values derived from the tables)."""
    return tuple(sorted(_OVERRIDES.items()))

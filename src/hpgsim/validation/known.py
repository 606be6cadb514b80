"""Known misses: targets the model misses for a known reason, each with its cause.

A known-miss file is a YAML mapping ``target id -> cause`` (one string: the model limitation
that causes the miss). The bundled file (``data/known_misses.yaml``) describes the bundled
targets; the report lists every miss with its cause, and a listed target that passes as "now
passes".
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from hpgsim.errors import InputError

_FIX = "write one line per target, `TARGET-ID: the model limitation that causes the miss`"


def bundled_known_misses_path() -> Path:
    """The known misses of the bundled targets, shipped beside them."""
    return Path(str(resources.files("hpgsim").joinpath("data", "known_misses.yaml")))


def load_known_misses(path: Path | None = None) -> dict[str, str]:
    """Target id -> cause, from ``path`` (default: the bundled file).

    Raises InputError when the file cannot be read, is not YAML, or is not a mapping of ids to
    non-empty strings. A file holding only comments is an empty mapping.
    """
    p = path if path is not None else bundled_known_misses_path()
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(str(p), str(p), f"cannot read the known-miss file ({err.strerror})",
                         "give the path of an existing known-miss file") from None
    except yaml.YAMLError as err:
        raise InputError(str(p), getattr(err, "problem", None) or str(err),
                         "the known-miss file is not valid YAML", _FIX) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(str(p), type(data).__name__,
                         "the known-miss file must be a mapping of target ids to causes", _FIX)
    for key, cause in data.items():
        if not isinstance(key, str):
            raise InputError(f"{p}: {key!r}", key, "a target id must be text",
                             "quote the id, e.g. '2004-T': ...")
        if not isinstance(cause, str) or not cause.strip():
            raise InputError(f"{p}: {key}", cause, "the cause must be one non-empty string",
                             _FIX)
    return {key: cause.strip() for key, cause in data.items()}

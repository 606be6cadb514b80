"""What the routes share: settings, the model lock, background jobs, examples, patient store."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from fastapi import Request
from pydantic import ValidationError

from hpgsim.web.jobs import JobManager
from hpgsim.web.models import ExampleDetail, ProtocolIn, SubjectIn
from hpgsim.web.settings import Settings

if TYPE_CHECKING:
    from hpgsim.patients.store import Store

logger = logging.getLogger(__name__)


@dataclass
class AppState:
    """Per-app state. ``lock`` serialises all model work (see :mod:`hpgsim.web.service`)."""

    settings: Settings
    jobs: JobManager
    examples: dict[str, ExampleDetail]
    store: Store | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def get_state(request: Request) -> AppState:
    """The app's state (a FastAPI dependency)."""
    state: AppState = request.app.state.hpgsim
    return state


def load_examples(folder: Path | None) -> dict[str, ExampleDetail]:
    """The protocol files of ``folder`` (``*.yaml``) by file stem; a file that is not a valid
    phases or text protocol is skipped with a log line."""
    examples: dict[str, ExampleDetail] = {}
    for path in sorted(folder.glob("*.yaml")) if folder is not None else ():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            subject = data.pop("subject", None)
            protocol = ProtocolIn.model_validate(data)
            examples[path.stem] = ExampleDetail(
                id=path.stem, name=protocol.name or path.stem, description=protocol.description,
                protocol=protocol,
                subject=SubjectIn.model_validate(subject) if subject is not None else None)
        except (OSError, yaml.YAMLError, ValidationError, AttributeError) as err:
            logger.warning("example %s skipped: %s", path, err)
    return examples

"""Server settings: where it binds, who may call it, and how much one request may ask for.

The limits bound the work one request can cause (simulated span, doses, output points, cohort
size, compared protocols) and how often one client may call (a token bucket per client
address), so that a single user cannot exhaust the machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from hpgsim.errors import InputError
from hpgsim.units import HOURS_PER

LOOPBACK_NAMES = ("localhost",)
MIN_TOKEN_CHARS = 8


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) reaches only this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_examples_dir() -> Path | None:
    """The ``examples/`` folder of a source checkout, if this package runs from one."""
    candidate = Path(__file__).resolve().parents[3] / "examples"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True)
class Settings:
    """Where the server binds, its access token, patient store and request limits.

    ``token``: required when ``host`` is not a loopback address; when set, every ``/api`` call
    must send it (``Authorization: Bearer <token>``). ``db``: the patient store (a SQLAlchemy URL
or a SQLite file; None: the store's default location); ``patients=False`` serves no patients.
    Limits: ``max_span_weeks`` (simulated span per protocol), ``max_doses`` (discrete doses per
    protocol), ``max_points`` (output samples per course; the output step grows to stay under
    it), ``max_compare`` (protocols in one comparison), ``max_cohort`` (subjects in one band
    request), ``max_jobs`` (background jobs queued or running), ``rate_per_minute`` (API calls
    per client address and minute). ``warm_up``: load the compiled engine when the app starts.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    db: str | None = None
    patients: bool = True
    examples_dir: Path | None = None
    max_span_weeks: float = 520.0
    max_doses: int = 5000
    max_points: int = 2000
    max_compare: int = 6
    max_cohort: int = 500
    cohort_chunk: int = 50
    max_jobs: int = 4
    rate_per_minute: int = 600
    warm_up: bool = True

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise InputError("host", self.host, "binding an address other than loopback needs "
                             "an access token", "give --token (or bind 127.0.0.1)")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise InputError("token", "***", f"shorter than {MIN_TOKEN_CHARS} characters",
                             "use a long random token, e.g. from `python -c \"import secrets; "
                             "print(secrets.token_urlsafe())\"`")
        if not 0 <= self.port <= 65535:
            raise InputError("port", self.port, "not a TCP port", "give 1 to 65535 (0: any)")
        for name in ("max_doses", "max_points", "max_compare", "max_cohort", "cohort_chunk",
                     "max_jobs", "rate_per_minute"):
            if getattr(self, name) < 1:
                raise InputError(name, getattr(self, name), "must be at least 1", "give 1 or more")
        if not self.max_span_weeks > 0.0:
            raise InputError("max_span_weeks", self.max_span_weeks, "must be positive",
                             "give e.g. 520")

    @property
    def max_span_h(self) -> float:
        """``max_span_weeks`` in hours."""
        return self.max_span_weeks * HOURS_PER["w"]

    @property
    def url(self) -> str:
        """The address the page is served at."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

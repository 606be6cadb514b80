"""Who may call the API, and how often.

- **Token.** When the server has a token, every ``/api`` request must carry it as
  ``Authorization: Bearer <token>`` (compared in constant time); the page and its static files
  are public, and the page asks for the token when the API answers 401.
- **Host.** Without a token the server answers only requests addressed to a loopback name
  (``127.0.0.1``, ``localhost``, ``[::1]``), so a web page elsewhere cannot reach it through DNS
  rebinding.
- **Rate.** A token bucket per client address: ``rate_per_minute`` calls a minute, bursts up to
  the same number; over it, 429 with ``Retry-After``.
- **Headers.** A content security policy that allows only this server's own scripts, styles and
  connections (the page needs nothing from elsewhere), and ``nosniff``.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hpgsim.web.errors import http_error
from hpgsim.web.settings import Settings, is_loopback

API_PREFIX = "/api/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
MAX_CLIENTS = 10_000  # buckets kept; the oldest are dropped beyond this

Handler = Callable[[Request], Awaitable[Response]]


class RateLimiter:
    """Token buckets per client key, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens per second
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token for ``key``: 0 when granted, else seconds until one is available."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.refill
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            if len(self._buckets) > MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            return wait


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def guard(settings: Settings) -> Callable[[Request, Handler], Awaitable[Response]]:
    """The HTTP middleware enforcing host, token and rate, and setting security headers."""
    limiter = RateLimiter(settings.rate_per_minute)
    expected = f"Bearer {settings.token}".encode() if settings.token else None

    async def middleware(request: Request, call_next: Handler) -> Response:
        if expected is None and not is_loopback(_host_name(request)):
            return http_error(421, "host", "this server answers only loopback addresses",
                              "open it as http://127.0.0.1:<port>/")
        if request.url.path.startswith(API_PREFIX):
            given = request.headers.get("authorization", "").encode()
            if expected is not None and not hmac.compare_digest(given, expected):
                return http_error(401, "token", "missing or wrong access token",
                                  "send the header Authorization: Bearer <token>",
                                  {"WWW-Authenticate": "Bearer"})
            client = request.client.host if request.client else "unknown"
            wait = limiter.take(client)
            if wait > 0.0:
                return http_error(429, "rate", f"more than {settings.rate_per_minute} requests "
                                  "a minute", "wait and retry",
                                  {"Retry-After": str(math.ceil(wait))})
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return middleware

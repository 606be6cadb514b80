"""Errors as JSON: every error response is ``{"error": {field, value, problem, fix, message}}``.

- an :class:`~hpgsim.errors.InputError` from the library, or a request body that does not match
  the schema: 422, naming the field as a dotted path (``protocol.phases[0].drugs[1].dose``);
- a :class:`~hpgsim.errors.SolverError`: 422 (this input could not be solved to tolerance);
- an HTTP error (unknown route, wrong method, missing token, rate limit): its status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hpgsim.errors import InputError, SolverError
from hpgsim.web.models import ErrorBody, ErrorOut

MAX_VALUE_CHARS = 200  # a bad value is echoed back at most this long
_FIXES = {400: "send the body as valid UTF-8 JSON", 404: "check the address (see /openapi.json)",
          405: "check the method (see /openapi.json)"}


def _short(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."


def error_body(err: Exception) -> ErrorBody:
    """The JSON error for any exception (an unexpected one says only that it happened)."""
    if isinstance(err, InputError):
        return ErrorBody(field=err.field, value=_short(err.value), problem=err.problem,
                         fix=err.fix, message=str(err))
    if isinstance(err, SolverError):
        return ErrorBody(field="protocol", value=None, problem=str(err),
                         fix="try a shorter or less extreme protocol", message=str(err))
    return ErrorBody(field="", value=None, problem="internal error",
                     fix="report this with the request that caused it",
                     message="internal error")


def error_response(status: int, body: ErrorBody, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse(ErrorOut(error=body).model_dump(), status_code=status, headers=headers)


def http_error(status: int, field: str, problem: str, fix: str,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """An error response that is not about a request value."""
    return error_response(status, ErrorBody(field=field, value=None, problem=problem, fix=fix,
                                            message=f"{field}: {problem}" if field else problem),
                          headers)


def dotted(loc: Sequence[int | str]) -> str:
    """A pydantic location as a dotted path; the leading ``body``/``query``/``path`` dropped."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path") else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, error_body(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "input": None}
    field = dotted(tuple(first.get("loc") or ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    problem = f"{first.get('msg', 'invalid')}{more}"
    fix = "see the request schema at /openapi.json"
    if first.get("type") == "extra_forbidden":
        fix = "remove this key; allowed keys are listed in the schema at /openapi.json"
    body = ErrorBody(field=field, value=_short(first.get("input")), problem=problem, fix=fix,
                     message=f"{field}: {problem}")
    return error_response(422, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    fix = _FIXES.get(exc.status_code, "check the request")
    return http_error(exc.status_code, "", detail, fix,
                      dict(exc.headers) if exc.headers else None)


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(SolverError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)

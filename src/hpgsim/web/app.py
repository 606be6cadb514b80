"""The app factory: ``create_app(settings)`` builds the FastAPI app with its API, page and
static files, security guard, JSON errors, background jobs and (when available) the patient
store."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from hpgsim.result import DISCLAIMER
from hpgsim.web import errors
from hpgsim.web.api import router as api_router
from hpgsim.web.jobs import JobManager
from hpgsim.web.security import guard
from hpgsim.web.settings import Settings, default_examples_dir
from hpgsim.web.state import AppState, load_examples

if TYPE_CHECKING:
    from hpgsim.patients.store import Store

logger = logging.getLogger(__name__)
STATIC = Path(str(files("hpgsim.web").joinpath("static")))


def _warm_up(state: AppState) -> None:
    """Load (or build) the compiled engine before the first request needs it."""
    from hpgsim import SimulationOptions, Subject, parse_regimen, simulate
    from hpgsim.engine import simulate_batch

    regimen = parse_regimen("hCG 1500 IU sc 2x/w x 1w")
    with state.lock:
        try:
            simulate(Subject(), regimen, SimulationOptions(output_step=24.0))
            simulate_batch([Subject()], regimen, SimulationOptions(output_step=24.0), ["T"])
        except Exception:  # warming is an optimisation; the first request will show the error
            logger.exception("engine warm-up failed")


def _open_store(settings: Settings) -> Store | None:
    """The patient store at ``settings.db`` (its default location when None), or None when
    the store's dependencies are not installed or ``settings.patients`` is off."""
    if not settings.patients:
        return None
    try:
        from hpgsim.patients.store import Store

        return Store(settings.db)
    except ImportError as err:  # the patients extra (SQLAlchemy, platformdirs) is missing
        logger.warning("patient store unavailable (%s): patient endpoints disabled", err)
        return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app for ``settings`` (default: loopback, no token, default limits)."""
    settings = settings or Settings()
    state = AppState(settings=settings, jobs=JobManager(settings.max_jobs),
                     examples=load_examples(settings.examples_dir or default_examples_dir()),
                     store=_open_store(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up:
            threading.Thread(target=_warm_up, args=(state,), daemon=True).start()
        yield
        state.jobs.shutdown()
        if state.store is not None:
            state.store.close()

    app = FastAPI(title="hpgsim", version=version("hpgsim"), lifespan=lifespan,
                  description=f"Simulator of the male HPG axis. {DISCLAIMER}",
                  docs_url=None, redoc_url=None)  # Swagger UI would load scripts from a CDN
    app.state.hpgsim = state
    errors.install(app)
    app.middleware("http")(guard(settings))
    app.include_router(api_router)
    if state.store is not None:
        from hpgsim.web.patients import router as patients_router

        app.include_router(patients_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app

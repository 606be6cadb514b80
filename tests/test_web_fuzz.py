"""Fuzz the HTTP API from its own OpenAPI spec (schemathesis): no request gives a 500, and
every response matches the spec.

Bounded: small server limits (short spans, few doses, tiny cohorts) and a fixed number of
examples per operation, so the whole run takes seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'hpgsim[web]'")
schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis (web extra)")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hpgsim import SimulationOptions, Subject, parse_regimen, simulate  # noqa: E402
from hpgsim.engine import simulate_batch  # noqa: E402
from hpgsim.web.app import create_app  # noqa: E402
from hpgsim.web.settings import Settings  # noqa: E402

EXAMPLES_PER_OPERATION = 6
LOOPBACK_HOST = "127.0.0.1"  # without a token the app answers only loopback host names


def warm_engine() -> None:
    """Build or load the compiled engine (single and batch kernels) once."""
    regimen = parse_regimen("TC 100 mg q7d x 1w")
    simulate(Subject(), regimen, SimulationOptions(output_step=24.0))
    simulate_batch([Subject()], regimen, SimulationOptions(output_step=24.0), ["T"])


def _app(tmp: Path) -> object:
    return create_app(Settings(db=str(tmp / "fuzz.sqlite"), warm_up=False, max_span_weeks=30,
                               max_doses=100, max_points=200, max_cohort=4, cohort_chunk=4,
                               max_jobs=2, rate_per_minute=100_000))


schema = schemathesis.pytest.from_fixture("web_schema")


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory: pytest.TempPathFactory) -> object:
    app = _app(tmp_path_factory.mktemp("fuzz"))
    warm_engine()  # a first compilation must not count against the per-call timeout
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers={"Host": LOOPBACK_HOST})


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(base_url=f"http://{LOOPBACK_HOST}", checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance])

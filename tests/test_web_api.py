"""The HTTP API: every endpoint, its errors, the limits, the token, the rate limit, jobs."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'hpgsim[web]'")
from click.testing import CliRunner
from fastapi.testclient import TestClient

import hpgsim as hs
from hpgsim.drugs.catalog import catalog_rows
from hpgsim.errors import InputError
from hpgsim.regimen.protocol import DrugSpec, PhaseSpec, ProtocolSpec
from hpgsim.summary import summarize
from hpgsim.units import ANALYTES
from hpgsim.web.app import create_app
from hpgsim.web.cli import serve_command
from hpgsim.web.jobs import Busy, JobManager, Progress
from hpgsim.web.loop import SIGNALS, loop_signals
from hpgsim.web.models import CohortOut, DrugIn, PhaseIn, ProtocolIn, SubjectIn
from hpgsim.web.security import RateLimiter
from hpgsim.web.service import endpoint_rows, rounded
from hpgsim.web.settings import Settings

BASE = "http://127.0.0.1"
SHORT = {"text": "TC 150 mg im q7d x 4w; then observe 4w", "name": "Short TC"}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _client(tmp: Path, **limits: Any) -> TestClient:
    settings = Settings(db=str(tmp / "patients.sqlite"), warm_up=False, **limits)
    return TestClient(create_app(settings), base_url=BASE)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _client(tmp_path_factory.mktemp("web")) as c:
        yield c


def _error(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["field"] == field
    assert body["problem"]
    assert body["fix"]
    return dict(body)


# --- metadata, catalog, examples ---------------------------------------------------------------

def test_meta_lists_analytes_units_limits_and_the_disclaimer(client: TestClient) -> None:
    meta = client.get("/api/meta").json()
    t = next(a for a in meta["analytes"] if a["name"] == "total_testosterone")
    assert t["units"][:2] == ["ng/dL", "nmol/L"]
    assert t["factors"][1] == pytest.approx(1 / 28.84)
    assert t["reference"] == [264.0, 916.0]
    assert meta["disclaimer"] == hs.DISCLAIMER
    assert {s["name"] for s in meta["signals"]} == {s.name for s in SIGNALS}
    assert meta["patients"] is True
    assert meta["auth"] is False
    assert meta["limits"]["max_cohort"] == Settings().max_cohort


def test_drugs_are_the_catalog_rows(client: TestClient) -> None:
    assert client.get("/api/drugs").json() == catalog_rows()


def test_examples_are_every_protocol_file(client: TestClient) -> None:
    listed = client.get("/api/examples").json()
    assert {e["id"] for e in listed} == {p.stem for p in EXAMPLES.glob("*.yaml")}
    detail = client.get("/api/examples/post_trt_recovery").json()
    assert detail["protocol"]["phases"][0]["drugs"][0]["drug"] == "testosterone_cypionate"
    assert detail["subject"]["age_years"] == 35
    _error(client.get("/api/examples/nope"), 404, "example_id")


def test_request_models_mirror_the_protocol_format_and_subject() -> None:
    def keys(model: Any) -> set[str]:
        return {f.alias or name for name, f in model.model_fields.items()}

    assert keys(DrugIn) == keys(DrugSpec)
    assert keys(PhaseIn) == keys(PhaseSpec)
    assert keys(ProtocolIn) == keys(ProtocolSpec) - {"subject", "regimen"}
    assert set(SubjectIn.model_fields) == {f.name for f in dataclasses.fields(hs.Subject)}


# --- protocol check ----------------------------------------------------------------------------

def test_protocol_check_renders_text_lines_and_dose_marks(client: TestClient) -> None:
    body = {"protocol": {"name": "P", "phases": [{"name": "TRT", "duration": "3 w", "drugs": [
        {"drug": "TC", "dose": "150 mg", "route": "im", "every": "7 d"}]}]}}
    out = client.post("/api/protocol", json=body).json()
    assert out["text"] == "TRT: testosterone_cypionate 150 mg im q7d x 3w; then observe 12w"
    assert [d["t_h"] for d in out["doses"]] == [0.0, 168.0, 336.0]
    assert out["doses"][0]["unit"] == "mg"
    assert out["phases"] == [{"name": "TRT", "start_h": 0.0, "end_h": 504.0}]
    assert out["drug_classes"] == {"testosterone_cypionate": "androgen"}
    assert out["span_h"] == pytest.approx(15 * 168)


def test_an_aas_dose_is_a_warning_not_an_error(client: TestClient) -> None:
    out = client.post("/api/protocol", json={"protocol": {"text": "TE 1000 mg q7d x 4w"}}).json()
    assert any("testosterone_enanthate" in w for w in out["warnings"])


@pytest.mark.parametrize(("protocol", "field"), [
    ({"phases": [{"name": "a", "drugs": [{"drug": "TC", "dose": "150", "every": "7 d"}]}]},
     "protocol.phases[0].drugs[0].dose"),
    ({"phases": [{"name": "a", "drugs": [{"drug": "TC", "dose": "1 mg", "colour": "red"}]}]},
     "protocol.phases[0].drugs[0].colour"),
    ({"phases": [{"name": "a", "drugs": [{"drug": "nandrolone", "dose": "100 mg"}]}]},
     "protocol.phases[0].drugs[0].drug"),
    ({"text": "TC 150 mg q7d", "phases": []}, "protocol.text"),
    ({"text": "TC 150 mg sometimes x 4w"}, "protocol.text"),
    ({"text": "x" * 5000}, "protocol.text"),
])
def test_bad_protocols_name_the_field(client: TestClient, protocol: dict[str, Any],
                                      field: str) -> None:
    _error(client.post("/api/protocol", json={"protocol": protocol}), 422, field)


def test_malformed_json_is_a_json_error(client: TestClient) -> None:
    r = client.post("/api/simulate", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert "error" in r.json()


# --- simulate ----------------------------------------------------------------------------------

def test_simulate_returns_the_library_course(client: TestClient) -> None:
    out = client.post("/api/simulate", json={"protocol": SHORT, "subject": {"age_years": 40}})
    assert out.status_code == 200, out.text
    body = out.json()
    course = body["course"]
    expected = hs.simulate(hs.Subject(age_years=40), hs.parse_regimen(SHORT["text"]),
                           hs.SimulationOptions(output_step=course["output_step_h"]))
    assert course["times_h"] == pytest.approx(expected.times.tolist())
    for name in ANALYTES:
        top = float(np.max(np.abs(expected.observables[name])))
        assert course["series"][name] == pytest.approx(expected.observables[name].tolist(),
                                                       abs=1e-4 * top)
        assert course["baseline"][name] == pytest.approx(expected.baseline[name])
    final_t = summarize(expected).final["total_testosterone"]
    end_t = next(r for r in body["table"] if r["key"] == "end_total_testosterone")
    assert end_t["cells"][0]["value"] == pytest.approx(final_t)
    assert course["drugs"]["testosterone"]["unit"] == "ng/dL"
    assert course["summary"]["schema"] == "hpgsim-summary/1"
    assert set(course["signals"]) == {s.name for s in SIGNALS}
    assert body["disclaimer"] == hs.DISCLAIMER
    assert course["label"] == "Short TC"


def test_the_output_step_grows_to_stay_under_the_point_limit(tmp_path: Path) -> None:
    with _client(tmp_path, max_points=100) as c:
        course = c.post("/api/simulate", json={"protocol": SHORT}).json()["course"]
    assert course["output_step_h"] == np.ceil(8 * 168 / 100)
    assert len(course["times_h"]) <= 100 + 6  # grid plus the dose times


def test_subject_errors_name_the_subject_field(client: TestClient) -> None:
    r = client.post("/api/simulate", json={"protocol": SHORT, "subject": {"age_years": 5}})
    assert "16" in _error(r, 422, "subject.age_years")["fix"]
    r = client.post("/api/simulate", json={"protocol": SHORT, "subject": {"condition": "tired"}})
    _error(r, 422, "subject.condition")


def test_span_and_dose_limits_refuse_oversized_protocols(tmp_path: Path) -> None:
    with _client(tmp_path, max_span_weeks=10, max_doses=20) as c:
        too_long = c.post("/api/simulate", json={"protocol": {"text": "TC 100 mg q7d x 4w"}})
        assert "10 weeks" in _error(too_long, 422, "protocol")["problem"]
        too_many = c.post("/api/simulate", json={"protocol": {
            "text": "hCG 500 IU qd x 5w; then observe 1w"}})
        assert _error(too_many, 422, "protocol")["value"] == "35"


def test_simulate_csv_has_units_in_every_column(client: TestClient) -> None:
    r = client.post("/api/simulate.csv", json={"protocol": SHORT, "units": {"T": "nmol/L"}})
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="Short_TC.csv"' in r.headers["content-disposition"]
    header, first = r.text.splitlines()[:2]
    columns = header.split(",")
    assert columns[:3] == ["time_h", "time_d", "total_testosterone_nmol_L"]
    assert "drug_testosterone_ng_dL" in columns
    expected = hs.simulate(hs.Subject(), hs.parse_regimen(SHORT["text"])).baseline
    assert float(first.split(",")[2]) == pytest.approx(expected["total_testosterone"] / 28.84,
                                                       rel=1e-6)
    bad = client.post("/api/simulate.csv", json={"protocol": SHORT, "units": {"T": "furlong"}})
    _error(bad, 422, "units.total_testosterone")


# --- compare -----------------------------------------------------------------------------------

def test_compare_overlays_courses_and_tabulates_endpoints(client: TestClient) -> None:
    other = {"text": "TE 250 mg im q14d x 4w; then observe 4w", "name": "Short TC"}
    out = client.post("/api/compare", json={"protocols": [SHORT, other]}).json()
    assert [c["label"] for c in out["courses"]] == ["Short TC", "Short TC (2)"]
    rows = {r["key"]: r for r in out["table"]}
    assert rows["recovery_start"]["cells"][0]["week"] == pytest.approx(3.0)
    assert rows["recovery_start"]["cells"][1]["week"] == pytest.approx(2.0)
    assert rows["recovery_total_testosterone"]["threshold"] == 300.0
    assert rows["nadir_lh"]["analyte"] == "lh"
    assert rows["nadir_lh"]["kind"] == "value"
    first = out["courses"][0]["summary"]["final"]["lh"]
    assert rows["end_lh"]["cells"][0]["value"] == pytest.approx(first)


def test_compare_needs_two_and_at_most_the_limit(tmp_path: Path) -> None:
    with _client(tmp_path, max_compare=2) as c:
        _error(c.post("/api/compare", json={"protocols": [SHORT]}), 422, "protocols")
        _error(c.post("/api/compare", json={"protocols": [SHORT] * 3}), 422, "protocols")
        bad = [SHORT, {"text": "TC 1 zz q7d x 1w"}]
        _error(c.post("/api/compare", json={"protocols": bad}), 422, "protocols[1].text")


def test_endpoint_rows_read_the_recovery_clock() -> None:
    none = summarize(hs.simulate(None, hs.parse_regimen("hCG 1500 IU sc 2x/w x 2w"),
                                 hs.SimulationOptions(output_step=6.0)))
    rows = {r.key: r for r in endpoint_rows([none])}
    assert rows["recovery_start"].cells[0].text == "no suppressive dose"
    assert rows["recovery_lh"].cells[0].text == "no suppressive dose"


# --- feedback loop signals ---------------------------------------------------------------------

def test_loop_signals_are_one_at_rest_and_fall_under_testosterone() -> None:
    r = hs.simulate(hs.Subject(), hs.parse_regimen("TC 200 mg im q7d x 8w"),
                    hs.SimulationOptions(output_step=12.0))
    course, start = loop_signals(r)
    for name in ("pulse_frequency", "gnrh_signal", "receptor_available", "t_production"):
        assert start[name] == pytest.approx(1.0, rel=0.1)
    for name in ("er_block", "aromatase_inhibition", "agonist_occupancy"):
        assert start[name] == 0.0
    week6 = int(np.searchsorted(r.times, 6 * 168))
    assert course["gnrh_signal"][week6] < 0.5 * start["gnrh_signal"]
    assert course["leydig_drive"][week6] < 0.5 * start["leydig_drive"]


def test_loop_signals_show_a_serm_blocking_the_estrogen_receptor() -> None:
    r = hs.simulate(hs.Subject(), hs.parse_regimen("clomiphene 50 mg oral qd x 4w"),
                    hs.SimulationOptions(output_step=12.0))
    course, _ = loop_signals(r)
    week3 = int(np.searchsorted(r.times, 3 * 168))
    assert course["er_block"][week3] > 0.3
    assert course["er_block"][-1] < 0.1  # washed out 12 weeks after the last dose


# --- cohort bands and jobs ---------------------------------------------------------------------

def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_cohort_bands_run_as_a_job_with_progress(client: TestClient) -> None:
    start = client.post("/api/cohort", json={"protocol": SHORT, "size": 12, "seed": 3,
                                             "observables": ["T", "sperm"]})
    assert start.status_code == 202
    job = _wait(client, start.json()["id"])
    assert job["status"] == "done"
    assert job["progress"] == 1.0
    result = job["result"]
    assert set(result["bands"]) == {"total_testosterone", "sperm_concentration"}
    band = result["bands"]["sperm_concentration"]
    p5, p50, p95 = (np.array(band[k], dtype=float) for k in ("p5", "p50", "p95"))
    assert np.all(p5 <= p50 + 1e-9)
    assert np.all(p50 <= p95 + 1e-9)
    assert p95[0] > p5[0]  # men differ at baseline
    assert result["failed"] == 0
    assert result["size"] == 12


def test_cohort_limits_and_unknown_jobs(client: TestClient) -> None:
    too_big = client.post("/api/cohort", json={"protocol": SHORT, "size": 100_000})
    _error(too_big, 422, "size")
    bad = client.post("/api/cohort", json={"protocol": SHORT, "observables": ["mood"]})
    _error(bad, 422, "observables[0]")
    _error(client.get("/api/jobs/nope"), 404, "job_id")
    _error(client.delete("/api/jobs/nope"), 404, "job_id")


def test_job_manager_reports_cancels_fails_and_refuses_when_busy() -> None:
    manager = JobManager(max_active=1)
    release = threading.Event()
    seen: list[float] = []

    def slow(progress: Progress) -> CohortOut:
        progress(0.5, "half")
        seen.append(0.5)
        release.wait(10)
        progress(0.9, "almost")  # raises Cancelled once cancelled
        raise AssertionError("not reached")

    job = manager.submit("test", slow)
    with pytest.raises(Busy):
        manager.submit("test", slow)
    while not seen:
        time.sleep(0.01)
    assert manager.get(job.id).progress == 0.5  # type: ignore[union-attr]
    manager.cancel(job.id)
    release.set()
    while manager.get(job.id).status == "running":  # type: ignore[union-attr]
        time.sleep(0.01)
    assert manager.get(job.id).status == "cancelled"  # type: ignore[union-attr]

    def failing(progress: Progress) -> CohortOut:
        raise InputError("size", 0, "too small", "give more")

    failed = manager.submit("test", failing)
    while manager.get(failed.id).status in ("queued", "running"):  # type: ignore[union-attr]
        time.sleep(0.01)
    out = manager.get(failed.id)
    assert out is not None
    assert out.status == "failed"
    assert out.error is not None
    assert out.error.field == "size"
    manager.shutdown()


# --- patients ----------------------------------------------------------------------------------

def test_patient_records_labs_doses_and_forecast(client: TestClient) -> None:
    made = client.post("/api/patients", json={"id": "P-7", "age_years": 34, "weight_kg": 82})
    assert made.status_code == 201, made.text
    assert made.json()["patient"]["birth_date_estimated"] is True
    _error(client.post("/api/patients", json={"id": "P-7"}), 422, "patient")
    _error(client.post("/api/patients", json={"id": "bad id!"}), 422, "patient")
    assert "P-7" in [p["id"] for p in client.get("/api/patients").json()]

    labs = {"labs": [{"taken_at": "2024-01-01", "analyte": "T", "value": "520", "unit": "ng/dL"},
                     {"taken_at": "2024-03-01", "analyte": "LH", "value": "<0.2", "unit": "IU/L"}]}
    detail = client.post("/api/patients/P-7/labs", json=labs).json()
    assert [lab["analyte"] for lab in detail["labs"]] == ["total_testosterone", "lh"]
    assert detail["labs"][1]["censor"] == "<"
    bad = {"labs": [{"taken_at": "2024-01-02", "analyte": "T", "value": "-3", "unit": "ng/dL"}]}
    _error(client.post("/api/patients/P-7/labs", json=bad), 422, "labs[0].value")

    doses = client.post("/api/patients/P-7/doses", json={
        "protocol": {"text": "TC 100 mg im q7d x 8w"}, "start": "2024-01-08"}).json()
    assert len(doses["doses"]) == 8
    assert doses["doses"][0]["given_at"] == "2024-01-08T00:00:00Z"

    out = client.post("/api/patients/P-7/forecast", json={"protocols": [SHORT]}).json()
    assert [c["label"] for c in out["courses"]] == ["History", "Short TC"]
    assert out["t0"] == "2024-01-01T00:00:00Z"  # his first lab, a week before his first dose
    assert out["fitted"] is False
    assert out["baseline_labs"] == {"total_testosterone": 520.0}  # the censored LH left out
    lh = next(p for p in out["labs"] if p["analyte"] == "lh")
    assert lh["t_h"] == pytest.approx((31 + 29) * 24)
    assert lh["censor"] == "<"
    assert out["start_h"] == pytest.approx(lh["t_h"] + 24)  # the day after the last lab
    history, candidate = out["courses"]
    assert candidate["protocol"]["doses"][-1]["t_h"] == pytest.approx(out["start_h"] + 3 * 168)
    assert history["baseline"]["total_testosterone"] == pytest.approx(520.0, rel=0.02)
    _error(client.get("/api/patients/P-404"), 422, "patient")


def test_a_fit_job_individualises_forecasts_and_enables_a_plan(client: TestClient) -> None:
    client.post("/api/patients", json={"id": "F-1", "age_years": 40})
    _error(client.post("/api/patients/F-1/fit"), 422, "labs")  # nothing to fit yet
    _error(client.post("/api/patients/F-1/plan", json={"protocols": [SHORT]}), 422, "patient")
    client.post("/api/patients/F-1/doses", json={"protocol": {"text": "TC 100 mg im q7d x 6w"},
                                                 "start": "2024-01-08"})
    labs = [{"taken_at": "2024-01-02", "analyte": "T", "value": 450, "unit": "ng/dL"},
            {"taken_at": "2024-02-12", "analyte": "LH", "value": 0.5, "unit": "IU/L"}]
    client.post("/api/patients/F-1/labs", json={"labs": labs})
    job = _wait(client, client.post("/api/patients/F-1/fit").json()["id"])
    assert job["status"] == "done", job
    fit = job["result"]
    assert [p["name"] for p in fit["parameters"]]  # the fitter's choice of parameters
    for p in fit["parameters"]:
        assert p["low"] <= p["median"] <= p["high"]
    assert [pt["analyte"] for pt in fit["points"]] == ["total_testosterone", "lh"]
    forecast = client.post("/api/patients/F-1/forecast", json={}).json()
    assert forecast["fitted"] is True
    assert forecast["baseline_labs"] == {}
    job = _wait(client, client.post("/api/patients/F-1/plan", json={
        "protocols": [SHORT], "n_draws": 10}).json()["id"])
    assert job["status"] == "done", job
    (candidate,) = job["result"]["forecasts"]
    assert candidate["name"] == "Short TC"
    assert candidate["n_draws"] <= 10
    band = candidate["bands"]["total_testosterone"]
    assert len(band["p50"]) == len(candidate["times_h"])
    assert 0.0 <= candidate["p_T300"] <= 1.0
    too_many = client.post("/api/patients/F-1/plan", json={"protocols": [SHORT],
                                                           "n_draws": 10_000})
    _error(too_many, 422, "n_draws")


# --- security, limits, errors, CLI -------------------------------------------------------------

def test_a_token_guards_every_api_call_but_not_the_page(tmp_path: Path) -> None:
    token = "correct-horse-battery"
    app = create_app(Settings(host="0.0.0.0", token=token, patients=False, warm_up=False))
    with TestClient(app, base_url="http://lab.example:8000") as c:
        _error(c.get("/api/meta"), 401, "token")
        _error(c.get("/api/meta", headers={"Authorization": "Bearer nope"}), 401, "token")
        ok = c.get("/api/meta", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert ok.json()["auth"] is True
        assert ok.json()["patients"] is False
        page = c.get("/")
        assert page.status_code == 200
        assert "not medical" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]


def test_without_a_token_only_loopback_host_names_are_answered(client: TestClient) -> None:
    _error(client.get("/api/meta", headers={"Host": "evil.example"}), 421, "host")
    assert client.get("/api/meta", headers={"Host": "localhost:8000"}).status_code == 200


def test_settings_refuse_an_open_address_without_a_token() -> None:
    with pytest.raises(InputError, match="token"):
        Settings(host="0.0.0.0")
    with pytest.raises(InputError, match="shorter"):
        Settings(host="0.0.0.0", token="short")
    assert Settings(host="::1").url == "http://[::1]:8000/"


def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with _client(tmp_path, rate_per_minute=3, patients=False) as c:
        codes = [c.get("/api/examples").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/api/examples")
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/").status_code == 200  # the page itself is not rate limited


def test_rate_limiter_refills_over_time() -> None:
    limiter = RateLimiter(per_minute=60)
    assert all(limiter.take("a", now=0.0) == 0.0 for _ in range(60))
    assert limiter.take("a", now=0.0) == pytest.approx(1.0)
    assert limiter.take("a", now=1.0) == 0.0
    assert limiter.take("b", now=0.0) == 0.0


def test_unknown_routes_and_methods_answer_json(client: TestClient) -> None:
    _error(client.get("/api/nothing"), 404, "")
    _error(client.put("/api/simulate"), 405, "")


def test_the_openapi_spec_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/meta", "/api/drugs", "/api/examples", "/api/examples/{example_id}",
            "/api/protocol", "/api/simulate", "/api/simulate.csv", "/api/compare", "/api/cohort",
            "/api/jobs/{job_id}", "/api/patients", "/api/patients/{patient_id}",
            "/api/patients/{patient_id}/labs", "/api/patients/{patient_id}/doses",
            "/api/patients/{patient_id}/forecast", "/api/patients/{patient_id}/fit",
            "/api/patients/{patient_id}/plan"} <= set(paths)


def test_static_files_are_served_by_the_app(client: TestClient) -> None:
    page = client.get("/").text
    assert 'src="/static/js/app.js"' in page
    assert "http" not in page.split("<body>")[0]
    for path in ("/static/js/app.js", "/static/js/chart.js", "/static/style.css"):
        assert client.get(path).status_code == 200


def test_rounded_keeps_significant_digits_and_nulls_non_finite() -> None:
    assert rounded([123.456789, 0.000123456]) == [123.46, 0.0]
    assert rounded([1.0, float("nan")]) == [1.0, None]
    assert rounded([0.0, 0.0]) == [0.0, 0.0]


def test_serve_needs_a_token_off_loopback_and_prints_the_address(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(serve_command, ["--host", "0.0.0.0"])
    assert refused.exit_code != 0
    assert "token" in str(refused.exception)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append(kw))
    ok = runner.invoke(serve_command, ["--port", "8123", "--db", str(tmp_path / "p.sqlite")])
    assert ok.exit_code == 0, ok.output
    assert "http://127.0.0.1:8123/" in ok.output
    assert calls == [{"host": "127.0.0.1", "port": 8123, "log_level": "warning"}]

"""The page in headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright): build
a protocol, run it, switch units, compare two protocols, add a lab and see it plotted, follow
the feedback loop, restore a share link, download CSV and PNG, and check the numbers shown
against the API. A screenshot of each view is saved under the test's tmp dir.

Needs: ``apt-get install chromium`` and ``pip install 'hpgsim[web]'`` (Playwright's Python
package; its own browser download is not used)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'hpgsim[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'hpgsim[web]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (web extra)")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium: apt-get install -y chromium", allow_module_level=True)

from hpgsim.web.app import create_app  # noqa: E402
from hpgsim.web.settings import Settings  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000
expect = sync_api.expect
expect.set_options(timeout=TIMEOUT_MS)
Page = Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(**settings: Any) -> Iterator[str]:
    """The app on a free loopback port in a thread; yields its address."""
    port = _free_port()
    app = create_app(Settings(port=port, **settings))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("browser") / "patients.sqlite"
    with _serving(db=str(db)) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error"
          and not m.text.startswith("Failed to load resource") else None)  # 4xx: tested
    yield pg
    context.close()
    assert errors == []


def _number(text: str) -> float:
    return float(text.split()[0])


def _cell(pg: Page, table: str, key: str, col: int = 0) -> str:
    return str(pg.inner_text(f'#{table} td[data-row="{key}"][data-col="{col}"]'))


def _api(server: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{server}{path}", json=body, timeout=120)
    r.raise_for_status()
    return dict(r.json())


def _settle(pg: Page, text: str) -> None:
    expect(pg.locator("#status")).to_contain_text(text)


def test_build_run_switch_units_band_and_downloads(page: Page, server: str,
                                                   tmp_path: Path) -> None:
    pg = page
    pg.goto(server)
    pg.wait_for_selector("#plan-charts .chart svg")
    assert "not medical advice" in pg.inner_text("#disclaimer")
    # build: a new protocol of one 6-week phase of hCG, 2000 IU twice a week
    pg.click("#protocol-new")
    pg.fill("#protocol-name", "hCG only")
    phase = pg.locator(".phase").first
    phase.get_by_label("phase duration").fill("6 w")
    phase.get_by_label("drug", exact=True).select_option("hcg")
    phase.get_by_label("dose", exact=True).fill("2000")
    phase.get_by_label("schedule").fill("2x/w")
    pg.get_by_label("follow-up").fill("4 w")
    expect(pg.locator("#protocol-preview")).to_contain_text("hcg 2000 IU")
    pg.click("#run")
    _settle(pg, "Simulated")
    spec = {"name": "hCG only", "phases": [{"name": "Treatment", "duration": "6 w", "drugs": [
        {"drug": "hcg", "dose": "2000 IU", "route": "sc", "every": "2x/w"}]}], "follow_up": "4 w"}
    api = _api(server, "/api/simulate", {"protocol": spec, "subject": {
        "age_years": 35, "weight_kg": 85, "condition": "healthy", "ancestry": "non_asian"}})
    rows = {r["key"]: r["cells"][0] for r in api["table"]}
    nadir_lh = rows["nadir_lh"]["value"]
    assert _number(_cell(pg, "plan-table", "nadir_lh")) == pytest.approx(nadir_lh, rel=5e-3)
    end_t = rows["end_total_testosterone"]["value"]
    shown = _number(_cell(pg, "plan-table", "end_total_testosterone"))
    assert shown == pytest.approx(end_t, rel=5e-3)
    assert pg.locator("#plan-charts .chart").count() == 7
    assert pg.locator("#plan-charts line.dose").count() > 0
    pg.screenshot(path=str(tmp_path / "plan.png"), full_page=True)

    # units per analyte: T in nmol/L, in the table, the axis and the hover read-out
    pg.select_option('select[data-analyte="total_testosterone"]', "nmol/L")
    shown = _number(_cell(pg, "plan-table", "end_total_testosterone"))
    assert shown == pytest.approx(end_t / 28.84, rel=5e-3)
    assert "(nmol/L)" in pg.inner_text('tr[data-row="end_total_testosterone"]')
    assert "(pg/mL)" in pg.inner_text('tr[data-row="end_estradiol"]')  # E2 unchanged
    chart = '.chart[data-analyte="total_testosterone"]'
    pg.hover(f"{chart} rect.hit", position={"x": 300, "y": 60})
    tip = pg.inner_text(f"{chart} .tooltip")
    assert "hCG only:" in tip
    assert "nmol/L" in tip

    # cohort band as a background job with progress
    pg.fill("#cohort-size", "20")
    pg.click("#cohort-run")
    pg.wait_for_selector("#plan-charts path.band")
    assert "20 virtual men" in pg.inner_text("#cohort-note")

    # downloads: CSV with the chosen unit, PNG of the plots
    with pg.expect_download() as csv:
        pg.click("#csv")
    header = Path(csv.value.path()).read_text().splitlines()[0]
    assert header.startswith("time_h,time_d,total_testosterone_nmol_L,")
    with pg.expect_download() as png:
        pg.click("#png")
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the share link restores protocols, units and view in a fresh page
    url = pg.url
    other = pg.context.new_page()
    other.goto(url)
    other.wait_for_selector('td[data-row="end_total_testosterone"]')
    assert other.input_value('select[data-analyte="total_testosterone"]') == "nmol/L"
    assert other.locator("#protocol-tabs .chip").count() == 2
    assert other.inner_text('#protocol-tabs [aria-pressed="true"]') == "hCG only"
    other.close()


def test_compare_loop_patients_and_drugs(page: Page, server: str, tmp_path: Path) -> None:
    pg = page
    pg.goto(server)
    pg.wait_for_selector("#plan-charts .chart svg")
    # two protocols in the compact text form
    texts = ["TC 150 mg im q7d x 8w; then observe 8w", "TE 250 mg im q14d x 8w; then observe 8w"]
    for name, text in zip(("weekly TC", "biweekly TE"), texts, strict=True):
        pg.click("#protocol-new")
        pg.fill("#protocol-name", name)
        pg.check('input[name="mode"][value="text"]')
        pg.fill("#protocol-text", text)
    pg.click("#tab-compare")
    _settle(pg, "Compared 3")  # entering the view compares every protocol
    pg.click('#compare-pick [data-index="0"]')  # leave the example out
    pg.click("#compare-run")
    _settle(pg, "Compared 2")
    assert pg.locator('#compare-charts .chart[data-analyte="lh"] path.curve').count() == 2
    api = _api(server, "/api/compare", {"protocols": [
        {"name": "weekly TC", "text": texts[0]}, {"name": "biweekly TE", "text": texts[1]}],
        "subject": {"age_years": 35, "weight_kg": 85, "condition": "healthy",
                    "ancestry": "non_asian"}})
    lh = next(r for r in api["table"] if r["key"] == "recovery_lh")
    for col in (0, 1):
        shown = _cell(pg, "compare-table", "recovery_lh", col)
        assert _number(shown) == pytest.approx(lh["cells"][col]["value"], rel=5e-3)
    pg.screenshot(path=str(tmp_path / "compare.png"), full_page=True)

    # the feedback loop at week 4 of weekly TC: suppressed GnRH, the androgen in the blood
    pg.click("#tab-loop")
    pg.select_option("#loop-protocol", "1")
    pg.wait_for_selector('#loop-diagram [data-drug="testosterone_cypionate"]')
    pg.fill("#loop-time", "4")
    pg.dispatch_event("#loop-time", "input")
    assert pg.inner_text("#loop-week") == "4"
    gnrh = _number(pg.inner_text('#loop-table tr[data-signal="gnrh_signal"] td:nth-child(3)'))
    assert gnrh < 0.5
    pg.screenshot(path=str(tmp_path / "loop.png"), full_page=True)

    # a patient: record weekly TC as given, add a lab, see it on the LH chart
    pg.click("#tab-patients")
    pg.click("#patients-on summary")
    pg.fill('#patient-new [name="id"]', "B-1")
    pg.click("#patient-new button")
    pg.wait_for_selector("#patient-detail:not([hidden])")
    pg.select_option('#dose-new [name="protocol"]', "1")
    pg.fill('#dose-new [name="start"]', "2024-01-01")
    pg.click("#dose-new button")
    expect(pg.locator("#dose-summary")).to_have_text(re.compile(r"^8 doses"))
    pg.fill('#lab-new [name="taken_at"]', "2024-02-01")
    pg.select_option('#lab-new [name="analyte"]', "lh")
    pg.fill('#lab-new [name="value"]', "0.4")
    pg.click("#lab-new button")
    pg.wait_for_selector('#patient-charts .chart[data-analyte="lh"] circle.lab')
    assert "0.4" in pg.inner_text("#lab-table")
    pg.screenshot(path=str(tmp_path / "patients.png"), full_page=True)

    # the drug catalog
    pg.click("#tab-drugs")
    pg.wait_for_selector("#drug-table tbody tr")
    rows = httpx.get(f"{server}/api/drugs").json()
    assert pg.locator("#drug-table tbody tr").count() == len(rows)
    pg.screenshot(path=str(tmp_path / "drugs.png"), full_page=True)


def test_bad_input_shows_the_field_and_the_fix(page: Page, server: str) -> None:
    pg = page
    pg.goto(server)
    pg.wait_for_selector("#plan-charts .chart svg")
    pg.check('input[name="mode"][value="text"]')
    pg.fill("#protocol-text", "TC 150 q7d x 4w")
    expect(pg.locator("#protocol-error")).to_contain_text("Fix:")
    assert pg.inner_text("#protocol-error").startswith("protocol.text:")
    pg.fill('#subject [name="age_years"]', "7")
    pg.fill("#protocol-text", "TC 150 mg q7d x 4w")
    pg.click("#run")
    expect(pg.locator("#subject-error")).to_contain_text("subject.age_years")


def test_with_a_token_the_page_asks_for_it_once(page: Page) -> None:
    token = "a-long-enough-token"
    with _serving(token=token, patients=False, warm_up=False) as address:
        page.goto(address)
        page.wait_for_selector("#token-dialog[open]")
        page.fill("#token-input", token)
        page.click("#token-dialog button")
        page.wait_for_selector("#plan-charts .chart svg")
        assert httpx.get(f"{address}/api/meta").status_code == 401

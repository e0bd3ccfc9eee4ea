"""The data centre in Chromium over the demo data: the public summary for everyone (and its figures
on the home page), the staff dashboard after signing in, filters and the CSV export; the figures
shown equal counts taken straight from the server's SQLite file, every chart draws a canvas, and
the page's CSP is never violated (hovering included: tooltips render on the canvas)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from typing import Any, Iterator

import pytest

from tests.support.page_wait import wait_js

from .conftest import ARTIFACTS, BrowserFactory, RunningServer, server_env, start_accord_server
from .test_csp import RECORD_VIOLATIONS

PASSWORD = "demo password for the data centre"
CHARTS = ("chart-types", "chart-outcomes", "chart-steps", "chart-months", "chart-step-times")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, Any]]]:
    data_dir = tmp_path_factory.mktemp("datacentre-data")
    summary = json.loads(subprocess.run(
        [sys.executable, "-m", "signaling.cli", "--data-dir", str(data_dir), "demo", "load", "--cases", "40",
         "--mediators", "8", "--parties", "6", "--signed", "3", "--seed", "7", "--password", PASSWORD, "--json"],
        cwd=data_dir, env=server_env(), check=True, capture_output=True, text=True, timeout=240).stdout)
    with start_accord_server(data_dir, "datacentre-server.log") as server:
        yield server, summary


def sql(server: RunningServer, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.data_dir / "accord.sqlite3") as db:
        return db.execute(query, params).fetchall()


def kpi(page: Any, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"] strong').inner_text()


def wait_ready(page: Any) -> None:
    wait_js(page, "document.body.dataset.state === 'ready'", timeout=20000)


def charts_drawn(page: Any) -> None:
    for chart in CHARTS:
        assert page.locator(f"#{chart} canvas").count() >= 1, chart


def hover_charts(page: Any) -> None:
    for chart in CHARTS:
        box = page.locator(f"#{chart}").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(150)


def test_public_summary_and_home_page(demo_server: tuple[RunningServer, dict[str, Any]],
                                      browsers: BrowserFactory) -> None:
    server, _ = demo_server
    ((total, settled),) = sql(server, "SELECT COUNT(*), SUM(outcome = 'settled') FROM med_cases")
    context = browsers.launch()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{server.base_url}/datacentre.html")
    wait_ready(page)
    assert page.evaluate("document.body.dataset.audience") == "public"
    assert (kpi(page, "total"), kpi(page, "settled")) == (str(total), str(settled))
    assert page.locator("#mediators-card").is_hidden() and page.locator("#exports").is_hidden()
    charts_drawn(page)
    hover_charts(page)
    page.screenshot(path=str(ARTIFACTS / "datacentre-public.png"), full_page=True)
    assert (ARTIFACTS / "datacentre-public.png").stat().st_size > 20_000
    assert page.evaluate("window.__csp") == []

    page.goto(f"{server.base_url}/")
    wait_js(page, "document.querySelectorAll('#summary-figures dd').length === 3")
    assert page.locator("#summary-figures dd").first.inner_text() == str(total)
    page.click("#open-datacentre")
    wait_ready(page)
    browsers.close(context)


def sign_in(page: Any, server: RunningServer, channel: str, login: str) -> None:
    page.goto(f"{server.base_url}/cases.html")
    page.click(f'[data-channel="{channel}"]')
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.locator("#who").wait_for(state="visible")


def test_staff_dashboard_filters_and_export(demo_server: tuple[RunningServer, dict[str, Any]],
                                            browsers: BrowserFactory) -> None:
    server, summary = demo_server
    context = browsers.launch()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    sign_in(page, server, "admin", summary["accounts"]["by_role"]["platform_admin"][0])
    assert page.locator('#nav a[href="/datacentre.html"]').is_visible()
    page.click('#nav a[href="/datacentre.html"]')
    wait_ready(page)
    assert page.evaluate("document.body.dataset.audience") == "staff"
    ((total,),) = sql(server, "SELECT COUNT(*) FROM med_cases")
    assert kpi(page, "total") == str(total)
    ((chosen,),) = sql(server, "SELECT COUNT(DISTINCT mediator_id) FROM med_mediator_choices")
    assert page.locator("#mediators tbody tr").count() == chosen
    ((organisations,),) = sql(server, "SELECT COUNT(DISTINCT organisation) FROM med_cases WHERE organisation IS NOT NULL")
    assert page.locator("#organisations tbody tr").count() == organisations
    charts_drawn(page)
    hover_charts(page)
    page.screenshot(path=str(ARTIFACTS / "datacentre-staff.png"), full_page=True)
    assert (ARTIFACTS / "datacentre-staff.png").stat().st_size > 20_000

    # Filter by the commonest dispute type: the totals follow, and so does the address.
    ((kind, of_kind),) = sql(server, "SELECT dispute_type, COUNT(*) FROM med_cases GROUP BY dispute_type "
                                     "ORDER BY COUNT(*) DESC, dispute_type LIMIT 1")
    page.select_option('select[name="dispute_type"]', kind)
    page.click('#filters button[type="submit"]')
    wait_js(page, f"document.querySelector('[data-kpi=\"total\"] strong')?.textContent === '{of_kind}'")
    wait_ready(page)
    assert f"dispute_type={kind}" in page.url

    # The CSV export of the filtered mediators table, fetched with the page's session.
    href = page.locator('#exports a[data-table="types"]').get_attribute("href")
    response = context.request.get(server.base_url + href)
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert [(r["dispute_type"], int(r["cases"])) for r in rows] == [(kind, of_kind)]
    assert page.evaluate("window.__csp") == []
    browsers.close(context)


def test_a_mediator_sees_their_own_figures(demo_server: tuple[RunningServer, dict[str, Any]],
                                           browsers: BrowserFactory) -> None:
    server, summary = demo_server
    logins = summary["accounts"]["by_role"]["mediator"]
    ((login, mine),) = sql(server, "SELECT a.login, COUNT(c.id) FROM med_accounts a JOIN med_cases c ON c.mediator_id = a.id "
                                   f"WHERE a.login IN ({','.join('?' * len(logins))}) GROUP BY a.login "
                                   "ORDER BY COUNT(c.id) DESC, a.login LIMIT 1", *logins)
    context = browsers.launch()
    page = context.new_page()
    sign_in(page, server, "mediator", login)
    page.goto(f"{server.base_url}/datacentre.html")
    wait_ready(page)
    assert kpi(page, "total") == str(mine)
    assert page.locator("#mediators tbody tr").count() == 1 and page.locator("#organisations-card").is_hidden()
    browsers.close(context)
